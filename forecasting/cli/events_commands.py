"""`provocast events ...`: list, add, import and export the events in the store."""

from __future__ import annotations

import getpass
import json
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from forecasting.cli.db_commands import fail, reports_errors, store_session
from forecasting.domain.records import RecordError, event_from_row, parse_date, parse_event_type
from forecasting.domain.vocabulary import EVENT_TYPES, CoverageSource, Origin, UnknownEventType, resolve_event_types
from forecasting.settings import get_settings
from forecasting.store.importing import import_events, read_import_file, write_events_csv
from forecasting.store.live.coverage import set_coverage
from forecasting.store.repository import (
    EventFilter,
    StoredEvent,
    WriteReport,
    add_event,
    count_events,
    delete_event,
    event_records,
    list_events,
)

events_app = typer.Typer(help="List, add, import and export events.", no_args_is_help=True)

DESCRIPTION_WIDTH = 60


class ImportFormatOption(StrEnum):
    seed = "seed"
    csis = "csis"


@events_app.command("list")
@reports_errors
def list_command(
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Event type or group (weapons, missiles, ballistic, ...); repeatable."),
    ] = None,
    weapons: Annotated[
        bool | None, typer.Option("--weapons/--no-weapons", help="Only weapons tests, or only other events.")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", metavar="DATE", help="First day (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day (YYYY-MM-DD).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most N events.")] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip the first N matching events.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")] = False,
) -> None:
    """List stored events, newest first."""
    where = EventFilter(
        event_types=_resolve_types(types) if types else None,
        weapons_test=weapons,
        date_from=parse_date(date_from, "from") if date_from else None,
        date_to=parse_date(date_to, "to") if date_to else None,
    )
    if where.date_from and where.date_to and where.date_from > where.date_to:
        raise RecordError("to", f"{where.date_to} is before --from {where.date_from}")
    with store_session() as session:
        events = list_events(session, where, limit=limit, offset=offset, newest_first=True)
        total = count_events(session, where)
    if as_json:
        typer.echo(json.dumps([_as_json(event) for event in events], indent=2, ensure_ascii=False))
    else:
        typer.echo(_as_table(events, total, offset))


def _resolve_types(names: list[str]) -> tuple[str, ...]:
    try:
        return resolve_event_types(names)
    except UnknownEventType as error:
        raise RecordError("type", str(error)) from None


def _as_json(event: StoredEvent) -> dict[str, object]:
    record = event.record
    return {
        "id": record.id,
        "date": record.date.isoformat(),
        "event_type": record.event_type,
        "weapons_test": record.weapons_test,
        "count": record.count,
        "description": record.description,
        "source": record.source,
        "origin": event.origin,
    }


def _as_table(events: list[StoredEvent], total: int, offset: int) -> str:
    headers = ("date", "id", "type", "weapons", "count", "description")
    rows = [
        (
            e.record.date.isoformat(),
            e.record.id,
            e.record.event_type,
            "yes" if e.record.weapons_test else "no",
            "" if e.record.count is None else str(e.record.count),
            _shorten(e.record.description, DESCRIPTION_WIDTH),
        )
        for e in events
    ]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [headers, *rows]]
    shown = f"{offset + 1}-{offset + len(rows)}" if rows else "none"
    lines.append(f"({shown} of {total} matching events)")
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3].rstrip() + "..."


