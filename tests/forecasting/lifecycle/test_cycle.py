"""The scheduled loop (`provocast cycle`): sync, then retrain when the history changed; a job, logs and counters.

The sync fetches from a local HTTP server; the retrain fits climatology on the
weapons group only (seconds). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.vocabulary import JobStatus
from forecasting.lifecycle.cycle import CYCLE, run_cycle
from forecasting.lifecycle.syncing import SyncSource
from forecasting.settings import Settings
from forecasting.store import jobs, registry
from forecasting.store.db import write_transaction
from forecasting.store.live.coverage import history_through
from forecasting.store.seeding import seed_store
from tests.fixtures import FIXTURES, shipped_seeds_dir
from tests.fixtures.http_server import FixtureServer, Reply, fixture_server

SLICE = (FIXTURES / "sync" / "csis-processed-2025-2026.csv").read_bytes()


def settings(seeds_dir: Path) -> Settings:
    return Settings(
        seeds_dir=seeds_dir,
        training_models="climatology",
        training_groups="weapons",
        backtest_since=date(2010, 1, 1),
        backtest_workers=1,
        sync_retries=0,
        sync_timeout_seconds=2.0,
    )


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with fixture_server() as running:
        yield running


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """The shipped seeds with their sources re-cited, so that a sync of the 2025-2026 slice owns none of them.

    (A sync owns the seed rows citing CSIS; the slice would then remove most of the history.)
    """
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name in ("elections.csv", "exercises.csv"):
        shutil.copy(shipped_seeds_dir() / name, folder / name)
    text = (shipped_seeds_dir() / "events.csv").read_text(encoding="utf-8")
    (folder / "events.csv").write_text(text.replace('"CSIS Beyond', '"Curated from CSIS Beyond'), encoding="utf-8")
    return folder


@pytest.fixture
def store(sessions: sessionmaker[Session], seeds: Path) -> sessionmaker[Session]:
    with write_transaction(sessions) as session:
        seed_store(session, seeds)
    return sessions


def counted(step: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("provocast_cycle_steps_total", {"step": step, "outcome": outcome}) or 0.0


def versions(factory: sessionmaker[Session]) -> list[registry.ModelVersion]:
    with factory() as session:
        return registry.list_versions(session)


def test_a_changed_history_is_retrained_and_an_unchanged_one_is_not(store, seeds: Path, server: FixtureServer) -> None:
    server.serve(Reply(body=SLICE, etag='"a"'))
    before = counted("sync", "changed"), counted("retrain", "promoted"), counted("retrain", "skipped")
    said: list[str] = []

    first = run_cycle(store, settings(seeds), SyncSource(url=server.url), say=said.append)
    assert (first.sync_outcome, first.retrain_outcome, first.exit_code) == ("changed", "promoted", 0)
    (version,) = versions(store)
    with store() as session:
        assert history_through(session) == version.data_cutoff == date(2026, 8, 20)
        assert len(jobs.list_jobs(session)) == 1

    second = run_cycle(store, settings(seeds), SyncSource(url=server.url), say=said.append)
    assert (second.sync_outcome, second.retrain_outcome) == ("not_modified", "skipped")
    assert len(versions(store)) == 1
    assert counted("sync", "changed") == before[0] + 1
    assert (counted("retrain", "promoted"), counted("retrain", "skipped")) == (before[1] + 1, before[2] + 1)

    with store() as session:
        listed = jobs.list_jobs(session, kind=CYCLE)
    assert [j.id for j in listed] == [second.job_id, first.job_id]
    assert all(j.status == JobStatus.SUCCEEDED and j.exit_code == 0 for j in listed)
    assert listed[0].message == "sync: not_modified; retrain: skipped"
    assert "not modified since the last sync (HTTP 304)" in listed[0].output
    assert f"promoted {version.id}" in listed[1].output


def test_a_failed_sync_changes_nothing_and_the_retrain_step_still_runs(
    store, seeds: Path, server: FixtureServer
) -> None:
    server.serve(Reply(status=503, body=b"unavailable"))
    failed_before = counted("sync", "failed")
    result = run_cycle(store, settings(seeds), SyncSource(url=server.url), say=lambda line: None)
    assert result.sync_outcome == "failed" and result.retrain_outcome == "promoted" and result.exit_code == 1
    (version,) = versions(store)
    assert version.data_cutoff == date(2026, 8, 20)  # the seeds' coverage: nothing came in
    assert counted("sync", "failed") == failed_before + 1
    with store() as session:
        (job,) = jobs.list_jobs(session, kind=CYCLE)
    assert job.status == JobStatus.FAILED and job.message == "sync: failed; retrain: promoted"
    assert "HTTP 503" in job.output and "the next run tries again" in job.output

    server.serve(Reply(body=SLICE))  # the next run: the upstream is back
    retried = run_cycle(store, settings(seeds), SyncSource(url=server.url), say=lambda line: None)
    assert (retried.sync_outcome, retried.retrain_outcome) == ("changed", "promoted")


def test_a_cycle_left_running_by_a_dead_process_does_not_block_the_next(
    store, seeds: Path, server: FixtureServer
) -> None:
    with write_transaction(store) as session:
        stuck = jobs.create_job(session, CYCLE, {"source": "killed"})
        jobs.mark_running(session, stuck.id, pid=2**22 + 12345)  # no such process on this host
    server.serve(Reply(body=SLICE))
    result = run_cycle(store, settings(seeds), SyncSource(url=server.url), say=lambda line: None)
    assert result.sync_outcome == "changed"
    with store() as session:
        old = jobs.get_job(session, stuck.id)
    assert old is not None and old.status == JobStatus.FAILED and "stopped without finishing" in (old.message or "")
