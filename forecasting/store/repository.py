"""Reads and writes on the store: plain functions taking a Session, speaking in records.

Callers own the transaction (see `forecasting.store.db.write_transaction`);
these functions only flush. Every record written here has already been
through a `forecasting.domain.records` parser. `load_history` is the only way
models see stored data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from forecasting.domain.history import History
from forecasting.domain.records import ElectionRecord, EventRecord, ExerciseRecord, RecordError
from forecasting.domain.vocabulary import Origin
from forecasting.store.tables import ElectionRow, EventDeletionRow, EventRow, ExerciseRow

Ts = TypeVarTuple("Ts")
# Stay well under the bound-parameter limits of SQLite and PostgreSQL.
ID_CHUNK = 500


@dataclass(frozen=True)
class StoredEvent:
    record: EventRecord
    origin: Origin
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class EventFilter:
    """Which events to read; None means no restriction on that field."""

    event_types: tuple[str, ...] | None = None
    weapons_test: bool | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass
class WriteReport:
    """Ids by what a write did (or, in a dry run, would do) to them."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Seeding only: rows gone from the seed file, and seed ids held by user rows.
    removed: list[str] = field(default_factory=list)
    kept_user_rows: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.removed)

    def summary(self) -> str:
        parts = [f"inserted {len(self.inserted)}", f"updated {len(self.updated)}", f"unchanged {len(self.unchanged)}"]
        if self.removed:
            parts.append(f"removed {len(self.removed)}")
        if self.kept_user_rows:
            parts.append(f"kept {len(self.kept_user_rows)} user rows")
        return ", ".join(parts)


@dataclass(frozen=True)
class EventChange:
    """An incoming event whose id is stored with different content."""

    incoming: EventRecord
    stored: EventRecord
    stored_origin: Origin
    fields: tuple[str, ...]


class DuplicateEvent(RecordError):
    """`add` of an id that is already stored (the API answers 409)."""

    def __init__(self, event_id: str, origin: str):
        super().__init__("id", f"event {event_id!r} is already in the store (origin {origin}); choose another id")
        self.event_id = event_id


class UnknownEvent(LookupError):
    """No stored event has this id (the API answers 404)."""

    def __init__(self, event_id: str):
        super().__init__(f"no event {event_id!r} in the store")
        self.event_id = event_id


class ProtectedEvent(ValueError):
    """A row whose origin is corrected at its source, not deleted in the store (the API answers 409)."""

    def __init__(self, event_id: str, origin: str):
        super().__init__(
            f"event {event_id!r} came from its source (origin {origin}) and is corrected there, not deleted here; "
            f"only {' and '.join(DELETABLE_ORIGINS)} events can be deleted"
        )
        self.event_id = event_id


# Users' rows. Seed rows mirror seeds/events.csv (and synced rows their source): a deleted one would come back.
DELETABLE_ORIGINS = (Origin.MANUAL, Origin.IMPORT)


class ChangedEvents(ValueError):
    """Incoming events differ from stored ones with the same id, and replacing was not asked for."""

    def __init__(self, changes: list[EventChange]):
        super().__init__(f"{len(changes)} events differ from the stored events with the same id")
        self.changes = changes


def differing_fields(a: EventRecord, b: EventRecord) -> tuple[str, ...]:
    return tuple(f.name for f in fields(a) if getattr(a, f.name) != getattr(b, f.name))


def rows_by_id(session: Session, ids: Iterable[str]) -> dict[str, EventRow]:
    wanted = list(dict.fromkeys(ids))
    found: dict[str, EventRow] = {}
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start : start + ID_CHUNK]
        for row in session.scalars(select(EventRow).where(EventRow.id.in_(chunk))):
            found[row.id] = row
    return found


# --- events ---------------------------------------------------------------------


def _stored(row: EventRow) -> StoredEvent:
    return StoredEvent(row.as_record(), row.origin, row.created_at, row.updated_at)


def _filtered(query: Select[*Ts], where: EventFilter) -> Select[*Ts]:
    if where.event_types is not None:
        query = query.where(EventRow.event_type.in_(where.event_types))
    if where.weapons_test is not None:
        query = query.where(EventRow.weapons_test == where.weapons_test)
    if where.date_from is not None:
        query = query.where(EventRow.date >= where.date_from)
    if where.date_to is not None:
        query = query.where(EventRow.date <= where.date_to)
    return query


