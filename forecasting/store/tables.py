"""The store's tables: events, elections and exercises, mirroring `forecasting.domain.records`.

Rows convert to and from the record dataclasses; nothing outside the store
sees these classes. `events.origin` says how a row came in: `seed` rows are
owned by `provocast seed` (it inserts, updates and deletes them to mirror
`seeds/events.csv`); `import` and `manual` rows came from users and seeding
never touches them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import fields
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from forecasting.domain.records import ElectionRecord, EventRecord, ExerciseRecord
from forecasting.domain.vocabulary import CoverageSource, EventGroup, JobStatus, Origin, SyncOutcome, VersionStatus
from forecasting.store.columns import StrEnumColumn, UtcDateTime, as_dataclass, utc_now

# Named constraints keep future migrations (and SQLite batch mode) predictable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A job is in flight while queued or running: at most one per kind (the partial unique index on jobs).
JOB_IN_FLIGHT = (JobStatus.QUEUED, JobStatus.RUNNING)


def _one_of(column: str, values: Iterable[StrEnum]) -> str:
    """The SQL condition the migrations wrote by hand: `status = 'active'` or `status IN ('queued', 'running')`."""
    quoted = [f"'{value}'" for value in values]
    return f"{column} = {quoted[0]}" if len(quoted) == 1 else f"{column} IN ({', '.join(quoted)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(
        UtcDateTime, default=utc_now, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, server_default=func.current_timestamp()
    )


class FromRecord:
    """A table whose rows mirror a record dataclass field for field (the id never changes)."""

    def assign(self, record: Any) -> None:
        for f in fields(record):
            if f.name != "id":
                setattr(self, f.name, getattr(record, f.name))


class EventRow(Timestamped, FromRecord, Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(_one_of("origin", Origin), name="origin"),
        CheckConstraint("count IS NULL OR count >= 1", name="count_positive"),
        # Pages are read in (date, id) order, either way: the index gives that order, so a page reads only its rows
        # (with date alone, every row of the page's dates was sorted per request, however many share one date).
        Index("ix_events_date_id", "date", "id"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date)
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    weapons_test: Mapped[bool] = mapped_column(Boolean)
    count: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    origin: Mapped[Origin] = mapped_column(StrEnumColumn(Origin, 10))

    @classmethod
    def from_record(cls, record: EventRecord, origin: Origin) -> EventRow:
        row = cls(id=record.id, origin=origin)
        row.assign(record)
        return row

    def as_record(self) -> EventRecord:
        return as_dataclass(EventRecord, self)


class EventDeletionRow(Base):
    """A deleted event as it was, who deleted it and when. Append-only (triggers of migration 0005)."""

    __tablename__ = "event_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(100), index=True)
    origin: Mapped[str] = mapped_column(String(10))
    deleted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    deleted_by: Mapped[str] = mapped_column(String(300))
    row: Mapped[dict[str, Any]] = mapped_column(JSON)


class ElectionRow(Timestamped, FromRecord, Base):
    __tablename__ = "elections"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    announced: Mapped[dt.date | None] = mapped_column(Date)

    @classmethod
    def from_record(cls, record: ElectionRecord) -> ElectionRow:
        row = cls(id=record.id)
        row.assign(record)
        return row

    def as_record(self) -> ElectionRecord:
        return as_dataclass(ElectionRecord, self)


class ExerciseRow(Timestamped, FromRecord, Base):
    __tablename__ = "exercises"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates_ordered"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    start_date: Mapped[dt.date] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date] = mapped_column(Date)
    approximate: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)

    @classmethod
    def from_record(cls, record: ExerciseRecord) -> ExerciseRow:
        row = cls(id=record.id)
        row.assign(record)
        return row

    def as_record(self) -> ExerciseRecord:
        return as_dataclass(ExerciseRecord, self)


# --- model registry, retraining jobs and the retrain lock (forecasting.store.registry, .jobs, .retrain_lock) ---


class ModelVersionRow(Base):
    """One trained model set. At most one row is active (a partial unique index); the artifact is never edited."""

    __tablename__ = "model_versions"
    __table_args__ = (
        CheckConstraint(_one_of("status", VersionStatus), name="status"),
        Index(
            "uq_model_versions_one_active",
            "status",
            unique=True,
            sqlite_where=text(_one_of("status", [VersionStatus.ACTIVE])),
            postgresql_where=text(_one_of("status", [VersionStatus.ACTIVE])),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[VersionStatus] = mapped_column(StrEnumColumn(VersionStatus, 10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    promoted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    data_cutoff: Mapped[dt.date] = mapped_column(Date)
    data_hash: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    default_model: Mapped[str] = mapped_column(String(40))
    effect_model: Mapped[str] = mapped_column(String(40))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    artifact: Mapped[str] = mapped_column(Text, deferred=True)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_bytes: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(40))


class JobRow(Base):
    """A background job (a retrain run as its own process); at most one per kind is queued or running."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_one_of("status", JobStatus), name="status"),
        Index(
            "uq_jobs_one_in_flight",
            "kind",
            unique=True,
            sqlite_where=text(_one_of("status", JOB_IN_FLIGHT)),
            postgresql_where=text(_one_of("status", JOB_IN_FLIGHT)),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[JobStatus] = mapped_column(StrEnumColumn(JobStatus, 10))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    output: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[str | None] = mapped_column(String(40))
    promoted: Mapped[bool | None] = mapped_column(Boolean)


class LockRow(Base):
    """A named lock across processes and hosts: an owner, a heartbeat and an expiry (see retrain_lock)."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(300))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(40))
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


# --- the forecast ledger (forecasting.lifecycle.ledger) ------------------------------------------------------


class LedgerEntryRow(Base):
    """One published forecast for one election window, and (once the window has closed) its score.

    Append-only: database triggers (migration 0003) refuse any DELETE, any
    change to the forecast columns, and any change to an outcome column that
    is already filled; scoring may only fill outcome columns that are NULL.
    """

    __tablename__ = "forecast_ledger"
    __table_args__ = (
        UniqueConstraint(
            "version_id", "election_id", "window_start", "window_end", "event_group", name="uq_forecast_ledger_entry"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(String(40), ForeignKey("model_versions.id"), index=True)
    election_id: Mapped[str] = mapped_column(String(100))
    election_date: Mapped[dt.date] = mapped_column(Date)
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    event_group: Mapped[EventGroup] = mapped_column(StrEnumColumn(EventGroup, 20))
    model: Mapped[str] = mapped_column(String(40))
    data_cutoff: Mapped[dt.date] = mapped_column(Date)
    probability_any: Mapped[float] = mapped_column(Float)
    expected_count: Mapped[float] = mapped_column(Float)
    lower_80: Mapped[int] = mapped_column(Integer)
    upper_80: Mapped[int] = mapped_column(Integer)
    lower_95: Mapped[int] = mapped_column(Integer)
    upper_95: Mapped[int] = mapped_column(Integer)
    climatology_probability_any: Mapped[float] = mapped_column(Float)
    election_effect: Mapped[float | None] = mapped_column(Float)
    election_effect_lower: Mapped[float | None] = mapped_column(Float)
    election_effect_upper: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The trailing-year rate's probability for the same window (migration 0004; None when the version lacks it).
    trailing_year_probability_any: Mapped[float | None] = mapped_column(Float)
    # The outcome: NULL until the window has closed and the history covers it, then filled once.
    observed_count: Mapped[int | None] = mapped_column(Integer)
    brier: Mapped[float | None] = mapped_column(Float)
    log_loss: Mapped[float | None] = mapped_column(Float)
    climatology_brier: Mapped[float | None] = mapped_column(Float)
    climatology_log_loss: Mapped[float | None] = mapped_column(Float)
    trailing_year_brier: Mapped[float | None] = mapped_column(Float)
    inside_80: Mapped[bool | None] = mapped_column(Boolean)
    inside_95: Mapped[bool | None] = mapped_column(Boolean)
    history_end: Mapped[dt.date | None] = mapped_column(Date)
    scored_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


# --- coverage and sync runs (forecasting.store.live) ----------------------------------------------


class CoverageRow(Base):
    """Per source, the date through which the store's history is complete (the history's data cutoff is the latest)."""

    __tablename__ = "coverage"
    __table_args__ = (CheckConstraint(_one_of("source", CoverageSource), name="source"),)

    source: Mapped[CoverageSource] = mapped_column(StrEnumColumn(CoverageSource, 10), primary_key=True)
    through: Mapped[dt.date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class SyncRunRow(Base):
    """One run of `provocast events sync`: what was fetched and what it did to the store (append-only)."""

    __tablename__ = "sync_runs"
    __table_args__ = (CheckConstraint(_one_of("outcome", SyncOutcome), name="outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[SyncOutcome] = mapped_column(StrEnumColumn(SyncOutcome, 20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_removed: Mapped[int] = mapped_column(Integer, default=0)
    rows_redated: Mapped[int] = mapped_column(Integer, default=0)
    covered_through: Mapped[dt.date | None] = mapped_column(Date)
    error: Mapped[str | None] = mapped_column(Text)
