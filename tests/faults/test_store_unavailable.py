"""The database going away under a running server, for real, and coming back.

PostgreSQL: a cluster of the test's own (pg_createcluster on a free port) is
stopped with pg_ctlcluster and started again, so the shared server of the
other tests is never touched. SQLite: the database file is made unreadable
(chmod 000; as root the server runs without the capabilities that let root
ignore file modes, through setpriv). While the store is away: /readyz answers 503 naming it, forecasts are
answered from the loaded model exactly as before, reads of the store and
writes answer 503 with a clear message; once it is back everything answers
again and a write is stored. (tests/service/test_store_down.py covers the
same through a proxy and a moved folder, in-process.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.repository import get_event
from tests.conftest import REQUIRE_POSTGRES_ENV
from tests.faults.live_server import free_port, live_server
from tests.service.conftest import auth, prepared_store, wait_for

EVENT = {
    "date": "2026-09-21",
    "event_type": "artillery",
    "description": "Coastal artillery drill (fault-test row).",
    "source": "https://example.org/test-source",
}


@dataclass
class Outage:
    url: str
    take_down: Callable[[], object]
    bring_back: Callable[[], object]
    wrapper: tuple[str, ...] = ()


@contextmanager
def own_postgres_cluster(artifact: Path) -> Iterator[Outage]:
    """A new PostgreSQL cluster on a free port (dropped at the end), seeded, with the artifact active."""
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=float) if os.path.isdir("/usr/lib/postgresql") else []
    if not versions or shutil.which("pg_createcluster") is None or os.geteuid() != 0:
        reason = "needs root and Debian's PostgreSQL cluster tools (pg_createcluster) to stop a server of its own"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    version, name, port = versions[-1], f"faults{os.getpid()}", free_port()
    ctl = ["pg_ctlcluster", version, name]
    subprocess.run(["pg_createcluster", version, name, "-p", str(port), "--start"], check=True, capture_output=True)
    try:
        for sql in ("CREATE ROLE provocast LOGIN PASSWORD 'provocast'", "CREATE DATABASE provocast OWNER provocast"):
            subprocess.run(
                ["su", "postgres", "-c", f'psql -p {port} -v ON_ERROR_STOP=1 -qc "{sql}"'],
                check=True,
                capture_output=True,
                cwd="/",
            )
        url = f"postgresql+psycopg://provocast:provocast@127.0.0.1:{port}/provocast"
        with prepared_store(url, artifact):  # migrated, seeded, the artifact active; then closed
            pass
        yield Outage(
            url, lambda: subprocess.run([*ctl, "stop"], check=True), lambda: subprocess.run([*ctl, "start"], check=True)
        )
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True)


@contextmanager
def unreadable_sqlite_file(artifact: Path) -> Iterator[Outage]:
    """A SQLite store whose file the test can make unreadable to the server."""
    directory = Path(tempfile.mkdtemp(prefix="provocast-faults-"))
    database = directory / "store.db"
    url = f"sqlite:///{database}"
    try:
        with prepared_store(url, artifact):  # migrated, seeded, the artifact active; then closed
            pass
        wrapper: tuple[str, ...] = ()
        if os.geteuid() == 0:  # root reads any file through CAP_DAC_OVERRIDE: serve without it
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv (util-linux): a file mode cannot stop root")
            wrapper = (
                "setpriv",
                "--bounding-set=-dac_override,-dac_read_search",
                "--inh-caps=-dac_override,-dac_read_search",
            )
        yield Outage(url, lambda: database.chmod(0o000), lambda: database.chmod(0o644), wrapper)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(request: pytest.FixtureRequest, trained_artifact: Path) -> Iterator[Outage]:
    maker = unreadable_sqlite_file if request.param == "sqlite" else own_postgres_cluster
    with maker(trained_artifact) as made:
        yield made


def test_while_the_store_is_away_forecasts_go_on_and_writes_are_503_then_all_recovers(
    outage: Outage,
) -> None:
    logs = Path(tempfile.mkdtemp(prefix="provocast-faults-logs-"))
    try:
        with (
            live_server(outage.url, logs, ready="/readyz", wrapper=outage.wrapper) as server,
            server.client() as client,
        ):
            forecasts = _forecast_requests(client)
            before = {path: _ask(client, ask).content for path, ask in forecasts.items()}
            version = client.get("/readyz").json()["model"]["version"]

            outage.take_down()
            try:
                ready = client.get("/readyz")
                assert ready.status_code == 503, ready.text
                assert "the store is unreachable" in ready.json()["error"]["message"]
                assert ready.json()["checks"]["model"]["version"] == version
                for path, ask in forecasts.items():
                    answer = _ask(client, ask)
                    assert answer.status_code == 200 and answer.content == before[path], (path, answer.text[:300])
                write = client.post("/v1/events", json=EVENT, headers=auth())
                assert write.status_code == 503, write.text
                error = write.json()["error"]
                assert error["code"] == "store_unavailable" and error["message"].startswith(
                    "the store is unavailable ("
                )
                assert "forecasts are still served from the loaded model" in error["message"]
                assert write.headers["retry-after"] == "5" and "Traceback" not in write.text
                assert client.get("/v1/events").status_code == 503
                assert client.get("/healthz").status_code == 200
            finally:
                outage.bring_back()

            wait_for(lambda: client.get("/readyz").status_code == 200, "/readyz once the store is back", seconds=60)
            added = client.post("/v1/events", json=EVENT, headers=auth())
            assert added.status_code == 201, added.text
            listed = client.get("/v1/events", params={"from": EVENT["date"], "to": EVENT["date"]}).json()
            assert [e["id"] for e in listed["items"]] == [added.json()["id"]]
            assert _ask(client, forecasts["/v1/forecasts/upcoming"]).content == before["/v1/forecasts/upcoming"]
    finally:
        shutil.rmtree(logs, ignore_errors=True)
    engine = create_engine(outage.url) if outage.url.startswith("postgresql") else create_store_engine(outage.url)
    try:
        with create_session_factory(engine)() as session:
            assert get_event(session, added.json()["id"]) is not None
    finally:
        engine.dispose()


def _forecast_requests(client: httpx.Client) -> dict[str, tuple[str, str, dict | None]]:
    upcoming = client.get("/v1/forecasts/upcoming").json()
    election = next(i["election"]["id"] for i in upcoming["items"] if i["forecast"])
    start = date.fromisoformat(upcoming["data_cutoff"]) + timedelta(days=40)
    window = {"start": start.isoformat(), "end": (start + timedelta(days=30)).isoformat()}
    return {
        "/v1/forecasts/upcoming": ("GET", "/v1/forecasts/upcoming", None),
        f"/v1/elections/{election}/forecast": ("GET", f"/v1/elections/{election}/forecast", None),
        "/v1/forecasts": ("POST", "/v1/forecasts", window),
        "/v1/backtests": ("GET", "/v1/backtests", None),
    }


def _ask(client: httpx.Client, ask: tuple[str, str, dict | None]) -> httpx.Response:
    method, path, body = ask
    return client.request(method, path, json=body)
