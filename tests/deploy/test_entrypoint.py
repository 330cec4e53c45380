"""The image's entrypoint script, run for real outside a container against a real PostgreSQL server.

The image's executables (/opt/provocast/bin) are replaced by this virtualenv's;
everything else is what a container runs: the script, `provocast db upgrade`,
`provocast seed` with the shipped seeds, `provocast retrain`, and uvicorn
serving `service.main:app`, answering /healthz and the image's HEALTHCHECK.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forecasting.store import registry
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.migrations.runner import head_revision, upgrade_schema
from forecasting.store.seeding import seed_store
from forecasting.store.tables import EventRow
from tests.deploy.conftest import (
    SHIPPED_SEEDS,
    dockerfile_instructions,
    entrypoint_env,
    healthcheck_command,
    kill_group,
    run_entrypoint,
    start_entrypoint,
)

ON_POSTGRES = pytest.mark.parametrize(
    "store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
# A quick, narrow model version (one model, one event group, a short backtest), enough to serve from.
QUICK_TRAINING = {
    "PROVOCAST_TRAINING_MODELS": "climatology",
    "PROVOCAST_TRAINING_GROUPS": "weapons",
    "PROVOCAST_BACKTEST_SINCE": "2016-01-01",
    "PROVOCAST_BACKTEST_WORKERS": "1",
}
# Generous bounds for waits that normally take seconds; they only stop a broken start-up from hanging the suite.
START_UP_BOUND_SECONDS = 120


def shipped_event_count() -> int:
    with (SHIPPED_SEEDS / "events.csv").open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def stored_event_count(url: str) -> int:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(EventRow))
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# --- settings and command dispatch (no store needed) -----------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PROVOCAST_WORKERS", "0"),
        ("PROVOCAST_WORKERS", "two"),
        ("PROVOCAST_PORT", "80a"),
        ("PROVOCAST_STARTUP_WAIT_SECONDS", "-5"),
    ],
)
def test_serve_refuses_bad_settings_before_touching_the_store(
    setting: str, value: str, workdir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "never-created.db"
    result = run_entrypoint(["serve"], entrypoint_env(f"sqlite:///{store}", **{setting: value}), workdir)
    assert result.returncode == 2
    assert f"error: {setting} must be a whole number of at least 1, not '{value}'" in result.stderr
    assert not store.exists(), "nothing may run after a bad setting"


def test_retrain_scheduler_needs_a_schedule_and_hands_it_to_provocast_schedule(workdir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    empty = run_entrypoint(["retrain-scheduler"], entrypoint_env(url, PROVOCAST_RETRAIN_CRON=""), workdir)
    assert empty.returncode == 2 and "PROVOCAST_RETRAIN_CRON is empty" in empty.stderr
    invalid = run_entrypoint(["retrain-scheduler"], entrypoint_env(url, PROVOCAST_RETRAIN_CRON="61 * * * *"), workdir)
    assert invalid.returncode == 2
    assert "error: field 'cron': '61 * * * *' is not a valid cron expression" in invalid.stderr


def test_help_lists_the_commands_and_no_command_is_an_error(workdir: Path, tmp_path: Path) -> None:
    env = entrypoint_env(f"sqlite:///{tmp_path / 'store.db'}")
    shown = run_entrypoint(["help"], env, workdir)
    assert shown.returncode == 0
    for command in ("serve", "migrate", "retrain [OPTIONS]", "cycle [OPTIONS]", "retrain-scheduler", "anything else"):
        assert command in shown.stderr
    assert run_entrypoint([], env, workdir).returncode == 2


def test_any_other_command_runs_as_given_in_the_containers_environment(workdir: Path, tmp_path: Path) -> None:
    env = entrypoint_env(f"sqlite:///{tmp_path / 'store.db'}")
    code = "import os, sys; print(os.getcwd(), os.environ['PROVOCAST_SEEDS_DIR']); sys.exit(7)"
    result = run_entrypoint(["python", "-c", code], env, workdir)
    assert result.returncode == 7
    assert result.stdout.split() == [str(workdir), str(SHIPPED_SEEDS)]


# --- retrying store commands, with a stand-in `provocast` that fails on cue --------------------------------


def stand_in_provocast(directory: Path, fail_db_upgrade: list[int]) -> Path:
    """A `provocast` that logs each call and exits, for its Nth `db upgrade`, with fail_db_upgrade[N-1] (else 0)."""
    directory.mkdir()
    script = directory / "provocast"
    codes = " ".join(str(code) for code in fail_db_upgrade)
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{directory}/calls"\n'
        'if [ "$1 $2" = "db upgrade" ]; then\n'
        f'  n=$(grep -c "^db upgrade" "{directory}/calls")\n'
        f"  code=$(echo '{codes}' | awk -v n=\"$n\" '{{print $n}}')\n"
        '  exit "${code:-0}"\n'
        "fi\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return directory


def test_store_trouble_is_retried_until_it_clears(workdir: Path, tmp_path: Path) -> None:
    bin_dir = stand_in_provocast(tmp_path / "bin", fail_db_upgrade=[1])
    env = entrypoint_env("sqlite:///unused.db")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    result = run_entrypoint(["migrate"], env, workdir)
    assert result.returncode == 0, result.stderr
    assert (bin_dir / "calls").read_text().splitlines() == ["db upgrade", "db upgrade", "seed"]
    assert "'provocast db upgrade' failed with exit code 1 (store unreachable or busy); retrying" in result.stderr


def test_bad_input_is_not_retried(workdir: Path, tmp_path: Path) -> None:
    bin_dir = stand_in_provocast(tmp_path / "bin", fail_db_upgrade=[2])
    env = entrypoint_env("sqlite:///unused.db")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    result = run_entrypoint(["serve"], env, workdir)
    assert result.returncode == 2
    assert (bin_dir / "calls").read_text().splitlines() == ["db upgrade"], "no retry, no seed, no server"


def test_an_unreachable_store_fails_with_exit_1_once_the_wait_is_over(workdir: Path) -> None:
    url = f"postgresql+psycopg://provocast:secret@127.0.0.1:{free_port()}/provocast"
    result = run_entrypoint(["migrate"], entrypoint_env(url, PROVOCAST_STARTUP_WAIT_SECONDS="1"), workdir)
    assert result.returncode == 1
    assert "error: cannot open the store at postgresql+psycopg://provocast:***@127.0.0.1" in result.stderr
    assert "'provocast db upgrade' failed with exit code 1" in result.stderr
    assert "secret" not in result.stderr + result.stdout


# --- against PostgreSQL -------------------------------------------------------------------------------------


@ON_POSTGRES
def test_migrate_creates_the_tables_and_seeds_them(store_url: str, workdir: Path) -> None:
    result = run_entrypoint(["migrate"], entrypoint_env(store_url), workdir)
    assert result.returncode == 0, result.stderr
    assert f"upgraded from an empty database to revision {head_revision()}" in result.stdout
    assert f"events: inserted {shipped_event_count()}, updated 0, unchanged 0" in result.stdout
    assert stored_event_count(store_url) == shipped_event_count()


@ON_POSTGRES
def test_replicas_starting_at_once_both_come_up_on_one_store(store_url: str, workdir: Path) -> None:
    env = entrypoint_env(store_url)
    starts = [
        start_entrypoint(["migrate"], env, workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    try:
        outputs = [start.communicate(timeout=START_UP_BOUND_SECONDS) for start in starts]
    finally:
        for start in starts:
            kill_group(start)
    for start, (out, err) in zip(starts, outputs, strict=False):
        assert start.returncode == 0, f"{out}\n{err}"
    assert stored_event_count(store_url) == shipped_event_count()


def wait_for(port: int, path: str, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + START_UP_BOUND_SECONDS
    last = "no answer yet"
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited with {process.returncode}:\n{log.read_text()}"
        try:
            status, body = http_get(f"http://127.0.0.1:{port}{path}")
            if status == 200:
                return body
            last = f"{status} {body}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last = str(error)
        time.sleep(0.5)
    raise AssertionError(f"{path} never answered 200 (last: {last}):\n{log.read_text()}")


def run_healthcheck(port: int) -> int:
    """The image's HEALTHCHECK command, run by `sh -c` as Docker runs the shell form."""
    env = entrypoint_env("unused", PROVOCAST_PORT=str(port))
    command = healthcheck_command(dockerfile_instructions())
    return subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=30).returncode


