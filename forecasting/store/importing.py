"""CSV import and export of events.

An import is all-or-nothing: the file is validated with the `forecasting.records`
parsers first, then merged by id in one transaction. An id that is not stored
yet is inserted; a stored id with identical content is left unchanged; a
stored id with different content is refused (every such row named by file,
line and field) unless `update` is given, in which case the stored row is
replaced and becomes a user row (origin `import`) that seeding leaves alone.

Formats: `seed` is the schema of `seeds/events.csv`; `csis` is a copy of the
CSIS Beyond Parallel "Database of North Korean Provocations" (newer than the
snapshot the seeds were curated from), mapped by `forecasting.csis`. Its ids
are deterministic (`YYYY-MM-DD-<event_type>`), so the events the store already
holds are recognised rather than duplicated.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO, get_args

from sqlalchemy.orm import Session

from forecasting.records import (
    EVENT_COLUMNS,
    EventRecord,
    FieldProblem,
    RecordError,
    RecordFileError,
    event_from_row,
    parse_rows,
    read_csv_rows,
)
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


def read_import_file(path: Path, file_format: ImportFormat) -> ImportBatch:
    if file_format == "seed":
        return _read_seed_format(path)
    if file_format == "csis":
        return _read_csis_format(path)
    raise RecordError("format", f"unknown import format {file_format!r}; expected one of: {', '.join(IMPORT_FORMATS)}")


def _read_seed_format(path: Path) -> ImportBatch:
    numbered = read_csv_rows(path, EVENT_COLUMNS)
    events = parse_rows(numbered, event_from_row, str(path))
    # parse_rows raised unless every row became a record, in order.
    return ImportBatch(str(path), events, {event.id: line for (line, _), event in zip(numbered, events)})


def _read_csis_format(path: Path) -> ImportBatch:
    from forecasting.csis import map_csis_rows, read_csis_csv  # written alongside; imported only when used

    mapped = map_csis_rows(read_csis_csv(path), str(path))
    # Mapped records go through the same parser as every other write path.
    events = parse_rows(((0, event.as_row()) for event in mapped.events), event_from_row, str(path))
    return ImportBatch(str(path), events)


def import_events(session: Session, batch: ImportBatch, *, update: bool = False, dry_run: bool = False) -> WriteReport:
    """Merge a batch into the store (dry_run: only report what would happen).

    Raises RecordFileError naming each refused row when stored events differ
    and update is false; nothing is written then.
    """
    try:
        return upsert_events(session, batch.events, "import", replace_changed=update, dry_run=dry_run)
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


def write_events_csv(stream: TextIO, events: Iterable[EventRecord]) -> None:
    """Write events in the seed schema (the same columns and encodings as seeds/events.csv)."""
    writer = csv.DictWriter(stream, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow(event.as_row())
