"""Engines and sessions for the store: a SQLite file by default, PostgreSQL via postgresql+psycopg://."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool


# Execution option: take SQLite's write lock when the transaction begins (see write_transaction).
TAKE_WRITE_LOCK = "provocast_take_write_lock"


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
    # A file database is opened by name for every session (no pool): a pooled connection keeps the
    # file it first opened, so a file made unreadable, moved or replaced (a restore) would go unnoticed,
    # and writes would land in the old file. Opening a SQLite file costs a fraction of a millisecond.
    engine = create_engine(url) if in_memory else create_engine(url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # pysqlite opens transactions lazily (only before DML), so a read and the
        # writes that depend on it would not share one. Turn that off and emit
        # BEGIN ourselves (the recipe from SQLAlchemy's SQLite dialect docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get(TAKE_WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together at the end, or rolled back on any error."""
    with factory.begin() as session:
        yield session


@contextmanager
def write_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Like `transaction`, for work that reads and then writes (check an id is free, then insert it).

    On SQLite a plain BEGIN starts as a reader: if another connection commits a
    write before this one writes, its upgrade to a writer fails at once with
    "database is locked" (what it read may be stale), whatever the busy
    timeout, so concurrent writers fail instead of waiting their turn. BEGIN
    IMMEDIATE takes the write lock first, so they queue (for up to the busy
    timeout) instead. Other databases ignore the option.
    """
    with factory() as session, session.begin():
        session.connection(execution_options={TAKE_WRITE_LOCK: True})
        yield session


def describe_error(error: SQLAlchemyError) -> str:
    """The database's own message for an error, on one line, without SQLAlchemy's boilerplate."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def display_url(engine_or_url: Engine | str | URL) -> str:
    """The URL with its password hidden, for messages."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.render_as_string(hide_password=True)
