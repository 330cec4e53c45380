"""Fixtures for the fault tests: a seeded store with the run's trained model set active, served by a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.live_server import LiveServer, live_server
from tests.service.conftest import BACKENDS, Store, seeded_store


@dataclass
class Served:
    store: Store
    server: LiveServer


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def served(backend: str, tmp_path_factory: pytest.TempPathFactory, trained_artifact: Path) -> Iterator[Served]:
    """One store and one server for a module whose tests leave what is served alone."""
    directory = tmp_path_factory.mktemp("served")
    with seeded_store(backend, directory / "store", trained_artifact) as store:
        with live_server(store.url, directory / "logs", ready="/readyz") as server:
            yield Served(store, server)
