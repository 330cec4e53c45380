"""Merging a synced CSIS file into the events, by id, like the seeds merge.

The synced file is the store's copy of the CSIS database, so a sync owns the
events that copy holds: rows with origin `sync`, and seeded rows that cite
CSIS (the seeds' snapshot of the same database; seeding leaves them to the
sync once one has run). It inserts new ids (origin `sync`), replaces owned
rows whose content changed (they become `sync` rows), and deletes owned rows
that are gone from the file. A row re-dated upstream arrives under a new id
(ids are `YYYY-MM-DD-<type>`): the old row is deleted and the new one
inserted, so nothing is counted twice; the pair is reported as re-dated.
User rows (`import`, `manual`) are never touched, even when the file holds
their id.

A file that would delete more than the allowed share of the owned rows is
refused before anything is written (a truncated or half-published file looks
like a mass deletion). The caller owns the transaction: all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasting.domain.records import EventRecord
from forecasting.domain.vocabulary import Origin
from forecasting.ingest.csis import CSIS_CITATION
from forecasting.store.tables import EventRow

USER_ORIGINS = (Origin.IMPORT, Origin.MANUAL)


class SyncRefused(ValueError):
    """The synced file is refused; nothing was written. The message says why."""


@dataclass
class SyncMerge:
    """Ids by what the merge did (or, in a dry run, would do) to them."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    redated: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id)
    kept_user_rows: list[str] = field(default_factory=list)
    owned_before: int = 0

    @property
    def changes(self) -> int:
        return len(self.new) + len(self.changed) + len(self.removed)

    def summary(self) -> str:
        parts = [
            f"new {len(self.new)}",
            f"changed {len(self.changed)}",
            f"unchanged {len(self.unchanged)}",
            f"removed {len(self.removed)}",
        ]
        if self.redated:
            parts.append("re-dated " + ", ".join(f"{old} -> {new}" for old, new in self.redated))
        if self.kept_user_rows:
            parts.append(f"kept {len(self.kept_user_rows)} user rows")
        return ", ".join(parts)


def cites_csis(record: EventRecord) -> bool:
    return record.source.startswith(CSIS_CITATION)


def owned_by_sync(row: EventRow) -> bool:
    return row.origin == Origin.SYNC or (row.origin == Origin.SEED and row.source.startswith(CSIS_CITATION))


def merge_synced(
    session: Session, records: Sequence[EventRecord], *, max_removed_share: float, dry_run: bool = False
) -> SyncMerge:
    """Merge the synced events; raise SyncRefused (writing nothing) when too many owned rows would go."""
    stored = {row.id: row for row in session.scalars(select(EventRow))}
    incoming = {record.id: record for record in records}
    merge = SyncMerge(owned_before=sum(1 for row in stored.values() if owned_by_sync(row)))
    replaced: list[tuple[EventRow, EventRecord]] = []
    for record in records:
        row = stored.get(record.id)
        if row is None:
            merge.new.append(record.id)
        elif row.origin in USER_ORIGINS:
            merge.kept_user_rows.append(record.id)
        elif row.as_record() == record:
            merge.unchanged.append(record.id)
        else:
            merge.changed.append(record.id)
            replaced.append((row, record))
    gone = [row for row in stored.values() if owned_by_sync(row) and row.id not in incoming]
    merge.removed = sorted(row.id for row in gone)
    merge.redated = _redated(gone, [incoming[i] for i in merge.new])
    if merge.owned_before and len(gone) > max_removed_share * merge.owned_before:
        raise SyncRefused(
            f"the file would remove {len(gone)} of the {merge.owned_before} synced events "
            f"({len(gone) / merge.owned_before:.0%}; at most {max_removed_share:.0%} allowed, "
            "PROVOCAST_SYNC_MAX_REMOVED_SHARE): a truncated or half-published file? nothing was changed"
        )
    if dry_run:
        return merge
    for row, record in replaced:
        row.assign(record)
        row.origin = Origin.SYNC
    for row in gone:
        session.delete(row)
    session.flush()  # deletions first: a re-dated row may come back under an id just freed
    new_ids = set(merge.new)
    session.add_all(EventRow.from_record(r, Origin.SYNC) for r in records if r.id in new_ids)
    session.flush()
    return merge


def _redated(gone: list[EventRow], new: list[EventRecord]) -> list[tuple[str, str]]:
    """Removed rows that came back on another day: the same type and the same source, under a new id."""
    arrivals = {(r.event_type, r.source): r.id for r in new}
    pairs = [(row.id, arrivals.get((row.event_type, row.source))) for row in gone]
    return sorted((old, new_id) for old, new_id in pairs if new_id is not None)
