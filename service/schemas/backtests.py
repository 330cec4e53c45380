"""Backtest bodies: per past window, what each model forecast beforehand and what happened."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class BacktestSummaryRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    horizon: int
    group: str
    model: str
    windows: int
    with_event: int
    mean_probability: float | None
    brier: float | None
    log_loss: float | None
    brier_skill_vs_climatology: float | None
    brier_skill_vs_trailing_year: float | None
    coverage_80: float | None
    coverage_95: float | None


class BacktestForecast(BaseModel):
    """Built from a backtest report's `ForecastRow` (`model_validate(row)`)."""

    model_config = ConfigDict(from_attributes=True)

    model: str
    cutoff: dt.date
    probability_any: float
    expected_count: float
    election_effect: float | None
    brier: float
    log_loss: float
    replaced_by_climatology: bool = Field(validation_alias="replaced")


class BacktestWindow(BaseModel):
    window_id: str
    group: str = Field(examples=["kr_legislative"])
    election_id: str | None
    election_date: dt.date | None
    start: dt.date
    end: dt.date
    horizon_days: int
    observed_count: int = Field(description="What happened: events in the window.")
    forecasts: list[BacktestForecast] = Field(description="What each model said, from data up to its cutoff.")


class Backtests(BaseModel):
    version: str
    data_cutoff: dt.date
    horizon_days: int | None
    summary: list[BacktestSummaryRow] = Field(description="Scores over all election windows, per model.")
    items: list[BacktestWindow]
