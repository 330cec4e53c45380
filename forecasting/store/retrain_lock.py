"""A lock held in the database, so that one retrain runs at a time across processes and hosts.

The lock is a row of `locks` naming its owner (host, process id and a random
token), when it was taken, and a heartbeat that moves its expiry forward while
the owner lives. Taking it is one conditional UPDATE (free, expired, or the
same row we just read), which PostgreSQL and SQLite both apply atomically. A
process killed with SIGKILL cannot release it, so it frees itself: at once
when the owner ran on this host and its process is gone, otherwise when the
heartbeat has been silent for `ttl_seconds`. The same code runs on SQLite and
PostgreSQL; no advisory locks or files are involved.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.store.columns import utc_now
from forecasting.store.db import write_transaction
from forecasting.store.tables import LockRow

RETRAIN_LOCK = "retrain"
HOST = socket.gethostname()


class LockHeld(RuntimeError):
    """Someone else holds the lock; the message says who and since when."""

    def __init__(self, name: str, holder: LockHolder):
        super().__init__(f"another {name} is running: {holder.describe()}")
        self.holder = holder


class LockLost(RuntimeError):
    """Our lock expired and was taken by another process (our heartbeat could not reach the store)."""


@dataclass(frozen=True)
class LockHolder:
    owner: str
    host: str
    pid: int
    job_id: str | None
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime
    expires_at: dt.datetime

    def describe(self) -> str:
        job = f" for job {self.job_id}" if self.job_id else ""
        return (
            f"process {self.pid} on {self.host}{job}, started {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"last heartbeat {self.heartbeat_at:%H:%M:%S} UTC"
        )


def process_alive(pid: int) -> bool:
    """Whether a process of this host is running (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _changed_rows(session: Session, statement: Update) -> int:
    # An UPDATE's result is a CursorResult; Session.execute is typed with the general Result.
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def live_holder(row: LockRow | None, now: dt.datetime | None = None) -> LockHolder | None:
    """The row's owner if the lock is held by a process that is (as far as we can tell) alive."""
    if row is None or row.owner is None or row.acquired_at is None or row.heartbeat_at is None:
        return None
    now = now or utc_now()
    if row.expires_at is None or row.expires_at <= now:
        return None
    if row.host == HOST and row.pid is not None and not process_alive(row.pid):
        return None
    return LockHolder(
        owner=row.owner,
        host=row.host or "?",
        pid=row.pid or 0,
        job_id=row.job_id,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
        expires_at=row.expires_at,
    )


def current_holder(session: Session, name: str = RETRAIN_LOCK) -> LockHolder | None:
    return live_holder(session.get(LockRow, name))


class DatabaseLock:
    """`with DatabaseLock(factory, "retrain"):` runs the block holding the lock, or raises LockHeld."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        name: str = RETRAIN_LOCK,
        ttl_seconds: float = 120.0,
        job_id: str | None = None,
    ):
        self.factory = factory
        self.name = name
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.job_id = job_id
        self.owner = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.lost = False

    # --- taking and giving back ------------------------------------------------

    def acquire(self) -> None:
        self._ensure_row()
        for _ in range(5):  # a compare-and-set lost to another process: read the row again
            if self._try_take():
                self._start_heartbeat()
                return
        with self.factory() as session:
            holder = current_holder(session, self.name)
        if holder is None:  # pragma: no cover - lost every race and then nobody holds it
            raise RuntimeError(f"could not take the {self.name} lock; try again")
        raise LockHeld(self.name, holder)

    def _try_take(self) -> bool:
        """One compare-and-set attempt; raises LockHeld when a live owner holds the lock."""
        with write_transaction(self.factory) as session:
            row = session.get(LockRow, self.name)
            assert row is not None
            holder = live_holder(row)
            if holder is not None:
                raise LockHeld(self.name, holder)
            # Compare-and-set on the owner we saw: owners are unique per acquisition,
            # so if someone else got in first this matches no row.
            seen = LockRow.owner.is_(None) if row.owner is None else LockRow.owner == row.owner
            now = utc_now()
            taken = _changed_rows(
                session,
                update(LockRow)
                .where(LockRow.name == self.name, seen)
                .values(
                    owner=self.owner,
                    host=HOST,
                    pid=os.getpid(),
                    job_id=self.job_id,
                    acquired_at=now,
                    heartbeat_at=now,
                    expires_at=now + self.ttl,
                ),
            )
        return taken == 1

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        try:
            with write_transaction(self.factory) as session:
                session.execute(
                    update(LockRow)
                    .where(LockRow.name == self.name, LockRow.owner == self.owner)
                    .values(owner=None, host=None, pid=None, job_id=None, expires_at=None)
                )
        except SQLAlchemyError:
            pass  # the store is gone; the lock expires by itself

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def ensure_held(self, session: Session) -> None:
        """Raise LockLost unless we still own the lock; locks the row until the caller's transaction ends."""
        query = select(LockRow.owner).where(LockRow.name == self.name)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        if self.lost or session.scalar(query) != self.owner:
            self.lost = True
            raise LockLost(f"the {self.name} lock expired and was taken by another process; nothing was promoted")

    # --- internals -------------------------------------------------------------

    def _ensure_row(self) -> None:
        try:
            with write_transaction(self.factory) as session:
                if session.get(LockRow, self.name) is None:
                    session.add(LockRow(name=self.name))
        except IntegrityError:
            pass  # created by a concurrent process: fine

    def _start_heartbeat(self) -> None:
        interval = max(self.ttl.total_seconds() / 4, 0.05)
        self._beat = threading.Thread(
            target=self._heartbeat, args=(interval,), name=f"{self.name}-lock-heartbeat", daemon=True
        )
        self._beat.start()

    def _heartbeat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                with write_transaction(self.factory) as session:
                    now = utc_now()
                    moved = _changed_rows(
                        session,
                        update(LockRow)
                        .where(LockRow.name == self.name, LockRow.owner == self.owner)
                        .values(heartbeat_at=now, expires_at=now + self.ttl),
                    )
                if moved == 0:
                    self.lost = True
                    return
            except SQLAlchemyError:
                continue  # the store may come back before the lock expires
