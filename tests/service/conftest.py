"""Fixtures for the HTTP API: a seeded store with the run's trained model set active, and the real app on it.

Stores live as long as a test module (SQLite file or PostgreSQL schema) so
that the model is loaded once per module; tests that change what the app
serves or break the store make their own with `fresh_store`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from forecasting.store import registry
from forecasting.store.db import create_session_factory, create_store_engine, write_transaction
from forecasting.store.migrations.runner import upgrade_schema
from forecasting.store.seeding import seed_store
from service.main import create_app
from service.settings import ServiceSettings
from tests.conftest import install_artifact, new_store
from tests.fixtures import shipped_seeds_dir

TOKEN = "test-token-5f1c-9d2e-4b7a-81c3"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Quick retrains for tests that run one through the API: the same code path, fewer models and windows.
FAST_TRAINING = {
    "training_models": "climatology",
    "training_groups": "weapons",
    "backtest_since": "2010-01-01",
    "backtest_workers": 1,
}


@dataclass
class Store:
    url: str
    factory: sessionmaker[Session]
    active: registry.ModelVersion | None

    def versions(self) -> dict[str, str]:
        with self.factory() as session:
            return {v.id: v.status for v in registry.list_versions(session)}


@contextmanager
def seeded_store(backend: str, directory: Path, artifact: Path | None) -> Iterator[Store]:
    """A new store (see `new_store`), prepared by `prepared_store`."""
    with new_store(backend, directory) as url, prepared_store(url, artifact) as store:
        yield store


@contextmanager
def prepared_store(url: str, artifact: Path | None) -> Iterator[Store]:
    """The store at `url` migrated, seeded with the shipped seeds, and (given an artifact) with that model set active."""
    engine = create_store_engine(url)
    try:
        upgrade_schema(engine)
        factory = create_session_factory(engine)
        with write_transaction(factory) as session:
            seed_store(session, shipped_seeds_dir())
        active = install_artifact(factory, artifact) if artifact is not None else None
        yield Store(url, factory, active)
    finally:
        engine.dispose()


def settings_for(url: str, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "api_token": TOKEN,
        "registry_poll_seconds": 0.2,
        "train_when_empty": False,
        **FAST_TRAINING,
    }
    values.update(overrides)
    return ServiceSettings(**values)


WAIT_SECONDS = 120  # an upper bound on waits, not a performance target


@contextmanager
def running_app(url: str, **overrides: Any) -> Iterator[TestClient]:
    """The real app (lifespan included) on the store at `url`, with the served version already in the ledger."""
    with TestClient(create_app(settings_for(url, **overrides)), raise_server_exceptions=False) as client:
        client.app.state.provocast.holder.wait_after_serving(WAIT_SECONDS)  # type: ignore[attr-defined]
        yield client


def wait_for(condition: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    """Poll `condition` until it returns something truthy (returned), or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def store(backend: str, tmp_path_factory: pytest.TempPathFactory, trained_artifact: Path) -> Iterator[Store]:
    """A store shared by a module's tests (they must not change what is served)."""
    with seeded_store(backend, tmp_path_factory.mktemp("store"), trained_artifact) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    with running_app(store.url) as client:
        yield client


@pytest.fixture
def fresh_store(backend: str, tmp_path: Path, trained_artifact: Path) -> Iterator[Store]:
    """A store of the test's own, for tests that retrain, promote or break things."""
    with seeded_store(backend, tmp_path / "store", trained_artifact) as seeded:
        yield seeded
