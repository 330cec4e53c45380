"""Prometheus metrics and log lines for retrains: every run, and every retrain job a process launched.

Two views, because a retrain usually runs in a process of its own:

- `provocast_retrain_runs_total` / `provocast_retrain_duration_seconds`: counted
  by the process that runs the retrain (`retrain()` is wrapped with
  `observed_retrain`). A `provocast retrain` process exits when it is done, so
  these reach a scrape only when that process shares a Prometheus
  multiprocess directory (PROMETHEUS_MULTIPROC_DIR) with the service, as the
  service's own retrain jobs do when the service runs in multiprocess mode.
- `provocast_retrain_jobs_total` / `provocast_retrain_job_duration_seconds`:
  counted by the service process that launched a retrain job, when it sees
  the job's process exit (`observe_job`), from the job's row. These are
  always there, in exactly one process per job.

A failed retrain is logged with its cause (logger `provocast.retrain`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import ParamSpec, Protocol, TypeVar

from prometheus_client import Counter, Histogram

from forecasting.domain.records import RecordError
from forecasting.domain.vocabulary import JobStatus
from forecasting.store.retrain_lock import LockHeld

log = logging.getLogger("provocast.retrain")
# A library's logger: silent unless the application configures logging (the CLI prints its own `error:` line).
log.addHandler(logging.NullHandler())

BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 3600, 7200)


class RetrainResult(StrEnum):
    """How a retrain (or a retrain job) ended: the `outcome` label of the metrics and log lines."""

    PROMOTED = "promoted"
    CANDIDATE = "candidate"
    SKIPPED = "skipped"
    FAILED = "failed"
    LOCKED = "locked"  # another retrain held the lock
    BAD_INPUT = "bad_input"


RETRAIN_RUNS = Counter(
    "provocast_retrain_runs_total",
    "Retrains run by this process, by outcome (promoted, candidate, skipped, "
    "failed, locked: another retrain held the lock, bad_input)",
    ["outcome"],
)
RETRAIN_SECONDS = Histogram(
    "provocast_retrain_duration_seconds",
    "Wall time of the retrains run by this process, by outcome",
    ["outcome"],
    buckets=BUCKETS,
)
RETRAIN_JOBS = Counter(
    "provocast_retrain_jobs_total",
    "Retrain jobs launched by this process that have finished, by outcome (promoted, candidate, skipped, failed)",
    ["outcome"],
)
RETRAIN_JOB_SECONDS = Histogram(
    "provocast_retrain_job_duration_seconds",
    "Wall time of the finished retrain jobs this process launched (queued to finished), by outcome",
    ["outcome"],
    buckets=BUCKETS,
)


class Finished(Protocol):
    @property
    def status(self) -> RetrainResult: ...


P = ParamSpec("P")
T = TypeVar("T", bound=Finished)


def outcome_of_error(error: BaseException) -> RetrainResult:
    if isinstance(error, LockHeld):
        return RetrainResult.LOCKED
    if isinstance(error, RecordError):
        return RetrainResult.BAD_INPUT
    return RetrainResult.FAILED


def observe_run(outcome: RetrainResult, seconds: float, cause: str | None = None) -> None:
    RETRAIN_RUNS.labels(outcome).inc()
    RETRAIN_SECONDS.labels(outcome).observe(seconds)
    if outcome in (RetrainResult.FAILED, RetrainResult.BAD_INPUT):
        log.error("retrain failed after %.1f s: %s", seconds, cause, extra={"outcome": outcome})
    elif outcome == RetrainResult.LOCKED:
        log.warning("retrain refused: %s", cause, extra={"outcome": outcome})
    else:
        log.info("retrain finished in %.1f s: %s", seconds, outcome, extra={"outcome": outcome})


def observed_retrain(run: Callable[P, T]) -> Callable[P, T]:
    """Count and time every call of `run` (a retrain returning an outcome with a `status`)."""

    @functools.wraps(run)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            outcome = run(*args, **kwargs)
        except BaseException as error:
            cause = str(error) or type(error).__name__
            observe_run(outcome_of_error(error), time.perf_counter() - started, f"{type(error).__name__}: {cause}")
            raise
        observe_run(outcome.status, time.perf_counter() - started)
        return outcome

    return wrapper


def job_outcome(status: JobStatus, promoted: bool | None, version_id: str | None) -> RetrainResult:
    if status != JobStatus.SUCCEEDED:
        return RetrainResult.FAILED
    if promoted:
        return RetrainResult.PROMOTED
    return RetrainResult.CANDIDATE if version_id else RetrainResult.SKIPPED


def observe_job(
    job_id: str,
    status: JobStatus,
    promoted: bool | None,
    version_id: str | None,
    message: str | None,
    seconds: float | None,
    exit_code: int | None,
) -> None:
    """A retrain job this process launched has finished: count it and log it (failures with their cause)."""
    outcome = job_outcome(status, promoted, version_id)
    RETRAIN_JOBS.labels(outcome).inc()
    if seconds is not None:
        RETRAIN_JOB_SECONDS.labels(outcome).observe(seconds)
    extra = {"job_id": job_id, "outcome": outcome, "exit_code": exit_code}
    if outcome == RetrainResult.FAILED:
        log.error("retrain job %s failed (exit code %s): %s", job_id, exit_code, message, extra=extra)
    else:
        log.info("retrain job %s finished: %s (%s)", job_id, outcome, message, extra=extra)
