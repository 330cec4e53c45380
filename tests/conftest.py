"""Shared fixtures: a real store (SQLite file and PostgreSQL), migrated from empty for each test.

PostgreSQL cases need PROVOCAST_TEST_POSTGRES_URL (see .ci/run). Each test
gets its own schema on that server (put first on the search path through the
URL), so tests stay independent and run in parallel under pytest-xdist.
Without the URL the PostgreSQL cases skip, unless PROVOCAST_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from forecasting.settings import get_settings
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.migrate import upgrade_schema
from tests.fixtures import FIXTURE_SEEDS

POSTGRES_URL_ENV = "PROVOCAST_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "PROVOCAST_REQUIRE_POSTGRES"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are cached per process; tests change the environment, so drop the cache around each."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        reason = f"{POSTGRES_URL_ENV} is not set, so there is no PostgreSQL server to test against (.ci/run sets it)"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store: a new SQLite file, or a new schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = postgres_base_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """An engine on an empty store (no tables yet)."""
    engine = create_store_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_engine(store_engine: Engine) -> Engine:
    upgrade_schema(store_engine)
    return store_engine


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    """Session factory on a store migrated to the latest revision."""
    return create_session_factory(migrated_engine)


@pytest.fixture
def store_env(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI (through Settings) at the test store and the fixture seeds."""
    monkeypatch.setenv("PROVOCAST_DATABASE_URL", store_url)
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(FIXTURE_SEEDS))
    return store_url
