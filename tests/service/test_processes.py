"""Two uvicorn processes against one PostgreSQL store, as two replicas would run.

They start on a store with no active version: exactly one trains it (the
retrain lock and the jobs table), both then serve it; a version promoted later
reaches both without a restart.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from forecasting.domain.vocabulary import JobStatus
from forecasting.store.tables import JobRow
from tests.conftest import install_artifact
from tests.faults.live_server import live_server
from tests.service.conftest import seeded_store, wait_for

pytestmark = pytest.mark.postgres
WAIT_SECONDS = 180  # upper bound on waits, not a performance target
REPLICA_SETTINGS = {"registry_poll_seconds": 0.5, "train_when_empty": True}


def ready_version(base: str) -> str | None:
    try:
        response = httpx.get(f"{base}/readyz", timeout=10)
    except httpx.HTTPError:  # not listening yet
        return None
    return response.json()["model"]["version"] if response.status_code == 200 else None


def test_two_processes_train_once_and_serve_the_same_versions(tmp_path: Path, trained_artifact: Path) -> None:
    with seeded_store("postgres", tmp_path / "store", artifact=None) as store, ExitStack() as processes:
        first, second = (
            processes.enter_context(live_server(store.url, tmp_path / name, ready=None, **REPLICA_SETTINGS)).base_url
            for name in ("first", "second")
        )

        versions = [
            wait_for(lambda base=base: ready_version(base), f"{base} to be ready", WAIT_SECONDS)
            for base in (first, second)
        ]
        # Whichever started the training, the other waited for its version: one version, one successful job.
        assert versions[0] == versions[1]
        assert store.versions() == {versions[0]: "active"}
        with store.factory() as session:
            trained = [j for j in session.scalars(select(JobRow)) if j.status == JobStatus.SUCCEEDED and j.version_id]
        assert len(trained) == 1 and trained[0].version_id == versions[0]

        answers = [httpx.get(f"{base}/v1/forecasts/upcoming", timeout=10) for base in (first, second)]
        assert answers[0].status_code == answers[1].status_code == 200
        assert answers[0].content == answers[1].content

        newer = install_artifact(store.factory, trained_artifact)
        promoted_at = time.monotonic()
        for base in (first, second):
            wait_for(lambda base=base: ready_version(base) == newer.id, f"{base} to serve {newer.id}", WAIT_SECONDS)
        print(f"both processes served the promoted version {time.monotonic() - promoted_at:.2f} s after promotion")
        answers = [httpx.get(f"{base}/v1/forecasts/upcoming", timeout=10).json() for base in (first, second)]
        assert answers[0] == answers[1] and answers[0]["version"] == newer.id
