"""The cron loop of `provocast schedule`, on a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasting.domain.records import RecordError
from forecasting.lifecycle.schedule import next_run, parse_cron, run_schedule


class Clock:
    def __init__(self, start: datetime):
        self.now = start
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_runs_at_each_time_the_expression_names() -> None:
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    ran_at: list[datetime] = []
    said: list[str] = []

    def run() -> int:
        ran_at.append(clock.now)
        return 0

    runs = run_schedule("0 3 * * *", run, say=said.append, now=lambda: clock.now, sleep=clock.sleep, max_runs=2)

    assert runs == 2
    assert ran_at == [datetime(2026, 11, 26, 3, 0, tzinfo=UTC), datetime(2026, 11, 27, 3, 0, tzinfo=UTC)]
    assert said[0] == "next run at 2026-11-26 03:00:00 UTC"
    assert "run finished with exit code 0" in said
    assert max(clock.slept) <= 60  # wakes at least every minute (a changed clock is noticed)


def test_run_now_runs_once_before_waiting() -> None:
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    ran_at: list[datetime] = []
    run_schedule(
        "0 3 * * *",
        lambda: ran_at.append(clock.now) or 3,
        say=lambda _: None,
        now=lambda: clock.now,
        sleep=clock.sleep,
        max_runs=1,
        run_now=True,
    )
    assert ran_at == [datetime(2026, 11, 25, 10, 0, tzinfo=UTC)]


def test_a_failing_run_does_not_stop_the_schedule() -> None:
    clock = Clock(datetime(2026, 11, 25, 2, 59, tzinfo=UTC))
    codes = iter([1, 0])
    said: list[str] = []
    runs = run_schedule(
        "0 3 * * *", lambda: next(codes), say=said.append, now=lambda: clock.now, sleep=clock.sleep, max_runs=2
    )
    assert runs == 2
    assert [line for line in said if line.startswith("run finished")] == [
        "run finished with exit code 1",
        "run finished with exit code 0",
    ]


def test_bad_expressions_are_refused_naming_the_field() -> None:
    with pytest.raises(RecordError, match="field 'cron': 'every night' is not a valid cron expression"):
        parse_cron("every night")
    assert next_run("*/15 * * * *", datetime(2026, 1, 1, 0, 7, tzinfo=UTC)) == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
