"""Alembic revisions for the store; run them with `provocast db upgrade` (see forecasting.store.migrations.runner)."""
