"""Running a job on a cron schedule in one long-lived process (`provocast schedule`).

For single-machine deployments: one scheduler process, never one per web
worker. Each run is a separate `provocast cycle` process (sync, then retrain
when the history changed; `provocast retrain` alone with `--no-sync`), so a
crash or a leak in one run cannot take the scheduler down, and the retrain
lock keeps a run from overlapping another retrain started elsewhere.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from croniter import croniter

from forecasting.domain.records import RecordError


def parse_cron(expression: str) -> str:
    """The expression if croniter accepts it (5 fields, or 6 with seconds last); RecordError otherwise."""
    if not croniter.is_valid(expression):
        raise RecordError("cron", f'{expression!r} is not a valid cron expression (e.g. "0 3 * * *")')
    return expression


def next_run(expression: str, after: datetime) -> datetime:
    moment: datetime = croniter(expression, after).get_next(datetime)
    return moment


def run_schedule(
    expression: str,
    run: Callable[[], int],
    *,
    say: Callable[[str], None] = print,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    max_runs: int | None = None,
    run_now: bool = False,
) -> int:
    """Call `run` at every time the expression names (UTC); returns how many runs were made."""
    parse_cron(expression)
    runs = 0
    if run_now:
        say(f"{now():%Y-%m-%d %H:%M:%S} UTC: running now (--run-now)")
        say(f"run finished with exit code {run()}")
        runs += 1
    while max_runs is None or runs < max_runs:
        due = next_run(expression, now())
        say(f"next run at {due:%Y-%m-%d %H:%M:%S} UTC")
        while (left := (due - now()).total_seconds()) > 0:
            sleep(min(left, 60.0))
        say(f"{now():%Y-%m-%d %H:%M:%S} UTC: starting a run")
        say(f"run finished with exit code {run()}")
        runs += 1
    return runs


def cli_process(arguments: list[str]) -> Callable[[], int]:
    """A `run` for `run_schedule`: `provocast ARGUMENTS` as a child process, its output passed through."""

    def run() -> int:
        command = [sys.executable, "-m", "forecasting.cli", *arguments]
        return subprocess.run(command, stdin=subprocess.DEVNULL, check=False).returncode

    return run
