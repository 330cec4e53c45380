"""Mirror the seed files (`Settings.seeds_dir`) into the store, idempotently.

Rows are matched by id. A seed row that is new is inserted, one whose content
changed is updated in place, an identical one is left alone: seeding twice
changes nothing. A row that was removed from a seed file is deleted from the
store, so the store follows corrections in `seeds/` (a re-dated event gets a
new id; keeping the old one would count the event twice). For events this
applies only to rows with origin `seed`: events that users imported or added
(origin `import` or `manual`) are never inserted over, updated or deleted by
seeding, even when a seed row has the same id (it is reported as kept).

All three files are validated before anything is written, and the whole seed
runs in the caller's transaction: a bad row anywhere writes nothing.

Seeding records the seeds' coverage: the history is complete through the
last day of `events.csv` (the reference snapshot). Once a sync has run
(`provocast events sync`), the synced file is the store's copy of the CSIS
database: seed rows that cite CSIS are left to the sync (not inserted again
after the sync removed or re-dated them, not updated), and only the other
seed rows (the sourced additions) and the calendars are mirrored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasting.domain.records import (
    ElectionRecord,
    EventRecord,
    ExerciseRecord,
    FieldProblem,
    RecordFileError,
    read_elections_csv,
    read_events_csv,
    read_exercises_csv,
)
from forecasting.domain.vocabulary import CoverageSource, Origin
from forecasting.store.live.coverage import list_coverage, set_coverage
from forecasting.store.live.sync_merge import cites_csis, owned_by_sync
from forecasting.store.repository import WriteReport
from forecasting.store.tables import ElectionRow, EventRow, ExerciseRow

EVENTS_FILE = "events.csv"
ELECTIONS_FILE = "elections.csv"
EXERCISES_FILE = "exercises.csv"


@dataclass(frozen=True)
class SeedData:
    events: list[EventRecord]
    elections: list[ElectionRecord]
    exercises: list[ExerciseRecord]


@dataclass(frozen=True)
class SeedReport:
    events: WriteReport
    elections: WriteReport
    exercises: WriteReport

    @property
    def changes(self) -> int:
        return self.events.changes + self.elections.changes + self.exercises.changes

    def lines(self) -> list[str]:
        return [
            f"{name}: {report.summary()}"
            for name, report in (("events", self.events), ("elections", self.elections), ("exercises", self.exercises))
        ]


def read_seed_files(seeds_dir: Path) -> SeedData:
    """Validate all three seed files; RecordFileError lists the problems of every file at once."""
    problems: list[FieldProblem] = []
    results: list[Any] = []
    for reader, name in (
        (read_events_csv, EVENTS_FILE),
        (read_elections_csv, ELECTIONS_FILE),
        (read_exercises_csv, EXERCISES_FILE),
    ):
        try:
            results.append(reader(seeds_dir / name))
        except RecordFileError as error:
            problems.extend(error.problems)
    if problems:
        raise RecordFileError(problems)
    return SeedData(*results)


def seed_store(session: Session, seeds_dir: Path) -> SeedReport:
    data = read_seed_files(seeds_dir)
    synced = any(c.source == CoverageSource.SYNC for c in list_coverage(session))
    events = [e for e in data.events if not (synced and cites_csis(e))]
    report = SeedReport(
        events=_mirror(
            session,
            EventRow,
            events,
            new_row=lambda record: EventRow.from_record(record, Origin.SEED),
            owned=lambda row: row.origin == Origin.SEED and not (synced and owned_by_sync(row)),
        ),
        elections=_mirror(session, ElectionRow, data.elections, new_row=ElectionRow.from_record),
        exercises=_mirror(session, ExerciseRow, data.exercises, new_row=ExerciseRow.from_record),
    )
    session.flush()
    if data.events:
        last = max(e.date for e in data.events)
        set_coverage(session, CoverageSource.SEED, last, f"the seeds' reference snapshot ({seeds_dir / EVENTS_FILE})")
    return report


def _mirror(
    session: Session,
    model: type[Any],
    records: Sequence[Any],
    *,
    new_row: Callable[[Any], Any],
    owned: Callable[[Any], bool] = lambda row: True,
) -> WriteReport:
    """Make the rows seeding owns in a table equal the seed records; leave the others alone.

    Calendars come only from seeds, so seeding owns every row; it owns only the
    `seed` events.
    """
    stored = {row.id: row for row in session.scalars(select(model))}
    report = WriteReport()
    for record in records:
        row = stored.get(record.id)
        if row is None:
            session.add(new_row(record))
            report.inserted.append(record.id)
        elif not owned(row):
            report.kept_user_rows.append(record.id)
        elif row.as_record() == record:
            report.unchanged.append(record.id)
        else:
            row.assign(record)
            report.updated.append(record.id)
    seed_ids = {r.id for r in records}
    for row in stored.values():
        if owned(row) and row.id not in seed_ids:
            session.delete(row)
            report.removed.append(row.id)
    return report
