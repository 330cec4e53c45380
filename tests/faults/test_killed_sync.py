"""`provocast events sync` killed with SIGKILL at random points of its run: the store is as before, or fully synced.

Each run starts from a store synced with an older slice of the CSIS file and
syncs a newer one that adds, changes and removes rows. The delays are drawn
from a seeded generator over the length of a whole run (start-up, fetch,
mapping, the merge transaction). After each kill the events, the coverage and
the sync runs are either exactly as before or exactly as after a whole run.
"""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forecasting.lifecycle.syncing import SyncSource, sync
from forecasting.settings import PROJECT_ROOT, Settings
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.live.coverage import list_coverage
from forecasting.store.live.sync_runs import list_runs
from forecasting.store.migrations.runner import upgrade_schema
from forecasting.store.tables import EventRow
from tests.conftest import new_store
from tests.fixtures import FIXTURE_SEEDS, FIXTURES
from tests.fixtures.http_server import Reply, fixture_server

KILLS = 6
SEED = 20261202
SLICE = FIXTURES / "sync" / "csis-processed-2025-2026.csv"


def _files() -> tuple[bytes, bytes]:
    with SLICE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))

    def encode(chosen: list[list[str]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(chosen)
        return out.getvalue().encode()

    older = [r for r in rows if r[0] <= "2026-06-30"]
    newer = [list(r) for r in rows if r[0] != "2026-06-25"]  # new rows, one removed (1 of 38: under the share)
    newer[6][3] = "Edited upstream."
    return encode(older), encode(newer)


def _state(factory: sessionmaker[Session]) -> tuple[object, ...]:
    with factory() as session:
        events = tuple(
            (r.id, r.date, str(r.origin), r.description)
            for r in session.scalars(select(EventRow).order_by(EventRow.id))
        )
        coverage = tuple((c.source, c.through) for c in list_coverage(session))
        runs = tuple((r.outcome, r.rows_new, r.rows_removed) for r in list_runs(session, limit=100))
    return events, coverage, runs


def test_a_sync_killed_at_random_points_leaves_the_store_whole(backend: str, tmp_path: Path) -> None:
    older, newer = _files()
    with new_store(backend, tmp_path / "store") as url, fixture_server() as server:
        engine = create_store_engine(url)
        try:
            upgrade_schema(engine)
            factory = create_session_factory(engine)
            settings = Settings(seeds_dir=FIXTURE_SEEDS, sync_retries=0)
            server.serve(Reply(body=older))
            sync(factory, settings, SyncSource(url=server.url), say=lambda _: None)
            before = _state(factory)

            env = {
                **os.environ,
                "PROVOCAST_DATABASE_URL": url,
                "PROVOCAST_SEEDS_DIR": str(FIXTURE_SEEDS),
                "PROVOCAST_SYNC_URL": server.url,
                "PROVOCAST_SYNC_RETRIES": "0",
            }
            command = [sys.executable, "-m", "forecasting.cli", "events", "sync"]
            # A whole run's length: the shorter of two, since the other worker's load can stretch either one, and
            # kill moments drawn past the end of a quicker run kill nothing.
            lengths = []
            for attempt in range(2):
                if attempt:
                    _restore(factory, older, settings, server)
                server.serve(Reply(body=newer))
                started = time.monotonic()
                subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, check=True, timeout=120)
                lengths.append(time.monotonic() - started)
            whole = min(lengths)
            after = _state(factory)
            assert after[0] != before[0] and len(after[2]) == len(before[2]) + 3  # newer, older again, newer

            rng = random.Random(SEED)
            seen = []
            for delay in sorted(rng.uniform(0.2, 0.9) * whole for _ in range(KILLS)):
                _restore(factory, older, settings, server)
                assert _state(factory)[:2] == before[:2]
                runs_before = len(_state(factory)[2])
                process = subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                server.serve(Reply(body=newer))
                time.sleep(delay)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
                events, coverage, runs = _state(factory)
                whole_run = events == after[0] and coverage == after[1] and len(runs) == runs_before + 1
                untouched = events == before[0] and coverage == before[1] and len(runs) == runs_before
                assert whole_run or untouched, f"a sync killed after {delay:.2f} s left a partial store"
                seen.append("killed" if code == -signal.SIGKILL else f"exited {code}")
            assert "killed" in seen
        finally:
            engine.dispose()


def _restore(factory: sessionmaker[Session], older: bytes, settings: Settings, server) -> None:
    """Back to the older file: a sync of it removes what the newer one added (the share allows it here)."""
    server.serve(Reply(body=older))
    relaxed = settings.model_copy(update={"sync_max_removed_share": 1.0})
    sync(factory, relaxed, SyncSource(url=server.url), say=lambda _: None)
