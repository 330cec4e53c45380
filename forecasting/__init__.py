"""Provocast's forecasting package: history, store, features, models, backtests, registry and CLI."""
