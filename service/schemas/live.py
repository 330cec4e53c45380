"""Live-history bodies: coverage per source, the sync runs, and `/v1/status`."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from forecasting.domain.vocabulary import CoverageSource, SyncOutcome


class CoverageOut(BaseModel):
    """Built from a store Coverage row."""

    model_config = ConfigDict(from_attributes=True)

    source: CoverageSource = Field(description="Who vouches: the seeds, a sync, an import, or a curator.")
    through: dt.date = Field(description="The history is complete through this day, by this source.")
    detail: str = Field(examples=["sync of https://raw.githubusercontent.com/.../north_korea_provocations.csv"])
    updated_at: dt.datetime


class SyncRunOut(BaseModel):
    """Built from a store SyncRun (`SyncRunOut.model_validate(run)`)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str = Field(description="What was fetched (a URL, or the path of a local file given with --file).")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: SyncOutcome
    http_status: int | None = Field(examples=[200])
    bytes: int | None = Field(description="Size of the file fetched (or, for a 304, of the file the store holds).")
    sha256: str | None
    etag: str | None
    last_modified: str | None
    rows_new: int
    rows_changed: int
    rows_unchanged: int
    rows_removed: int
    rows_redated: int = Field(description="Of the removed rows, those that came back under another date.")
    covered_through: dt.date | None = Field(description="The sync's coverage after this run.")
    error: str | None = Field(description="Why the run was refused or failed.")


class SyncRunList(BaseModel):
    items: list[SyncRunOut] = Field(description="The latest runs first.")


class ServedHistory(BaseModel):
    version: str
    data_cutoff: dt.date = Field(description="The coverage date the served version learned from.")
    history_age_days: int = Field(description="Days from the served version's data cutoff to today.")


class Status(BaseModel):
    """How fresh the history is: coverage per source, the last sync, and what the served version learned from."""

    today: dt.date
    history_through: dt.date | None = Field(
        description="The store's coverage: the latest date any source vouches for (the next retrain's data cutoff)."
    )
    history_age_days: int | None = Field(description="Days from history_through to today.")
    stale: bool = Field(description="history_age_days is over stale_after_days (or no source vouches at all).")
    stale_after_days: int = Field(description="PROVOCAST_STALE_AFTER_DAYS.", examples=[14])
    events_after_coverage: int = Field(
        description="Stored events dated after history_through: kept, but not learned from until coverage reaches them."
    )
    coverage: list[CoverageOut]
    last_sync: SyncRunOut | None
    served: ServedHistory | None = Field(description="The version this process serves (None before one loads).")
