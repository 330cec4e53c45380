"""`provocast events sync`, `provocast coverage ...` and `provocast cycle`: the live history from the shell.

The logic lives in `forecasting.lifecycle.syncing`, `forecasting.lifecycle.cycle`
and `forecasting.store.live`; these commands parse options, call it and print.
Exit codes of `events sync`: 0 merged (or not modified), 1 the file could not
be fetched or the store failed, 2 the file was refused (HTML, truncated,
columns changed, too many removals) or bad options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer

from forecasting.cli.db_commands import BAD_INPUT, STORE_TROUBLE, fail, reports_errors, store_session
from forecasting.cli.events_commands import events_app
from forecasting.cli.model_commands import PromoteOption, reports_model_errors, store_factory
from forecasting.domain.records import RecordError, parse_date
from forecasting.domain.vocabulary import CoverageSource, SyncOutcome
from forecasting.lifecycle.cycle import EXIT_BUSY, run_cycle
from forecasting.lifecycle.syncing import SyncFailed, SyncSource, sync
from forecasting.settings import get_settings
from forecasting.store.jobs import JobConflict
from forecasting.store.live.coverage import history_through, list_coverage, set_coverage
from forecasting.store.live.sync_runs import list_runs

coverage_app = typer.Typer(help="Show or assert how far the history is complete.", no_args_is_help=True)

UrlOption = Annotated[
    str | None, typer.Option("--url", help="Fetch this URL instead of PROVOCAST_SYNC_URL (http or https).")
]
FileOption = Annotated[
    Path | None, typer.Option("--file", help="Read this local copy instead of fetching (no network needed).")
]
CompleteOption = Annotated[
    str | None,
    typer.Option(
        "--complete-through", metavar="DATE", help="The file is complete through this day (default: see docs/data.md)."
    ),
]


def _source(url: str | None, file: Path | None, complete_through: str | None) -> SyncSource:
    if url is not None and file is not None:
        raise RecordError("file", "give --url or --file, not both")
    through = parse_date(complete_through, "complete_through", allow_future=False) if complete_through else None
    chosen = url or (None if file else get_settings().sync_url)
    if chosen is not None and urlparse(chosen).scheme not in ("http", "https"):
        raise RecordError("url", f"{chosen!r} is not an http(s) URL; use --file for a local file")
    return SyncSource(url=chosen, file=file, complete_through=through)


@events_app.command("sync")
@reports_errors
def sync_command(
    url: UrlOption = None,
    file: FileOption = None,
    complete_through: CompleteOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Fetch, check and compare; write nothing.")] = False,
    history: Annotated[
        bool, typer.Option("--history", help="List the recorded sync runs instead, newest first.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="With --history: at most N runs.")] = 20,
) -> None:
    """Fetch the CSIS database (PROVOCAST_SYNC_URL) and merge it: new, changed and removed rows, all or nothing."""
    if history:
        with store_session() as session:
            runs = list_runs(session, limit=limit)
        if not runs:
            typer.echo("no sync runs yet; run `provocast events sync`")
        for run in runs:
            typer.echo(run.describe())
        return
    source = _source(url, file, complete_through)
    with store_factory() as factory:
        try:
            report = sync(factory, get_settings(), source, dry_run=dry_run, say=typer.echo)
        except SyncFailed as error:
            fail(str(error), BAD_INPUT if error.outcome == SyncOutcome.REFUSED else STORE_TROUBLE)
        with factory() as session:
            through = history_through(session)
    if not dry_run:
        typer.echo(f"history complete through {through} (the data cutoff of the next retrain)")
    if report.merge and report.merge.changes and not dry_run:
        typer.echo("the history changed: `provocast retrain` learns from it")


@coverage_app.command("show")
@reports_errors
def coverage_show_command() -> None:
    """Each source's coverage and the history's (the latest)."""
    with store_session() as session:
        rows = list_coverage(session)
        through = history_through(session)
    if not rows:
        typer.echo("no coverage recorded: run `provocast seed`, `provocast events sync` or `provocast coverage set`")
        return
    typer.echo(f"history complete through {through}")
    for row in rows:
        typer.echo(
            f"  {row.source:<8} through {row.through}  ({row.detail}; recorded {row.updated_at:%Y-%m-%d %H:%M} UTC)"
        )


@coverage_app.command("set")
@reports_errors
def coverage_set_command(
    through: Annotated[
        str, typer.Option("--through", metavar="DATE", help="The history is complete through this day.")
    ],
    note: Annotated[str, typer.Option(help="Why you know (kept beside the date).")] = "asserted by a curator",
) -> None:
    """Assert, as a curator, that the history is complete through DATE (moves the data cutoff of the next retrain)."""
    day = parse_date(through, "through", allow_future=False)
    with store_session() as session:
        set_coverage(session, CoverageSource.CURATOR, day, note)
        now = history_through(session)
    typer.echo(f"curator coverage through {day}; history complete through {now}")


@reports_model_errors
def cycle_command(
    url: UrlOption = None,
    file: FileOption = None,
    promote: Annotated[PromoteOption, typer.Option(help="Promotion rule of the retrain step.")] = PromoteOption.auto,
) -> None:
    """One scheduled run: sync, then retrain when the history changed (what the schedulers and the CronJob run)."""
    source = _source(url, file, None)
    with store_factory() as factory:
        try:
            result = run_cycle(factory, get_settings(), source, rule=promote.value, say=typer.echo)
        except JobConflict as error:
            fail(f"{error}; try again when it has finished", EXIT_BUSY)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.add_typer(coverage_app, name="coverage")
    app.command("cycle")(cycle_command)
