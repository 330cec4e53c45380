"""Settings read from the environment (prefix PROVOCAST_), shared by the CLI, jobs and service."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROVOCAST_", extra="ignore")

    # SQLite file in the working directory by default; any SQLAlchemy URL
    # (postgresql+psycopg://user:pass@host/db) switches the store.
    database_url: str = "sqlite:///provocast.db"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    # Bearer token for write endpoints; with none set, every write is refused.
    api_token: str | None = None
    random_seed: int = 20240410
    forecast_samples: int = 4000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
