"""Settings read from the environment (prefix PROVOCAST_), shared by the CLI, jobs and service."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from forecasting.domain.window import WindowSpec

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROVOCAST_", extra="ignore")

    # SQLite file in the working directory by default; any SQLAlchemy URL
    # (postgresql+psycopg://user:pass@host/db) switches the store.
    database_url: str = "sqlite:///provocast.db"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    # Bearer token for write endpoints; with none set, every write is refused.
    api_token: str | None = None
    # Retraining (`provocast retrain`, `provocast schedule`, POST /v1/models/retrain). Empty lists mean
    # every model / every event group; a narrower set makes a quicker (and weaker) version.
    training_models: str = ""  # comma-separated model names, e.g. "climatology,trailing_year"
    training_groups: str = ""  # comma-separated event groups, e.g. "weapons"
    backtest_since: date | None = None  # first backtest window; None: the engine's default
    backtest_workers: int = 0  # backtest processes; 0: one per core
    # A retrain lock whose heartbeat stops (the process was killed) is free after this many seconds;
    # on the same host it is free as soon as its process is gone.
    retrain_lock_seconds: float = 120.0
    # A retrain job started by the service is stopped, with its workers, after this many seconds.
    retrain_timeout_seconds: float = 7200.0
    # The window around an election that is forecast by default (the API) and recorded in the forecast ledger.
    default_days_before: int = 30
    default_days_after: int = 30
    # Sync (`provocast events sync`, the scheduled loop): the processed CSIS file the upstream repository
    # republishes daily, fetched with a timeout, a size cap and retries; a file that would remove more than this
    # share of the synced events is refused.
    sync_url: str = (
        "https://raw.githubusercontent.com/stiles/north-korea-provocations/main/"
        "data/processed/north_korea_provocations_1958_present.csv"
    )
    sync_timeout_seconds: float = Field(default=30.0, gt=0)
    sync_max_bytes: int = Field(default=20_000_000, ge=1)
    sync_retries: int = Field(default=3, ge=0, le=10)
    sync_backoff_seconds: float = Field(default=2.0, ge=0)
    sync_max_removed_share: float = Field(default=0.05, ge=0, le=1)
    # Freshness: a forecast whose history is older than this (days from coverage to today) carries a stale note.
    stale_after_days: int = Field(default=14, ge=0)

    @property
    def default_window(self) -> WindowSpec:
        return WindowSpec(self.default_days_before, self.default_days_after)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
