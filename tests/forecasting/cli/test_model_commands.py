"""`provocast retrain`, `provocast schedule` and `provocast models ...` on a seeded store.

Retrains fit climatology on the weapons group with a backtest from 2010
(PROVOCAST_TRAINING_* settings), so each takes a second or two.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.domain.records import read_events_csv
from forecasting.store import registry
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.retrain_lock import DatabaseLock
from tests.fixtures import shipped_seeds_dir

runner = CliRunner()
FAST_ENV = {
    "PROVOCAST_TRAINING_MODELS": "climatology",
    "PROVOCAST_TRAINING_GROUPS": "weapons",
    "PROVOCAST_BACKTEST_SINCE": "2010-01-01",
    "PROVOCAST_BACKTEST_WORKERS": "1",
    "PROVOCAST_SYNC_RETRIES": "0",
}


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def seeded_env(store_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(shipped_seeds_dir()))
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("seed").exit_code == 0
    return store_env


def versions(url: str) -> list[registry.ModelVersion]:
    engine = create_store_engine(url)
    try:
        with create_session_factory(engine)() as session:
            return registry.list_versions(session)
    finally:
        engine.dispose()


def test_retrain_prints_what_it_did_and_models_list_shows_it(seeded_env: str) -> None:
    result = invoke("retrain")

    assert result.exit_code == 0, result.output
    [version] = versions(seeded_env)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("holding the retrain lock")
    shipped = read_events_csv(shipped_seeds_dir() / "events.csv")
    last = max(e.date for e in shipped)
    assert f"history: {len(shipped)} events, cutoff {last}" in lines[1]
    assert f"stored candidate {version.id}" in result.stdout
    assert "promotion (auto): there is no active version yet" in result.stdout
    assert f"promoted {version.id}" in result.stdout and lines[-1].startswith("done in ")

    listed = invoke("models", "list")
    assert listed.exit_code == 0
    header, row = listed.stdout.splitlines()
    assert header.split()[:3] == ["version", "status", "cutoff"]
    assert row.split()[:4] == [version.id, "active", last.isoformat(), "climatology"]

    shown = invoke("models", "show", version.id)
    assert shown.exit_code == 0
    assert f"version        {version.id} (active)" in shown.stdout
    assert "backtest skill on election windows, 30 days ahead:" in shown.stdout


def test_never_then_promote_by_hand_and_roll_back(seeded_env: str) -> None:
    assert invoke("retrain").exit_code == 0
    kept = invoke("retrain", "--promote", "never", "--force")
    assert kept.exit_code == 0 and "kept as a candidate" in kept.stdout
    by_status = {v.status: v.id for v in versions(seeded_env)}

    promoted = invoke("models", "promote", by_status["candidate"])
    assert promoted.exit_code == 0
    assert promoted.stdout == f"promoted {by_status['candidate']} (retired {by_status['active']})\n"
    back = invoke("models", "promote", by_status["active"])
    assert back.stdout == f"promoted {by_status['active']} (retired {by_status['candidate']})\n"
    assert invoke("models", "promote", by_status["active"]).stdout == f"{by_status['active']} is already active\n"


def test_a_second_retrain_exits_3_while_one_holds_the_lock(seeded_env: str) -> None:
    engine = create_store_engine(seeded_env)
    try:
        with DatabaseLock(create_session_factory(engine), job_id="job-elsewhere"):
            result = invoke("retrain")
    finally:
        engine.dispose()

    assert result.exit_code == 3
    assert result.stderr.startswith("error: another retrain is running: process ")
    assert "for job job-elsewhere" in result.stderr and result.stderr.endswith("try again when it has finished\n")
    assert "Traceback" not in result.output
    assert versions(seeded_env) == []


def test_bad_input_exits_2_naming_the_field(seeded_env: str) -> None:
    future = invoke("retrain", "--cutoff", "2999-01-01")
    assert future.exit_code == 2 and future.stderr == "error: field 'cutoff': 2999-01-01 is in the future\n"
    not_a_date = invoke("retrain", "--cutoff", "2024-02-30")
    assert not_a_date.exit_code == 2 and "field 'cutoff': '2024-02-30' is not a calendar date" in not_a_date.stderr
    unknown = invoke("models", "show", "nope")
    assert unknown.exit_code == 2 and unknown.stderr == "error: no model version 'nope' in the registry\n"
    bad_cron = invoke("schedule", "--cron", "every night")
    assert bad_cron.exit_code == 2 and "field 'cron'" in bad_cron.stderr


def test_an_unmigrated_store_exits_1(store_env: str) -> None:
    result = invoke("retrain")
    assert result.exit_code == 1 and "run `provocast db upgrade`" in result.stderr


def test_if_no_active_trains_only_on_an_empty_registry(seeded_env: str) -> None:
    first = invoke("retrain", "--if-no-active")
    second = invoke("retrain", "--if-no-active")
    assert first.exit_code == 0 and second.exit_code == 0
    [version] = versions(seeded_env)
    assert f"version {version.id} is active; nothing to train (--if-no-active)" in second.stdout


def test_schedule_runs_sync_then_retrain_as_a_child_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {**os.environ, **FAST_ENV, "PROVOCAST_DATABASE_URL": url, "PROVOCAST_SEEDS_DIR": str(shipped_seeds_dir())}
    command = [sys.executable, "-m", "forecasting.cli"]
    for step in (["db", "upgrade"], ["seed"]):
        assert subprocess.run(command + step, env=env, capture_output=True, timeout=120).returncode == 0

    # Six fields: the last is seconds, so the first run is due within two seconds.
    done = subprocess.run(
        command + ["schedule", "--cron", "* * * * * */2", "--max-runs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("scheduling `provocast cycle --promote auto` at '* * * * * */2' (UTC)")
    assert "next run at" in out and "starting a run" in out
    # Nothing listens at the test's sync URL: the sync fails, the retrain still runs on the seeded history,
    # and the run reports the failed step with exit code 1.
    assert "sync failed:" in out and "run finished with exit code 1" in out
    [version] = versions(url)
    assert f"promoted {version.id}" in out and "sync: failed; retrain: promoted" in out


def test_prune_keeps_the_newest_the_active_and_the_cited(seeded_env: str, trained_artifact: Path) -> None:
    import time as clock

    from sqlalchemy import text

    from forecasting.store.db import write_transaction
    from tests.conftest import install_artifact

    engine = create_store_engine(seeded_env)
    factory = create_session_factory(engine)
    try:
        made = []
        for promote in (True, False, True, False, False):  # oldest first; the third is the active one
            made.append(install_artifact(factory, trained_artifact, promote=promote).id)
            clock.sleep(0.01)
        cited, plain_old, active, older_candidate, newest = made
        with write_transaction(factory) as session:
            session.execute(
                text(
                    "INSERT INTO forecast_ledger (version_id, election_id, election_date, country, kind, window_start, "
                    "window_end, event_group, model, data_cutoff, probability_any, expected_count, lower_80, upper_80, "
                    "lower_95, upper_95, climatology_probability_any, recorded_at) VALUES (:v, 'e', '2028-04-12', "
                    "'KR', 'legislative', '2028-03-13', '2028-05-12', 'weapons', 'climatology', '2026-08-20', 0.5, 1, "
                    "0, 2, 0, 3, 0.5, '2026-12-01 00:00:00')"
                ),
                {"v": cited},
            )
    finally:
        engine.dispose()
    dry = invoke("models", "prune", "--keep", "1", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert len(versions(seeded_env)) == 5
    result = invoke("models", "prune", "--keep", "1")
    assert result.exit_code == 0, result.output
    assert f"deleted {plain_old}" in result.stdout and f"deleted {older_candidate}" in result.stdout
    assert {v.id for v in versions(seeded_env)} == {cited, active, newest}
    assert invoke("models", "prune", "--keep", "0").exit_code == 0
    assert {v.id for v in versions(seeded_env)} == {cited, active}
