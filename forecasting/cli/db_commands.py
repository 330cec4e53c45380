"""`provocast db ...` and `provocast seed`: schema migrations and seeding of the store.

Also home of the store plumbing the other command groups share: opening a
transaction on the configured store and turning bad input into one-line
`error: ...` messages (exit 2) and store trouble into exit 1, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from forecasting.domain.records import RecordError, RecordFileError
from forecasting.settings import get_settings
from forecasting.store.db import (
    StoreUnavailable,
    create_session_factory,
    create_store_engine,
    describe_error,
    display_url,
    write_transaction,
)
from forecasting.store.migrations.runner import (
    current_revision,
    downgrade_schema,
    grant_app_role,
    head_revision,
    new_revision,
    upgrade_schema,
)
from forecasting.store.migrations.schema_check import require_current_schema
from forecasting.store.repository import ProtectedEvent, UnknownEvent
from forecasting.store.seeding import seed_store

BAD_INPUT = 2
STORE_TROUBLE = 1

db_app = typer.Typer(help="Create and migrate the store's schema.", no_args_is_help=True)

P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def reports_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn the errors a command can meet into `error: ...` lines and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except RecordFileError as error:
            for problem in str(error).splitlines():
                typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(BAD_INPUT) from None
        except (RecordError, UnknownEvent, ProtectedEvent) as error:
            fail(str(error))
        except StoreUnavailable as error:
            fail(str(error), STORE_TROUBLE)
        except SQLAlchemyError as error:
            fail(f"the store failed: {describe_error(error)}", STORE_TROUBLE)

    return wrapper


@contextmanager
def store_session() -> Iterator[Session]:
    """A write transaction on the configured store, which must be at the current schema."""
    engine = create_store_engine(get_settings().database_url)
    try:
        require_current_schema(engine)
        with write_transaction(create_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@db_app.command("upgrade")
@reports_errors
def upgrade_command(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the store's tables (PROVOCAST_DATABASE_URL) to the latest revision."""
    engine = create_store_engine(get_settings().database_url)
    try:
        before = current_revision(engine)
        upgrade_schema(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    where = display_url(engine)
    if before == after:
        typer.echo(f"{where}: already at revision {after}")
    else:
        typer.echo(f"{where}: upgraded from {before or 'an empty database'} to revision {after}")


@db_app.command("downgrade")
@reports_errors
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to drop every table.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask; needed when no one is at a terminal.")] = False,
) -> None:
    """Step the store's schema back to an older revision (drops what later revisions added, with their rows).

    It asks first; without a terminal to ask at, it needs --yes.
    """
    engine = create_store_engine(get_settings().database_url)
    try:
        before = current_revision(engine)
        if not yes:
            _confirm_downgrade(display_url(engine), before, revision)
        downgrade_schema(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"{display_url(engine)}: now at revision {after or 'base (no tables)'}")


def _confirm_downgrade(where: str, before: str | None, revision: str) -> None:
    question = (
        f"{where}: step back from revision {before or 'none'} to {revision}? "
        "Tables added since are dropped with every row in them"
    )
    if not sys.stdin.isatty():
        fail(f"{question}: nothing done; pass --yes to confirm without a terminal")
    if not typer.confirm(question, default=False):
        fail("nothing done", BAD_INPUT)


@db_app.command("grant")
@reports_errors
def grant_command(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the service and the jobs connect as.")],
) -> None:
    """Give the app role row access only (no DDL, TRUNCATE or trigger changes); run as the owner that migrates."""
    engine = create_store_engine(get_settings().database_url)
    try:
        schema = grant_app_role(engine, role)
    finally:
        engine.dispose()
    typer.echo(f"{display_url(engine)}: {role} may read and write rows in schema {schema}; no DDL, no TRUNCATE")


@db_app.command("current")
@reports_errors
def current_command() -> None:
    """Show the store's schema revision and the latest one."""
    engine = create_store_engine(get_settings().database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"{display_url(engine)}: revision {current or 'none (empty)'}; latest is {head_revision()}")


@db_app.command("revision")
@reports_errors
def revision_command(
    message: Annotated[str, typer.Argument(help="What the revision does, e.g. 'add forecasts table'.")],
    autogenerate: Annotated[
        bool, typer.Option("--autogenerate/--empty", help="Diff the models against the (upgraded) store.")
    ] = True,
) -> None:
    """Write the next numbered migration file (for developers adding tables)."""
    path = new_revision(get_settings().database_url, message, autogenerate)
    typer.echo(f"wrote {path}; review it, then run `provocast db upgrade`")


@reports_errors
def seed_command() -> None:
    """Load seeds/ (PROVOCAST_SEEDS_DIR) into the store: insert new rows, update changed ones.

    Idempotent. Rows removed from a seed file are deleted from the store;
    events users imported or added are never touched.
    """
    seeds_dir = get_settings().seeds_dir
    with store_session() as session:
        report = seed_store(session, seeds_dir)
    typer.echo(f"seeded from {seeds_dir}")
    for line in report.lines():
        typer.echo(f"  {line}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("seed")(seed_command)
