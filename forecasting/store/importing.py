"""CSV import and export of events.

An import is all-or-nothing: the file is validated with the `forecasting.domain.records`
parsers first, then merged by id in one transaction. An id that is not stored
yet is inserted; a stored id with identical content is left unchanged; a
stored id with different content is refused (every such row named by file,
line and field) unless `update` is given, in which case the stored row is
replaced and becomes a user row (origin `import`) that seeding leaves alone.

Formats: `seed` is the schema of `seeds/events.csv`; `csis` is a copy of the
CSIS Beyond Parallel "Database of North Korean Provocations" (newer than the
snapshot the seeds were curated from), mapped by `forecasting.ingest.csis` with the
same sourced corrections as the seeds (`seeds/curation/corrections.csv`). Its
ids are deterministic (`YYYY-MM-DD-<event_type>`), so the events the store
already holds are recognised rather than duplicated.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO, get_args

from sqlalchemy.orm import Session

from forecasting.domain.records import (
    EVENT_COLUMNS,
    EventRecord,
    FieldProblem,
    RecordError,
    RecordFileError,
    event_from_row,
    parse_rows,
    read_csv_rows,
)
from forecasting.domain.safety import from_spreadsheet
from forecasting.domain.safety import spreadsheet_safe as escape_formula
from forecasting.domain.vocabulary import Origin
from forecasting.ingest.csis import LEFT_OUT, MAPPED, MERGED, map_csis_rows, read_corrections_csv, read_csis_csv
from forecasting.store.repository import ChangedEvents, WriteReport, upsert_events

ImportFormat = Literal["seed", "csis"]
IMPORT_FORMATS: tuple[str, ...] = get_args(ImportFormat)


@dataclass(frozen=True)
class ImportBatch:
    """Validated events read from one file, with the line each came from (0 when unknown)."""

    file_name: str
    events: list[EventRecord]
    lines: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def line_of(self, event_id: str) -> int:
        return self.lines.get(event_id, 0)


# The free-text columns of the seed schema: escaped for spreadsheets on export, unescaped on import.
TEXT_COLUMNS = ("description", "source")
CSIS_CORRECTIONS = Path("curation") / "corrections.csv"


def read_import_file(path: Path, file_format: ImportFormat, seeds_dir: Path | None = None) -> ImportBatch:
    """Read and validate a whole file; `seeds_dir` holds the CSIS corrections the seeds were curated with."""
    if file_format == "seed":
        return _read_seed_format(path)
    if file_format == "csis":
        corrections = seeds_dir / CSIS_CORRECTIONS if seeds_dir is not None else None
        return _read_csis_format(path, corrections)
    raise RecordError("format", f"unknown import format {file_format!r}; expected one of: {', '.join(IMPORT_FORMATS)}")


def _read_seed_format(path: Path) -> ImportBatch:
    # A file `provocast events export` wrote: its formula-leading cells carry an apostrophe to drop.
    numbered = [(line, _unescaped(row)) for line, row in read_csv_rows(path, EVENT_COLUMNS)]
    events = parse_rows(numbered, event_from_row, str(path))
    # parse_rows raised unless every row became a record, in order.
    return ImportBatch(str(path), events, {event.id: line for (line, _), event in zip(numbered, events, strict=True)})


def _unescaped(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: from_spreadsheet(value) if key in TEXT_COLUMNS and isinstance(value, str) else value
        for key, value in row.items()
    }


def _read_csis_format(path: Path, corrections_file: Path | None) -> ImportBatch:
    corrections = (
        read_corrections_csv(corrections_file) if corrections_file is not None and corrections_file.exists() else []
    )
    mapping = map_csis_rows(read_csis_csv(path), str(path), corrections)
    lines: dict[str, int] = {}
    for entry in mapping.accounting:
        if entry.outcome == MAPPED:
            for event_id in entry.event_ids:
                lines.setdefault(event_id, entry.line)
    # Mapped records go through the same parser as every other write path.
    events = parse_rows(
        ((lines.get(event.id, 0), event.as_row()) for event in mapping.events), event_from_row, str(path)
    )
    outcomes = Counter(entry.outcome for entry in mapping.accounting)
    note = (
        f"{path}: {len(mapping.accounting)} CSIS rows -> {len(events)} events "
        f"({outcomes[MAPPED]} rows mapped, {outcomes[MERGED]} merged into another row's event, "
        f"{outcomes[LEFT_OUT]} left out; corrections applied: {len(corrections)})"
    )
    return ImportBatch(str(path), events, lines, [note])


def import_events(session: Session, batch: ImportBatch, *, update: bool = False, dry_run: bool = False) -> WriteReport:
    """Merge a batch into the store (dry_run: only report what would happen).

    Raises RecordFileError naming each refused row when stored events differ
    and update is false; nothing is written then.
    """
    try:
        return upsert_events(session, batch.events, Origin.IMPORT, replace_changed=update, dry_run=dry_run)
    except ChangedEvents as refused:
        raise RecordFileError(
            [
                FieldProblem(
                    batch.file_name,
                    batch.line_of(change.incoming.id),
                    change.fields[0],
                    f"event {change.incoming.id!r} is already in the store (origin {change.stored_origin}) "
                    f"with a different {', '.join(change.fields)}; use --update to replace it",
                )
                for change in refused.changes
            ]
        ) from None


def write_events_csv(stream: TextIO, events: Iterable[EventRecord], *, spreadsheet_safe: bool = True) -> None:
    """Write events in the seed schema (the same columns and encodings as seeds/events.csv).

    With `spreadsheet_safe` (the default) a text cell that a spreadsheet would read as a formula (`=`, `+`, `-`,
    `@`) is prefixed with an apostrophe; `read_import_file` drops it again, so an export imports back unchanged.
    """
    writer = csv.DictWriter(stream, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for event in events:
        row = event.as_row()
        if spreadsheet_safe:
            row.update({column: escape_formula(row[column]) for column in TEXT_COLUMNS})
        writer.writerow(row)
