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
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.lifecycle.metrics import observe_job
from forecasting.store.retrain_lock import HOST, LockHolder, current_holder, process_alive
from forecasting.store.tables import JobRow, utc_now

RETRAIN = "retrain"
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
IN_FLIGHT = (QUEUED, RUNNING)
MAX_OUTPUT_CHARS = 20_000
# A queued job whose process cannot be seen from here gets this long to take the lock.
QUEUE_GRACE = dt.timedelta(seconds=120)


class JobConflict(RuntimeError):
    """A job of the same kind is already queued or running."""


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    status: str
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


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        status=row.status,
        arguments=dict(row.arguments or {}),
        created_at=_utc(row.created_at),  # type: ignore[arg-type]
        started_at=_utc(row.started_at),
        finished_at=_utc(row.finished_at),
        host=row.host,
        pid=row.pid,
        exit_code=row.exit_code,
        output=row.output or "",
        message=row.message,
        version_id=row.version_id,
        promoted=row.promoted,
    )


# --- rows --------------------------------------------------------------------------


def create_job(session: Session, kind: str, arguments: dict[str, Any]) -> Job:
    """A new queued job; JobConflict if one of this kind is in flight (the transaction is then spoiled)."""
    row = JobRow(
        id=f"job-{utc_now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
        kind=kind,
        status=QUEUED,
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
    row.status = RUNNING
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
    status: str,
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


def settle_stale_jobs(session: Session, kind: str = RETRAIN, now: dt.datetime | None = None) -> list[str]:
    """Mark failed the in-flight jobs whose process is gone; returns their ids."""
    now = now or utc_now()
    holder: LockHolder | None = current_holder(session)
    settled = []
    for row in session.scalars(select(JobRow).where(JobRow.kind == kind, JobRow.status.in_(IN_FLIGHT))):
        if holder is not None and holder.job_id == row.id:
            continue
        if row.status == RUNNING:
            reason = (
                "the retrain process stopped without finishing (killed or crashed); the active version is unchanged"
            )
        else:
            process_gone = row.pid is not None and row.host == HOST and not process_alive(row.pid)
            if not process_gone and now - _utc(row.created_at) < QUEUE_GRACE:  # type: ignore[operator]
                continue
            reason = "the retrain process exited before it started work; the active version is unchanged"
        finish_job(session, row.id, FAILED, message=reason)
        settled.append(row.id)
    return settled


# --- starting a retrain process ------------------------------------------------------


class RetrainBusy(RuntimeError):
    """A retrain is already running (the lock is held, or a job is queued)."""


def retrain_command(job_id: str, promote: str, cutoff: dt.date | None, if_no_active: bool = False) -> list[str]:
    command = [sys.executable, "-m", "forecasting.cli", "retrain", "--job", job_id, "--promote", promote]
    if cutoff is not None:
        command += ["--cutoff", cutoff.isoformat()]
    if if_no_active:
        command.append("--if-no-active")
    return command


def start_retrain_job(
    factory: sessionmaker[Session],
    *,
    promote: str,
    cutoff: dt.date | None,
    env: dict[str, str],
    requested_by: str = "api",
    if_no_active: bool = False,
) -> Job:
    """Queue a retrain job and start its process; RetrainBusy if one is already running.

    The process runs in its own session (signals to this process do not reach
    it) and a watcher thread records its exit, so a crash is reported on the
    job even when the process could not say so itself.
    """
    arguments = {
        "promote": promote,
        "cutoff": cutoff.isoformat() if cutoff else None,
        "if_no_active": if_no_active,
        "requested_by": requested_by,
    }
    try:
        with factory.begin() as session:
            settle_stale_jobs(session)
            holder = current_holder(session)
            if holder is not None:
                raise RetrainBusy(f"a retrain is already running: {holder.describe()}")
            job = create_job(session, RETRAIN, arguments)
    except JobConflict:
        with factory() as session:
            running = in_flight_job(session)
        raise RetrainBusy(
            f"a retrain job is already {running.status if running else 'in flight'}: {running.id if running else '?'}"
        ) from None
    try:
        process = subprocess.Popen(
            retrain_command(job.id, promote, cutoff, if_no_active),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
        )
    except OSError as error:
        with factory.begin() as session:
            finish_job(session, job.id, FAILED, message=f"could not start the retrain process: {error}")
        raise
    with factory.begin() as session:
        set_process(session, job.id, process.pid)
    threading.Thread(target=_watch, args=(factory, job.id, process), name=f"watch-{job.id}", daemon=True).start()
    with factory() as session:
        return get_job(session, job.id) or job


def _watch(factory: sessionmaker[Session], job_id: str, process: subprocess.Popen[str]) -> None:
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line])[-40:]
    code = process.wait()
    message = (
        f"the retrain process exited with code {code} without finishing its job"
        if code >= 0
        else f"the retrain process was killed by signal {-code}; the active version is unchanged"
    )
    try:
        with factory.begin() as session:
            finish_job(
                session, job_id, FAILED, exit_code=code, message=message, output_tail="".join(tail) if code else None
            )
            row = session.get(JobRow, job_id)
            if row is not None and row.exit_code is None:
                row.exit_code = code
    except SQLAlchemyError:
        return  # the store is down; settle_stale_jobs will close the row later
    _observe_finished(factory, job_id)


def _observe_finished(factory: sessionmaker[Session], job_id: str) -> None:
    """Count and log the finished job once, here in the process that launched it."""
    try:
        with factory() as session:
            job = get_job(session, job_id)
    except SQLAlchemyError:
        return
    if job is None or job.status in IN_FLIGHT:
        return
    seconds = (job.finished_at - job.created_at).total_seconds() if job.finished_at else None
    observe_job(job.id, job.status, job.promoted, job.version_id, job.message, seconds, job.exit_code)