@ON_POSTGRES
@pytest.mark.slow
def test_retrain_then_serve_the_way_the_deployment_starts(
    store_url: str, workdir: Path, served_after_retrain: tuple[subprocess.Popen, int, Path, str]
) -> None:
    process, port, log, promoted = served_after_retrain
    assert wait_for(port, "/healthz", process, log) == {"status": "ok"}
    # exec: the entrypoint's process became uvicorn, so a container's stop signal reaches the server itself.
    assert "uvicorn" in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().replace("\0", " ")
    assert run_healthcheck(port) == 0
    ready = wait_for(port, "/readyz", process, log)
    assert ready["model"]["version"] == promoted
    text = log.read_text()
    # serve migrates and seeds before uvicorn starts; on a store that is up to date that changes nothing.
    assert f"already at revision {head_revision()}" in text
    assert f"events: inserted 0, updated 0, unchanged {shipped_event_count()}" in text
    assert "with 1 worker(s)" in text
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down cleanly, then re-raises the signal it got, so the exit status may say SIGTERM.
    assert process.wait(timeout=30) in {0, -signal.SIGTERM}
    assert "Application shutdown complete" in log.read_text()
    assert run_healthcheck(port) != 0, "the health check must fail once the server is gone"


@pytest.fixture
def served_after_retrain(
    store_url: str, workdir: Path, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen, int, Path, str]]:
    """A migrated, seeded store; the CronJob's one-shot `retrain`; then `serve` (what a deployment does)."""
    engine = create_store_engine(store_url)
    try:
        upgrade_schema(engine)
        with create_session_factory(engine).begin() as session:
            seed_store(session, SHIPPED_SEEDS)
    finally:
        engine.dispose()
    retrained = run_entrypoint(["retrain"], entrypoint_env(store_url, **QUICK_TRAINING), workdir)
    assert retrained.returncode == 0, retrained.stdout + retrained.stderr
    engine = create_store_engine(store_url)
    try:
        with create_session_factory(engine)() as session:
            promoted = registry.active_version_id(session)
    finally:
        engine.dispose()
    assert promoted and f"promoted {promoted}" in retrained.stdout
    yield from _serve(store_url, workdir, tmp_path, promoted)


def _serve(
    store_url: str, workdir: Path, tmp_path: Path, promoted: str
) -> Iterator[tuple[subprocess.Popen, int, Path, str]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = entrypoint_env(
        store_url,
        PROVOCAST_HOST="127.0.0.1",
        PROVOCAST_PORT=str(port),
        PROVOCAST_WORKERS="1",
        **QUICK_TRAINING,
    )
    with log.open("w") as output:
        process = start_entrypoint(["serve"], env, workdir, stdout=output, stderr=output)
    try:
        yield process, port, log, promoted
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        kill_group(process)
