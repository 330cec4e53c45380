"""The service as it runs for real: a uvicorn process on a loopback port, and a store fingerprint.

Fault tests talk to a real server over real sockets (concurrent clients,
oversized and streamed bodies, a process to compare with the registry), not
to the in-process TestClient.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker

from forecasting.settings import PROJECT_ROOT
from tests.service.conftest import FAST_TRAINING, TOKEN

TRAINING_OVERRIDES = ("PROVOCAST_TRAINING_MODELS", "PROVOCAST_TRAINING_GROUPS", "PROVOCAST_BACKTEST_SINCE")
START_SECONDS = 180  # an upper bound for start-up on a busy 2-core machine, not a performance target


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(url: str, **settings: Any) -> dict[str, str]:
    """The environment of a server process: the test store, the test token, quick polls and quick retrains."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PROVOCAST_") or k in ("PROVOCAST_TEST_POSTGRES_URL",)
    }
    values: dict[str, Any] = {
        "database_url": url,
        "api_token": TOKEN,
        "registry_poll_seconds": 0.2,
        "train_when_empty": False,
        **FAST_TRAINING,
        **settings,
    }
    for name, value in values.items():
        if value is None:
            env.pop(f"PROVOCAST_{name.upper()}", None)
        else:
            env[f"PROVOCAST_{name.upper()}"] = str(value)
    return env


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def live_server(
    url: str, log_dir: Path, ready: str | None = "/healthz", wrapper: tuple[str, ...] = (), **settings: Any
) -> Iterator[LiveServer]:
    """`uvicorn service.main:app` on a free loopback port against the store at `url`, stopped (and its group) on exit.

    Yields once `ready` answers 200, or at once when `ready` is None (replicas that must start together).
    `wrapper` is a command the server is started through (e.g. setpriv, to run it without some capability).
    """
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=server_environment(url, **settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(process, port, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while ready is not None:
            assert process.poll() is None, (
                f"the server exited with code {process.returncode}:\n{server.output()[-3000:]}"
            )
            try:
                answer = httpx.get(server.base_url + ready, timeout=5)
                # /readyz: also wait for the version's after-serving work (it writes the ledger), so that tests
                # comparing the store before and after a request see only what the request did.
                if answer.status_code == 200 and (ready != "/readyz" or answer.json()["model"]["settled"]):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (
                f"the server did not answer {ready} with 200:\n{server.output()[-3000:]}"
            )
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def store_fingerprint(factory: sessionmaker[Session]) -> dict[str, str]:
    """A digest of every row of every table (the alembic bookkeeping aside): equal fingerprints, equal data."""
    with factory() as session:
        bind = session.get_bind()
        tables = sorted(t for t in inspect(bind).get_table_names() if t != "alembic_version")
        digests = {}
        for table in tables:
            rows = session.execute(text(f'SELECT * FROM "{table}"')).all()
            digests[table] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return digests