def list_events(
    session: Session,
    where: EventFilter = EventFilter(),
    *,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[StoredEvent]:
    order = (EventRow.date.desc(), EventRow.id.desc()) if newest_first else (EventRow.date, EventRow.id)
    query = _filtered(select(EventRow), where).order_by(*order).offset(offset).limit(limit)
    return [_stored(row) for row in session.scalars(query)]


def count_events(session: Session, where: EventFilter = EventFilter()) -> int:
    return session.scalar(_filtered(select(func.count()).select_from(EventRow), where)) or 0


def event_records(session: Session) -> list[EventRecord]:
    """Every stored event, oldest first."""
    return [row.as_record() for row in session.scalars(select(EventRow).order_by(EventRow.date, EventRow.id))]


def get_event(session: Session, event_id: str) -> StoredEvent | None:
    row = session.get(EventRow, event_id)
    return None if row is None else _stored(row)


def add_event(session: Session, record: EventRecord, origin: Origin = Origin.MANUAL) -> StoredEvent:
    """Insert one new event; an id already in the store raises DuplicateEvent."""
    existing = session.get(EventRow, record.id)
    if existing is not None:
        raise DuplicateEvent(record.id, existing.origin)
    row = EventRow.from_record(record, origin)
    session.add(row)
    session.flush()
    return _stored(row)


def delete_event(session: Session, event_id: str, deleted_by: str) -> StoredEvent:
    """Delete a manual or imported event, keeping the row as it was in `event_deletions` (who, when)."""
    row = session.get(EventRow, event_id)
    if row is None:
        raise UnknownEvent(event_id)
    if row.origin not in DELETABLE_ORIGINS:
        raise ProtectedEvent(event_id, row.origin)
    stored = _stored(row)
    kept = {
        **stored.record.as_row(),
        "origin": str(row.origin),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    session.add(EventDeletionRow(event_id=event_id, origin=str(row.origin), deleted_by=deleted_by[:300], row=kept))
    session.delete(row)
    session.flush()
    return stored


def event_deletions(session: Session) -> list[dict[str, object]]:
    """The audit of deleted events, oldest first."""
    rows = session.scalars(select(EventDeletionRow).order_by(EventDeletionRow.id))
    return [
        {
            "event_id": r.event_id,
            "origin": r.origin,
            "deleted_at": r.deleted_at,
            "deleted_by": r.deleted_by,
            "row": r.row,
        }
        for r in rows
    ]


def compare_events(session: Session, records: Sequence[EventRecord]) -> tuple[WriteReport, list[EventChange]]:
    """What upserting these records would do: a report (nothing updated yet) and the changed rows."""
    stored = rows_by_id(session, (r.id for r in records))
    report = WriteReport()
    changes: list[EventChange] = []
    for record in records:
        row = stored.get(record.id)
        if row is None:
            report.inserted.append(record.id)
            continue
        current = row.as_record()
        if current == record:
            report.unchanged.append(record.id)
        else:
            changes.append(EventChange(record, current, row.origin, differing_fields(current, record)))
    return report, changes


def upsert_events(
    session: Session,
    records: Sequence[EventRecord],
    origin: Origin,
    *,
    replace_changed: bool = False,
    dry_run: bool = False,
) -> WriteReport:
    """Insert new ids, leave identical rows alone, and replace changed rows only when asked.

    A replaced row takes the given origin: once a user's import rewrote a
    seeded event, seeding no longer owns (and will not revert) it.
    Raises ChangedEvents, writing nothing, when rows differ and replace_changed is false.
    """
    report, changes = compare_events(session, records)
    if changes and not replace_changed:
        raise ChangedEvents(changes)
    report.updated = [change.incoming.id for change in changes]
    if dry_run:
        return report
    stored = rows_by_id(session, report.updated)
    for change in changes:
        row = stored[change.incoming.id]
        row.assign(change.incoming)
        row.origin = origin
    new_ids = set(report.inserted)
    session.add_all(EventRow.from_record(r, origin) for r in records if r.id in new_ids)
    session.flush()
    return report


# --- calendars ------------------------------------------------------------------


def list_elections(
    session: Session,
    *,
    country: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[ElectionRecord]:
    query = select(ElectionRow)
    if country is not None:
        query = query.where(ElectionRow.country == country)
    if date_from is not None:
        query = query.where(ElectionRow.date >= date_from)
    if date_to is not None:
        query = query.where(ElectionRow.date <= date_to)
    return [row.as_record() for row in session.scalars(query.order_by(ElectionRow.date, ElectionRow.id))]


def get_election(session: Session, election_id: str) -> ElectionRecord | None:
    row = session.get(ElectionRow, election_id)
    return None if row is None else row.as_record()


def list_exercises(
    session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[ExerciseRecord]:
    """Exercises overlapping [date_from, date_to] (either bound optional), by start date."""
    query = select(ExerciseRow)
    if date_from is not None:
        query = query.where(ExerciseRow.end_date >= date_from)
    if date_to is not None:
        query = query.where(ExerciseRow.start_date <= date_to)
    return [row.as_record() for row in session.scalars(query.order_by(ExerciseRow.start_date, ExerciseRow.id))]


def load_history(session: Session) -> History:
    return History.from_records(event_records(session), list_elections(session), list_exercises(session))
