"""Coverage: per source, the date through which the store's history is complete.

The history's data cutoff, the one every version, forecast and ledger entry
reports, is the latest coverage date of any source. Events dated after it are
kept but not learned from (and no ledger window is scored against them) until
coverage reaches them. A manually added event vouches for nothing: only the
seeds, a sync, an import given `--complete-through` and a curator
(`provocast coverage set`) move coverage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasting.domain.records import RecordError
from forecasting.domain.vocabulary import CoverageSource
from forecasting.store.columns import as_dataclass
from forecasting.store.tables import CoverageRow, EventRow


@dataclass(frozen=True)
class Coverage:
    source: CoverageSource
    through: dt.date
    detail: str
    updated_at: dt.datetime


def list_coverage(session: Session) -> list[Coverage]:
    """Every source's coverage, latest first."""
    rows = session.scalars(select(CoverageRow).order_by(CoverageRow.through.desc(), CoverageRow.source))
    return [as_dataclass(Coverage, row) for row in rows]


def history_through(session: Session) -> dt.date | None:
    """The date through which the history is complete (the latest of every source's), or None when none vouches."""
    return session.scalar(select(func.max(CoverageRow.through)))


def set_coverage(
    session: Session, source: CoverageSource, through: dt.date, detail: str, *, today: dt.date | None = None
) -> Coverage:
    """Record (or move, either way) a source's coverage; a date after today is refused."""
    today = today or dt.date.today()
    if through > today:
        raise RecordError("through", f"{through} is in the future (today is {today}); coverage vouches for the past")
    row = session.get(CoverageRow, source)
    if row is None:
        row = CoverageRow(source=source, through=through, detail=detail)
        session.add(row)
    else:
        row.through, row.detail = through, detail
    session.flush()
    return as_dataclass(Coverage, row)


def events_after(session: Session, day: dt.date | None) -> int:
    """How many stored events are dated after the day (all of them when no source vouches for any day)."""
    query = select(func.count()).select_from(EventRow)
    if day is not None:
        query = query.where(EventRow.date > day)
    return session.scalar(query) or 0
