"""Two uvicorn processes against one PostgreSQL store, as two replicas would run.

They start on a store with no active version: exactly one trains it (the
retrain lock and the jobs table), both then serve it; a version promoted later
reaches both without a restart.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from forecasting import jobs
from forecasting.store.models import JobRow
from tests.conftest import install_artifact
from tests.service.conftest import FAST_TRAINING, TOKEN, seeded_store

pytestmark = pytest.mark.postgres
WAIT_SECONDS = 180  # upper bound on waits, not a performance target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def uvicorn(url: str, log: Path) -> Iterator[str]:
    """`uvicorn service.main:app` as the README runs it, on a free port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PROVOCAST_DATABASE_URL": url,
        "PROVOCAST_API_TOKEN": TOKEN,
        "PROVOCAST_REGISTRY_POLL_SECONDS": "0.5",
        "PROVOCAST_TRAIN_WHEN_EMPTY": "true",
        **{f"PROVOCAST_{k.upper()}": str(v) for k, v in FAST_TRAINING.items()},
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def ready_version(base: str) -> str | None:
    response = httpx.get(f"{base}/readyz", timeout=10)
    return response.json()["model"]["version"] if response.status_code == 200 else None


def test_two_processes_train_once_and_serve_the_same_versions(tmp_path: Path, trained_artifact: Path) -> None:
    with seeded_store("postgres", tmp_path / "store", artifact=None) as store, ExitStack() as processes:
        first = processes.enter_context(uvicorn(store.url, tmp_path / "first.log"))
        second = processes.enter_context(uvicorn(store.url, tmp_path / "second.log"))

        versions = [wait_for(lambda base=base: ready_version(base), f"{base} to be ready") for base in (first, second)]
        # Whichever started the training, the other waited for its version: one version, one successful job.
        assert versions[0] == versions[1]
        assert store.versions() == {versions[0]: "active"}
        with store.factory() as session:
            trained = [j for j in session.scalars(select(JobRow)) if j.status == jobs.SUCCEEDED and j.version_id]
        assert len(trained) == 1 and trained[0].version_id == versions[0]

        answers = [httpx.get(f"{base}/v1/forecasts/upcoming", timeout=10) for base in (first, second)]
        assert answers[0].status_code == answers[1].status_code == 200
        assert answers[0].content == answers[1].content

        newer = install_artifact(store.factory, trained_artifact)
        promoted_at = time.monotonic()
        for base in (first, second):
            wait_for(lambda base=base: ready_version(base) == newer.id, f"{base} to serve {newer.id}")
        print(f"both processes served the promoted version {time.monotonic() - promoted_at:.2f} s after promotion")
        answers = [httpx.get(f"{base}/v1/forecasts/upcoming", timeout=10).json() for base in (first, second)]
        assert answers[0] == answers[1] and answers[0]["version"] == newer.id
