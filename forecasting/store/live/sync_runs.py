"""The `sync_runs` table: one row per `provocast events sync`, written when the run ends (append-only in use)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasting.domain.vocabulary import SyncOutcome
from forecasting.store.columns import as_dataclass
from forecasting.store.tables import SyncRunRow

# Outcomes whose ETag and Last-Modified describe the file the store holds: the next run may ask "changed since?".
MERGED_OUTCOMES = (SyncOutcome.CHANGED, SyncOutcome.UNCHANGED, SyncOutcome.NOT_MODIFIED)


@dataclass(frozen=True)
class SyncRun:
    id: int
    url: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: SyncOutcome
    http_status: int | None
    bytes: int | None
    sha256: str | None
    etag: str | None
    last_modified: str | None
    rows_new: int
    rows_changed: int
    rows_unchanged: int
    rows_removed: int
    rows_redated: int
    covered_through: dt.date | None
    error: str | None

    def describe(self) -> str:
        size = f"{self.bytes} bytes, sha256 {self.sha256[:12]}" if self.bytes is not None and self.sha256 else "-"
        rows = (
            f"new {self.rows_new}, changed {self.rows_changed}, unchanged {self.rows_unchanged}, "
            f"removed {self.rows_removed}, re-dated {self.rows_redated}"
        )
        text = f"#{self.id} {self.started_at:%Y-%m-%d %H:%M:%S} UTC {self.outcome}: {self.url} ({size}); {rows}"
        if self.covered_through:
            text += f"; coverage through {self.covered_through}"
        return text + (f"; error: {self.error}" if self.error else "")


def record_run(session: Session, values: dict[str, Any]) -> SyncRun:
    row = SyncRunRow(**values)
    session.add(row)
    session.flush()
    return as_dataclass(SyncRun, row)


def list_runs(session: Session, *, limit: int = 20, offset: int = 0) -> list[SyncRun]:
    """The latest runs first."""
    query = select(SyncRunRow).order_by(SyncRunRow.id.desc()).offset(offset).limit(limit)
    return [as_dataclass(SyncRun, row) for row in session.scalars(query)]


def last_run(session: Session) -> SyncRun | None:
    runs = list_runs(session, limit=1)
    return runs[0] if runs else None


def last_merged_run(session: Session, url: str) -> SyncRun | None:
    """The latest run of this URL whose file the store holds (its validators make the next request conditional)."""
    query = (
        select(SyncRunRow)
        .where(SyncRunRow.url == url, SyncRunRow.outcome.in_(MERGED_OUTCOMES))
        .order_by(SyncRunRow.id.desc())
        .limit(1)
    )
    row = session.scalars(query).first()
    return None if row is None else as_dataclass(SyncRun, row)
