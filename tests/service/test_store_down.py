"""The store going away and coming back: writes answer 503, forecasts go on from the loaded model.

SQLite: the directory holding the database file is moved away (new
connections cannot open it). PostgreSQL: the app reaches the server through
a loopback proxy that the test switches off (open connections are cut, new
ones refused), since the shared server cannot be stopped under other tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from forecasting.store.repository import get_event
from tests.service.conftest import Store, auth, running_app, seeded_store
from tests.service.tcp_proxy import TcpProxy

NEW_EVENT = {
    "date": "2026-09-20",
    "event_type": "artillery",
    "description": "Coastal artillery drill (test row).",
    "source": "https://example.org/test-source",
}


@contextmanager
def outage(backend: str, store: Store, directory: Path) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """(the URL the app uses, take the store down, bring it back)."""
    if backend == "sqlite":
        folder = directory / "store"
        away = directory / "store-away"
        yield store.url, lambda: folder.rename(away), lambda: away.rename(folder)
        return
    url = make_url(store.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy.stop, proxy.start
    finally:
        proxy.stop()


@pytest.fixture
def store_in_a_folder(backend: str, tmp_path: Path, trained_artifact: Path) -> Iterator[Store]:
    with seeded_store(backend, tmp_path / "store", trained_artifact) as store:
        yield store


def drop_pooled_connections(client: TestClient) -> None:
    # SQLite keeps an open file handle per pooled connection, which a moved folder does not affect;
    # a restarted process (or the pool recycling) would open the file again by name.
    client.app.state.provocast.engine.dispose()  # type: ignore[attr-defined]


def test_writes_answer_503_and_forecasts_go_on_while_the_store_is_down(
    backend: str, store_in_a_folder: Store, tmp_path: Path
) -> None:
    with outage(backend, store_in_a_folder, tmp_path) as (url, take_down, bring_back):
        with running_app(url) as client:
            forecast_before = client.get("/v1/forecasts/upcoming")
            assert forecast_before.status_code == 200 and client.get("/readyz").status_code == 200

            take_down()
            drop_pooled_connections(client)

            write = client.post("/v1/events", json=NEW_EVENT, headers=auth())
            assert write.status_code == 503, write.text
            error = write.json()["error"]
            assert error["code"] == "store_unavailable" and error["message"].startswith("the store is unavailable (")
            assert "forecasts are still served from the loaded model" in error["message"]
            assert write.headers["retry-after"] == "5"
            assert "Traceback" not in write.text and "provocast:provocast" not in write.text
            retrain = client.post("/v1/models/retrain", headers=auth())
            assert retrain.status_code == 503 and retrain.json()["error"]["code"] == "store_unavailable"
            assert client.post("/v1/events", json=NEW_EVENT).status_code == 401  # auth needs no store

            assert client.get("/v1/forecasts/upcoming").content == forecast_before.content
            election = forecast_before.json()["items"][0]["election"]["id"]
            assert client.get(f"/v1/elections/{election}/forecast").status_code == 200
            assert client.get("/v1/backtests").status_code == 200
            assert client.get("/v1/events").status_code == 503
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503 and "the store is unreachable" in not_ready.json()["error"]["message"]
            assert not_ready.json()["checks"]["model"]["version"] == forecast_before.json()["version"]
            assert client.get("/healthz").status_code == 200

            bring_back()

            assert client.get("/readyz").status_code == 200
            added = client.post("/v1/events", json=NEW_EVENT, headers=auth())
            assert added.status_code == 201, added.text
    with store_in_a_folder.factory() as session:
        assert get_event(session, added.json()["id"]) is not None


def test_starting_while_the_store_is_down_is_not_ready_until_it_returns(
    backend: str, store_in_a_folder: Store, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip(
            "a SQLite store cannot be down at start: opening it creates the file (the app then says it needs migrating)"
        )
    with outage(backend, store_in_a_folder, tmp_path) as (url, take_down, bring_back):
        take_down()
        with running_app(url) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert "no model loaded: the store cannot be read" in ready.json()["error"]["message"]
            assert client.get("/v1/forecasts/upcoming").status_code == 503

            bring_back()

            deadline = time.monotonic() + 60
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the app did not load the model after the store returned"
                time.sleep(0.1)
            assert client.get("/v1/forecasts/upcoming").status_code == 200
