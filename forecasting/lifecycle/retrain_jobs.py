"""Starting a retrain job: its row in `jobs`, its own `provocast retrain --job ID` process, and its end observed.

The process runs in a session of its own and a watcher thread in the
launching process records its exit, so a crash is reported on the job even
when the process could not say so itself; the same thread counts the finished
job in this process's metrics (`forecasting.lifecycle.metrics.observe_job`).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.vocabulary import JobStatus
from forecasting.lifecycle.metrics import observe_job
from forecasting.store.db import write_transaction
from forecasting.store.jobs import (
    IN_FLIGHT,
    RETRAIN,
    Job,
    JobConflict,
    create_job,
    finish_job,
    get_job,
    in_flight_job,
    record_exit_code,
    set_process,
    settle_stale_jobs,
)
from forecasting.store.retrain_lock import current_holder


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
    timeout_seconds: float | None = None,
) -> Job:
    """Queue a retrain job and start its process; RetrainBusy if one is already running.

    The process runs in its own session and process group (signals to this
    process do not reach it) and a watcher thread records its exit, so a crash
    is reported on the job even when the process could not say so itself. When
    the process ends, or runs past `timeout_seconds`, the watcher kills what is
    left of its group (its backtest workers), so nothing outlives a job.
    """
    arguments = {
        "promote": promote,
        "cutoff": cutoff.isoformat() if cutoff else None,
        "if_no_active": if_no_active,
        "requested_by": requested_by,
    }
    try:
        with write_transaction(factory) as session:
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
        with write_transaction(factory) as session:
            finish_job(session, job.id, JobStatus.FAILED, message=f"could not start the retrain process: {error}")
        raise
    with write_transaction(factory) as session:
        set_process(session, job.id, process.pid)
    threading.Thread(
        target=_watch, args=(factory, job.id, process, timeout_seconds), name=f"watch-{job.id}", daemon=True
    ).start()
    with factory() as session:
        return get_job(session, job.id) or job


# After SIGTERM, how long the group has to stop before SIGKILL.
TERMINATE_GRACE_SECONDS = 10.0


def _watch(
    factory: sessionmaker[Session], job_id: str, process: subprocess.Popen[str], timeout_seconds: float | None
) -> None:
    tail: list[str] = []
    reader = threading.Thread(target=_read_output, args=(process, tail), name=f"output-{job_id}", daemon=True)
    reader.start()
    timed_out = False
    try:
        code = process.wait(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=TERMINATE_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            kill_group(process.pid, signal.SIGKILL)
            code = process.wait()
    kill_group(process.pid, signal.SIGKILL)  # whatever the retrain left behind (workers) goes with it
    reader.join(timeout=TERMINATE_GRACE_SECONDS)  # the pipe closes once the group is gone
    if timed_out:
        message = (
            f"the retrain process ran longer than {timeout_seconds:g} s and was stopped with its workers; "
            "the active version is unchanged"
        )
    elif code >= 0:
        message = f"the retrain process exited with code {code} without finishing its job"
    else:
        message = f"the retrain process was killed by signal {-code}; the active version is unchanged"
    try:
        with write_transaction(factory) as session:
            output_tail = "".join(tail) if code else None
            finish_job(session, job_id, JobStatus.FAILED, exit_code=code, message=message, output_tail=output_tail)
            record_exit_code(session, job_id, code)
    except SQLAlchemyError:
        return  # the store is down; settle_stale_jobs will close the row later
    _observe_finished(factory, job_id)


def _read_output(process: subprocess.Popen[str], tail: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        tail.append(line)
        del tail[:-40]


def kill_group(group: int, signal_number: int) -> bool:
    """Signal every process of a process group; False when none is left."""
    try:
        os.killpg(group, signal_number)
    except (ProcessLookupError, PermissionError):
        return False
    return True


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
