"""Engines and sessions for the store: a SQLite file by default, PostgreSQL via postgresql+psycopg://."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# Execution option: take SQLite's write lock when the transaction begins (see write_transaction).
TAKE_WRITE_LOCK = "provocast_take_write_lock"
# Pool record key: the identity of the SQLite file a connection opened.
FILE_IDENTITY = "provocast_file_identity"


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or is not migrated to the current schema."""


def create_store_engine(url: str | URL) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        # pysqlite opens transactions lazily (only before DML), so a read and the
        # writes that depend on it would not share one. Turn that off and emit
        # BEGIN ourselves (the recipe from SQLAlchemy's SQLite dialect docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            identity = _file_identity(database)
            if identity is None:
                # SQLite can hand a new connection a descriptor that another connection of this
                # process still holds open, so "opened" does not prove the file is readable.
                cursor.close()
                raise sqlite3.OperationalError(f"unable to open database file: {database} cannot be read and written")
            record.info[FILE_IDENTITY] = identity
        cursor.close()

    if not in_memory:

        @event.listens_for(engine, "checkout")
        def _on_checkout(
            dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
        ) -> None:
            # A pooled connection keeps the file it opened: a file made unreadable,
            # moved or replaced (a restore) would go unnoticed, and writes would land
            # in the old file. A connection whose file is no longer the one at the
            # path, readable, is dropped; the pool then opens the path anew (and
            # fails with the database's own error if it cannot).
            identity = _file_identity(database)
            if identity is None or record.info.get(FILE_IDENTITY) != identity:
                raise DisconnectionError(f"the SQLite file {database} changed or cannot be read")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(TAKE_WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at the path if this process may read and write it, else None.

    Never opens the file: closing any descriptor of a SQLite database drops all
    of this process's POSIX locks on it, which lets other processes corrupt it.
    """
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not os.access(path, os.R_OK | os.W_OK):
        return None
    return status.st_dev, status.st_ino


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def write_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one way to write: a session whose work is committed together at the end, or rolled back on any error.

    Writes often read first (check an id is free, then insert it). On SQLite a
    plain BEGIN starts as a reader: if another connection commits a write
    before this one writes, its upgrade to a writer fails at once with
    "database is locked" (what it read may be stale), whatever the busy
    timeout, so concurrent writers fail instead of waiting their turn. BEGIN
    IMMEDIATE takes the write lock first, so they queue instead. Within one
    process they also queue on a lock of their own first: SQLite's busy wait
    polls with growing sleeps and favours no one, so under load some writers
    waited out the whole busy timeout (and failed) while others got through.
    Other databases ignore both. Not reentrant: never open one inside another.
    """
    bind = factory.kw.get("bind")
    in_turn = _writer_lock(bind) if isinstance(bind, Engine) and bind.dialect.name == "sqlite" else nullcontext()
    with in_turn, factory() as session, session.begin():
        session.connection(execution_options={TAKE_WRITE_LOCK: True})
        yield session


_writer_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_writer_locks_guard = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock:
    with _writer_locks_guard:
        return _writer_locks.setdefault(engine, threading.Lock())


def describe_error(error: SQLAlchemyError) -> str:
    """The database's own message for an error, on one line, without SQLAlchemy's boilerplate."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def display_url(engine_or_url: Engine | str | URL) -> str:
    """The URL with its password hidden, for messages."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.render_as_string(hide_password=True)
