"""The forecast ledger's rows: published forecasts, written once, and their outcomes, filled once.

`forecasting.lifecycle.ledger` decides what is recorded and how it is scored;
this module reads and writes the `forecast_ledger` table for it. Nothing here
updates a forecast or deletes an entry, and the database refuses both
(triggers of migration 0003). Plain functions over a Session, like the
registry; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forecasting.domain.vocabulary import EventGroup
from forecasting.serving import plain_words
from forecasting.store.columns import as_dataclass
from forecasting.store.live.coverage import history_through
from forecasting.store.tables import LedgerEntryRow

ENTRY_KEY = ("version_id", "election_id", "window_start", "window_end", "event_group")


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    version_id: str
    election_id: str
    election_date: dt.date
    country: str
    kind: str
    window_start: dt.date
    window_end: dt.date
    event_group: EventGroup
    model: str
    data_cutoff: dt.date
    probability_any: float
    expected_count: float
    lower_80: int
    upper_80: int
    lower_95: int
    upper_95: int
    climatology_probability_any: float
    election_effect: float | None
    election_effect_lower: float | None
    election_effect_upper: float | None
    recorded_at: dt.datetime
    trailing_year_probability_any: float | None = None
    observed_count: int | None = None
    brier: float | None = None
    log_loss: float | None = None
    climatology_brier: float | None = None
    climatology_log_loss: float | None = None
    trailing_year_brier: float | None = None
    inside_80: bool | None = None
    inside_95: bool | None = None
    history_end: dt.date | None = None
    scored_at: dt.datetime | None = None

    @property
    def scored(self) -> bool:
        return self.scored_at is not None

    @property
    def observed_any(self) -> bool | None:
        return None if self.observed_count is None else self.observed_count > 0

    def in_words(self) -> str:
        said = (
            f"said {plain_words.percent(self.probability_any)} ({plain_words.chance(self.probability_any)}) that at "
            f"least one weapons test would happen between {self.window_start} and {self.window_end}, with "
            f"{self.expected_count:.1f} test days expected (climatology: {plain_words.percent(self.climatology_probability_any)})"
        )
        if not self.scored:
            return (
                f"{said}; not scored yet: awaiting data through {self.window_end} (a window is scored only once "
                "the history is complete through its last day)."
            )
        assert self.observed_count is not None and self.brier is not None and self.climatology_brier is not None
        happened = f"{self.observed_count} test day{'s' if self.observed_count != 1 else ''} happened"
        inside = "inside" if self.inside_80 else "outside"
        verdict = (
            "closer than"
            if self.brier < self.climatology_brier
            else "further off than"
            if self.brier > self.climatology_brier
            else "as close as"
        )
        return (
            f"{said}; {happened} ({inside} its 80% range {self.lower_80}-{self.upper_80}). Its probability was "
            f"{verdict} climatology's (Brier {self.brier:.3f} against {self.climatology_brier:.3f}; 0 is perfect)."
        )


def _entry(row: LedgerEntryRow) -> LedgerEntry:
    return as_dataclass(LedgerEntry, row)


def history_end(session: Session) -> dt.date | None:
    """The store's coverage date: windows ending on or before it have closed (a later event alone closes nothing)."""
    return history_through(session)


def insert_if_absent(session: Session, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on the entry's key; True when a row was written."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(LedgerEntryRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(ENTRY_KEY))
        .returning(LedgerEntryRow.id)
    )
    return session.execute(statement).first() is not None


def unscored_entries(session: Session) -> list[LedgerEntry]:
    return [_entry(row) for row in session.scalars(select(LedgerEntryRow).where(LedgerEntryRow.scored_at.is_(None)))]


def count_unscored(session: Session) -> int:
    query = select(func.count()).select_from(LedgerEntryRow).where(LedgerEntryRow.scored_at.is_(None))
    return session.scalar(query) or 0


def fill_outcome(session: Session, entry_id: int, outcome: dict[str, Any]) -> bool:
    """Write an entry's outcome unless it has one: two processes scoring at once fill it once. True if written."""
    written = session.execute(
        update(LedgerEntryRow)
        .where(LedgerEntryRow.id == entry_id, LedgerEntryRow.scored_at.is_(None))
        .values(**outcome)
        .returning(LedgerEntryRow.id)
        .execution_options(synchronize_session=False)
    ).first()
    return written is not None


def list_entries(
    session: Session,
    *,
    version_id: str | None = None,
    election_id: str | None = None,
    scored: bool | None = None,
) -> list[LedgerEntry]:
    """Entries by election date, then version (oldest first)."""
    query = select(LedgerEntryRow).order_by(
        LedgerEntryRow.election_date, LedgerEntryRow.election_id, LedgerEntryRow.recorded_at, LedgerEntryRow.id
    )
    if version_id is not None:
        query = query.where(LedgerEntryRow.version_id == version_id)
    if election_id is not None:
        query = query.where(LedgerEntryRow.election_id == election_id)
    if scored is not None:
        query = query.where(LedgerEntryRow.scored_at.is_not(None) if scored else LedgerEntryRow.scored_at.is_(None))
    return [_entry(row) for row in session.scalars(query)]
