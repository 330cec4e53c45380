"""Background jobs: retrains run as their own `provocast retrain --job ID` process, tracked in `jobs`.

A job row is created `queued` by whoever starts it (the API); the retrain
process marks it `running` once it holds the retrain lock, appends its
progress to `output`, and finishes it `succeeded` or `failed`. A partial unique
index allows one queued or running job per kind. A process that is killed
cannot finish its row, so in-flight rows are checked against the retrain lock
(`settle_stale_jobs`): a running job whose lock is gone, or a queued job whose
process is gone, is marked failed with a message saying so.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forecasting.domain.vocabulary import JobStatus
from forecasting.store.columns import as_dataclass, utc_now
from forecasting.store.retrain_lock import HOST, LockHolder, current_holder, process_alive
from forecasting.store.tables import JOB_IN_FLIGHT, JobRow

RETRAIN = "retrain"
IN_FLIGHT = JOB_IN_FLIGHT
MAX_OUTPUT_CHARS = 20_000
# A queued job whose process cannot be seen from here gets this long to take the lock.
QUEUE_GRACE = dt.timedelta(seconds=120)


class JobConflict(RuntimeError):
    """A job of the same kind is already queued or running."""


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    status: JobStatus
    arguments: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    host: str | None
    pid: int | None
    exit_code: int | None
    output: str
    message: str | None
    version_id: str | None
    promoted: bool | None


def _job(row: JobRow) -> Job:
    return as_dataclass(Job, row, arguments=dict(row.arguments or {}), output=row.output or "")


# --- rows --------------------------------------------------------------------------


def create_job(session: Session, kind: str, arguments: dict[str, Any]) -> Job:
    """A new queued job; JobConflict if one of this kind is in flight (the transaction is then spoiled)."""
    row = JobRow(
        id=f"job-{utc_now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
        kind=kind,
        status=JobStatus.QUEUED,
        arguments=arguments,
        created_at=utc_now(),
        output="",
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise JobConflict(f"a {kind} job is already queued or running") from None
    return _job(row)


def get_job(session: Session, job_id: str) -> Job | None:
    row = session.get(JobRow, job_id)
    return None if row is None else _job(row)


def in_flight_job(session: Session, kind: str = RETRAIN) -> Job | None:
    row = session.scalars(select(JobRow).where(JobRow.kind == kind, JobRow.status.in_(IN_FLIGHT))).first()
    return None if row is None else _job(row)


def set_process(session: Session, job_id: str, pid: int, host: str = HOST) -> None:
    row = session.get(JobRow, job_id)
    if row is not None and row.status in IN_FLIGHT:
        row.pid, row.host = pid, host


def mark_running(session: Session, job_id: str, pid: int | None = None, host: str = HOST) -> None:
    row = session.get(JobRow, job_id)
    if row is None:
        raise LookupError(f"no job {job_id!r}")
    row.status = JobStatus.RUNNING
    row.started_at = utc_now()
    row.pid = pid if pid is not None else os.getpid()
    row.host = host


def append_output(session: Session, job_id: str, line: str) -> None:
    row = session.get(JobRow, job_id)
    if row is not None:
        row.output = ((row.output or "") + line.rstrip("\n") + "\n")[-MAX_OUTPUT_CHARS:]


def finish_job(
    session: Session,
    job_id: str,
    status: JobStatus,
    *,
    exit_code: int | None = None,
    message: str | None = None,
    version_id: str | None = None,
    promoted: bool | None = None,
    output_tail: str | None = None,
) -> bool:
    """Close an in-flight job; False (and nothing written) when it was already finished."""
    row = session.get(JobRow, job_id)
    if row is None or row.status not in IN_FLIGHT:
        return False
    row.status = status
    row.finished_at = utc_now()
    row.exit_code = exit_code
    row.message = message
    row.version_id = version_id if version_id is not None else row.version_id
    row.promoted = promoted if promoted is not None else row.promoted
    if output_tail:
        row.output = ((row.output or "") + output_tail)[-MAX_OUTPUT_CHARS:]
    return True


def record_exit_code(session: Session, job_id: str, code: int) -> None:
    """The process's exit code, on a job it finished without recording one."""
    row = session.get(JobRow, job_id)
    if row is not None and row.exit_code is None:
        row.exit_code = code


def settle_stale_jobs(session: Session, kind: str = RETRAIN, now: dt.datetime | None = None) -> list[str]:
    """Mark failed the in-flight jobs whose process is gone; returns their ids."""
    now = now or utc_now()
    holder: LockHolder | None = current_holder(session)
    settled = []
    for row in session.scalars(select(JobRow).where(JobRow.kind == kind, JobRow.status.in_(IN_FLIGHT))):
        if holder is not None and holder.job_id == row.id:
            continue
        if row.status == JobStatus.RUNNING:
            reason = (
                "the retrain process stopped without finishing (killed or crashed); the active version is unchanged"
            )
        else:
            process_gone = row.pid is not None and row.host == HOST and not process_alive(row.pid)
            if not process_gone and now - row.created_at < QUEUE_GRACE:
                continue
            reason = "the retrain process exited before it started work; the active version is unchanged"
        finish_job(session, row.id, JobStatus.FAILED, message=reason)
        settled.append(row.id)
    return settled


def list_jobs(session: Session, *, kind: str | None = None, limit: int = 20) -> list[Job]:
    """The latest jobs first (of one kind, when given)."""
    query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(JobRow.kind == kind)
    return [_job(row) for row in session.scalars(query)]
