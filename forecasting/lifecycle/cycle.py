"""One scheduled run of the whole loop (`provocast cycle`): sync the history, then retrain if it changed.

What `provocast schedule`, the compose scheduler and the Kubernetes CronJob
run. The run is a job of kind `cycle` in the `jobs` table (listed by
`GET /v1/jobs`, its lines in `/v1/jobs/{id}`), each step's outcome is logged
(loggers `provocast.sync`, `provocast.retrain`, `provocast.cycle`) and
counted (`provocast_sync_runs_total`, `provocast_retrain_runs_total`,
`provocast_cycle_steps_total`).

The retrain step always runs, and its own check decides: it trains only
when the history it would learn from (the events through the coverage date,
the calendars) differs from the active version's, so an unchanged sync, a
304 or a failed sync cost a hash and no training; imports and `coverage set`
made by hand between runs are picked up too. A failed sync changes nothing
and never stops serving; the next run tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.vocabulary import JobStatus
from forecasting.lifecycle.metrics import RetrainResult, outcome_of_error
from forecasting.lifecycle.retraining import retrain
from forecasting.lifecycle.syncing import SyncFailed, SyncSource, sync
from forecasting.settings import Settings
from forecasting.store import jobs
from forecasting.store.columns import utc_now
from forecasting.store.db import write_transaction
from forecasting.store.retrain_lock import HOST, process_alive

CYCLE = "cycle"
# A cycle job whose process cannot be checked (another host) and that has run this long is taken as dead.
CYCLE_STALE_AFTER = dt.timedelta(hours=6)
EXIT_OK, EXIT_STEP_FAILED, EXIT_BUSY = 0, 1, 3

log = logging.getLogger("provocast.cycle")
log.addHandler(logging.NullHandler())

CYCLE_STEPS = Counter(
    "provocast_cycle_steps_total",
    "Steps of the scheduled runs (sync, retrain) made by this process, by outcome",
    ["step", "outcome"],
)


@dataclass
class CycleResult:
    job_id: str | None
    sync_outcome: str
    retrain_outcome: str
    lines: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        failures = ("failed", "refused", RetrainResult.FAILED, RetrainResult.BAD_INPUT, RetrainResult.LOCKED)
        return self.sync_outcome in failures or self.retrain_outcome in failures

    @property
    def exit_code(self) -> int:
        return EXIT_STEP_FAILED if self.failed else EXIT_OK

    def describe(self) -> str:
        return f"sync: {self.sync_outcome}; retrain: {self.retrain_outcome}"


def run_cycle(
    factory: sessionmaker[Session],
    settings: Settings,
    source: SyncSource,
    *,
    rule: str = "auto",
    say: Callable[[str], None] = print,
) -> CycleResult:
    """Sync, then retrain by rule; both steps run whatever the other did. Raises jobs.JobConflict when busy."""
    job_id = _start_job(factory, source, rule)
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        say(line)
        try:
            with write_transaction(factory) as session:
                jobs.append_output(session, job_id, line)
        except SQLAlchemyError:
            pass  # progress is best effort; the outcome is written at the end

    report(f"{utc_now():%Y-%m-%d %H:%M:%S} UTC: sync, then retrain (--promote {rule}); job {job_id}")
    try:
        sync_outcome = str(sync(factory, settings, source, say=report).outcome)
    except SyncFailed as error:
        report(f"sync {error.outcome}: {error}; the store is unchanged, the next run tries again")
        sync_outcome = str(error.outcome)
    except Exception as error:  # the retrain still runs on what the store holds
        report(f"sync failed: {type(error).__name__}: {error}")
        sync_outcome = "failed"
    CYCLE_STEPS.labels("sync", sync_outcome).inc()
    try:
        retrain_outcome = str(retrain(factory, settings=settings, rule=rule, say=report).status)
    except Exception as error:
        retrain_outcome = str(outcome_of_error(error))
        report(f"retrain {retrain_outcome}: {error}")
    CYCLE_STEPS.labels("retrain", retrain_outcome).inc()
    result = CycleResult(job_id, sync_outcome, retrain_outcome, lines)
    report(result.describe())
    (log.error if result.failed else log.info)("scheduled run %s: %s", job_id, result.describe())
    _finish_job(factory, job_id, result)
    return result


def _start_job(factory: sessionmaker[Session], source: SyncSource, rule: str) -> str:
    with write_transaction(factory) as session:
        running = jobs.in_flight_job(session, CYCLE)
        if running is not None and _is_dead(running):
            jobs.finish_job(
                session, running.id, JobStatus.FAILED, message="the scheduled run stopped without finishing"
            )
            session.flush()
    with write_transaction(factory) as session:
        job = jobs.create_job(session, CYCLE, {"source": source.label, "promote": rule})
        jobs.mark_running(session, job.id)
    return job.id


def _is_dead(job: jobs.Job) -> bool:
    if job.host == HOST and job.pid is not None:
        return not process_alive(job.pid)
    return utc_now() - (job.started_at or job.created_at) > CYCLE_STALE_AFTER


def _finish_job(factory: sessionmaker[Session], job_id: str, result: CycleResult) -> None:
    status = JobStatus.FAILED if result.failed else JobStatus.SUCCEEDED
    try:
        with write_transaction(factory) as session:
            jobs.finish_job(session, job_id, status, exit_code=result.exit_code, message=result.describe())
    except SQLAlchemyError as error:
        log.error("scheduled run %s not recorded as finished: %s", job_id, error)