@events_app.command("add")
@reports_errors
def add_command(
    date_text: Annotated[str, typer.Option("--date", metavar="DATE", help="Local date in Korea (YYYY-MM-DD).")],
    event_type: Annotated[str, typer.Option("--type", help="One of the event types (see vocabulary.py).")],
    description: Annotated[str, typer.Option(help="What happened, in your own words.")],
    source: Annotated[str, typer.Option(help="Where it is reported (URL or citation).")],
    event_id: Annotated[
        str | None, typer.Option("--id", help="Defaults to DATE-TYPE, the id scheme of the seeds.")
    ] = None,
    count: Annotated[str | None, typer.Option(help="How many launches or shots; omit when unknown.")] = None,
    weapons: Annotated[
        bool | None, typer.Option("--weapons/--no-weapons", help="Is it a weapons test? Defaults from the type.")
    ] = None,
) -> None:
    """Add one event (origin manual). An id already in the store is refused."""
    kind = parse_event_type(event_type)
    row = {
        "id": event_id if event_id is not None else f"{date_text.strip()}-{kind}",
        "date": date_text,
        "event_type": kind,
        "weapons_test": str(EVENT_TYPES[kind].weapons_test_default if weapons is None else weapons),
        "count": count or "",
        "description": description,
        "source": source,
    }
    record = event_from_row(row)
    with store_session() as session:
        add_event(session, record, Origin.MANUAL)
    typer.echo(f"added {record.id} ({record.date}, {record.event_type}, weapons test: {record.weapons_test})")


@events_app.command("import")
@reports_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV file to import.")],
    file_format: Annotated[
        ImportFormatOption,
        typer.Option("--format", help="seed: the seeds/events.csv schema; csis: a copy of the CSIS database."),
    ] = ImportFormatOption.seed,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")] = False,
    update: Annotated[
        bool, typer.Option("--update", help="Replace stored events whose content differs (they become user rows).")
    ] = False,
    complete_through: Annotated[
        str | None,
        typer.Option(
            "--complete-through",
            metavar="DATE",
            help="The file holds every event through this day: moves the import's coverage (the data cutoff).",
        ),
    ] = None,
) -> None:
    """Merge events from a CSV file: all rows or none. Stored ids that differ are refused without --update."""
    through = parse_date(complete_through, "complete_through", allow_future=False) if complete_through else None
    batch = read_import_file(file, file_format.value, get_settings().seeds_dir)
    with store_session() as session:
        report = import_events(session, batch, update=update, dry_run=dry_run)
        if through is not None and not dry_run:
            set_coverage(session, CoverageSource.IMPORT, through, f"import of {file}")
    for note in batch.notes:
        typer.echo(note)
    if dry_run:
        typer.echo(f"dry run of {file}: would have {report.summary()}; nothing written")
        _list_ids(report)
    else:
        typer.echo(f"imported {file}: {report.summary()}")
        if through is not None:
            typer.echo(f"import coverage through {through}")


def _list_ids(report: WriteReport) -> None:
    for verb, ids in (("insert", report.inserted), ("update", report.updated)):
        for event_id in ids:
            typer.echo(f"  would {verb} {event_id}")


@events_app.command("export")
@reports_errors
def export_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw", help="Text cells verbatim: no apostrophe before a leading =, +, - or @ (unsafe in a spreadsheet)."
        ),
    ] = False,
) -> None:
    """Write every stored event as CSV in the seed schema (oldest first).

    A text cell a spreadsheet would run as a formula gets a leading apostrophe; `events import` drops it again.
    """
    with store_session() as session:
        events = event_records(session)
    if out is None:
        write_events_csv(sys.stdout, events, spreadsheet_safe=not raw)
        return
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            write_events_csv(handle, events, spreadsheet_safe=not raw)
    except OSError as error:
        fail(f"{out}: cannot write: {error.strerror}")
    typer.echo(f"exported {len(events)} events to {out}", err=True)


@events_app.command("delete")
@reports_errors
def delete_command(event_id: Annotated[str, typer.Argument(help="The id of a manual or imported event.")]) -> None:
    """Delete a manual or imported event; the row as it was is kept in the audit table (who, when).

    Seed rows are corrected in seeds/events.csv (then `provocast seed`), synced rows at their source.
    """
    who = f"cli:{getpass.getuser()}@{socket.gethostname()}"
    with store_session() as session:
        stored = delete_event(session, event_id, who)
    record = stored.record
    typer.echo(f"deleted {record.id} ({record.date}, {record.event_type}, origin {stored.origin}); kept in the audit")


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
