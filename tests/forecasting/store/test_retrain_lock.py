"""The retrain lock on SQLite and PostgreSQL: one holder, freed by release, by a dead owner, or by expiry."""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from forecasting.store.columns import utc_now
from forecasting.store.db import write_transaction
from forecasting.store.retrain_lock import HOST, RETRAIN_LOCK, DatabaseLock, LockHeld, LockLost, current_holder
from forecasting.store.tables import LockRow


def plant_owner(factory: sessionmaker[Session], *, host: str, pid: int, expires_in: timedelta) -> None:
    """Write a lock row as another process would have left it."""
    DatabaseLock(factory)._ensure_row()
    now = utc_now()
    with write_transaction(factory) as session:
        session.execute(
            update(LockRow)
            .where(LockRow.name == RETRAIN_LOCK)
            .values(
                owner=f"{host}:{pid}:planted",
                host=host,
                pid=pid,
                job_id=None,
                acquired_at=now - timedelta(minutes=5),
                heartbeat_at=now - timedelta(minutes=1),
                expires_at=now + expires_in,
            )
        )


def finished_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_only_one_holder_at_a_time(sessions: sessionmaker[Session]) -> None:
    with DatabaseLock(sessions, ttl_seconds=30, job_id="job-1") as first:
        with sessions() as session:
            holder = current_holder(session)
        assert holder is not None and holder.owner == first.owner and holder.job_id == "job-1" and holder.host == HOST
        with pytest.raises(LockHeld, match=r"another retrain is running: process \d+ on .* for job job-1"):
            DatabaseLock(sessions).acquire()
    with sessions() as session:
        assert current_holder(session) is None
    with DatabaseLock(sessions):
        pass


def test_concurrent_takers_get_one_winner(sessions: sessionmaker[Session]) -> None:
    locks = [DatabaseLock(sessions, ttl_seconds=30) for _ in range(4)]
    outcomes: list[str] = []
    start = threading.Barrier(len(locks))

    def take(lock: DatabaseLock) -> None:
        start.wait()
        try:
            lock.acquire()
            outcomes.append("won")
        except LockHeld:
            outcomes.append("refused")

    threads = [threading.Thread(target=take, args=(lock,)) for lock in locks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for lock in locks:
        lock.release()
    assert sorted(outcomes) == ["refused", "refused", "refused", "won"]


def test_a_lock_left_by_a_dead_process_on_this_host_is_free_at_once(sessions: sessionmaker[Session]) -> None:
    plant_owner(sessions, host=HOST, pid=finished_pid(), expires_in=timedelta(minutes=5))
    with sessions() as session:
        assert current_holder(session) is None
    with DatabaseLock(sessions):
        pass


def test_a_lock_held_on_another_host_is_respected_until_it_expires(sessions: sessionmaker[Session]) -> None:
    plant_owner(sessions, host="replica-2", pid=4242, expires_in=timedelta(minutes=5))
    with pytest.raises(LockHeld, match="process 4242 on replica-2"):
        DatabaseLock(sessions).acquire()

    plant_owner(sessions, host="replica-2", pid=4242, expires_in=timedelta(seconds=-1))
    with DatabaseLock(sessions) as lock:
        with sessions() as session:
            holder = current_holder(session)
        assert holder is not None and holder.owner == lock.owner


def test_the_heartbeat_moves_the_expiry_forward(sessions: sessionmaker[Session]) -> None:
    with DatabaseLock(sessions, ttl_seconds=0.4) as lock:
        with sessions() as session:
            first = session.get(LockRow, RETRAIN_LOCK).heartbeat_at
        beat = threading.Event()
        beat.wait(1.0)  # a few heartbeats (every ttl/4)
        with sessions() as session:
            row = session.get(LockRow, RETRAIN_LOCK)
            assert row is not None and row.owner == lock.owner
            assert row.heartbeat_at > first


def test_a_holder_whose_lock_was_taken_over_cannot_write_under_it(sessions: sessionmaker[Session]) -> None:
    lock = DatabaseLock(sessions, ttl_seconds=30)
    lock.acquire()
    try:
        plant_owner(sessions, host="replica-2", pid=4242, expires_in=timedelta(minutes=5))
        with pytest.raises(LockLost, match="nothing was promoted"):
            with write_transaction(sessions) as session:
                lock.ensure_held(session)
    finally:
        lock.release()
    with sessions() as session:  # release did not free someone else's lock
        holder = current_holder(session)
    assert holder is not None and holder.host == "replica-2"
