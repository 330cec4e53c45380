"""The store's tables: events, elections and exercises, mirroring `forecasting.domain.records`.

Rows convert to and from the record dataclasses; nothing outside the store
sees these classes. `events.origin` says how a row came in: `seed` rows are
owned by `provocast seed` (it inserts, updates and deletes them to mirror
`seeds/events.csv`); `import` and `manual` rows came from users and seeding
never touches them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
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

Origin = Literal["seed", "import", "manual"]

# Named constraints keep future migrations (and SQLite batch mode) predictable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now, server_default=func.current_timestamp()
    )


class EventRow(Timestamped, Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("origin IN ('seed', 'import', 'manual')", name="origin"),
        CheckConstraint("count IS NULL OR count >= 1", name="count_positive"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    weapons_test: Mapped[bool] = mapped_column(Boolean)
    count: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(10))

    @classmethod
    def from_record(cls, record: EventRecord, origin: Origin) -> EventRow:
        row = cls(id=record.id, origin=origin)
        row.assign(record)
        return row

    def assign(self, record: EventRecord) -> None:
        self.date = record.date
        self.event_type = record.event_type
        self.weapons_test = record.weapons_test
        self.count = record.count
        self.description = record.description
        self.source = record.source

    def as_record(self) -> EventRecord:
        return EventRecord(
            id=self.id,
            date=self.date,
            event_type=self.event_type,
            weapons_test=self.weapons_test,
            count=self.count,
            description=self.description,
            source=self.source,
        )


class ElectionRow(Timestamped, Base):
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

    def assign(self, record: ElectionRecord) -> None:
        self.date = record.date
        self.country = record.country
        self.kind = record.kind
        self.source = record.source
        self.announced = record.announced

    def as_record(self) -> ElectionRecord:
        return ElectionRecord(
            id=self.id,
            date=self.date,
            country=self.country,
            kind=self.kind,
            source=self.source,
            announced=self.announced,
        )


class ExerciseRow(Timestamped, Base):
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

    def assign(self, record: ExerciseRecord) -> None:
        self.name = record.name
        self.start_date = record.start_date
        self.end_date = record.end_date
        self.approximate = record.approximate
        self.source = record.source

    def as_record(self) -> ExerciseRecord:
        return ExerciseRecord(
            id=self.id,
            name=self.name,
            start_date=self.start_date,
            end_date=self.end_date,
            approximate=self.approximate,
            source=self.source,
        )


# --- model registry, retraining jobs and the retrain lock (forecasting.store.registry, .jobs, .retrain_lock) ---

MODEL_STATUSES = ("candidate", "active", "retired")
JOB_STATUSES = ("queued", "running", "succeeded", "failed")


class ModelVersionRow(Base):
    """One trained model set. At most one row is active (a partial unique index); the artifact is never edited."""

    __tablename__ = "model_versions"
    __table_args__ = (
        CheckConstraint("status IN ('candidate', 'active', 'retired')", name="status"),
        Index(
            "uq_model_versions_one_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    data_cutoff: Mapped[dt.date] = mapped_column(Date)
    data_hash: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    default_model: Mapped[str] = mapped_column(String(40))
    effect_model: Mapped[str] = mapped_column(String(40))
    metrics: Mapped[dict] = mapped_column(JSON)
    artifact: Mapped[str] = mapped_column(Text, deferred=True)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_bytes: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(40))


class JobRow(Base):
    """A background job (a retrain run as its own process); at most one per kind is queued or running."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
        Index(
            "uq_jobs_one_in_flight",
            "kind",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    arguments: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
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
    acquired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


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
    event_group: Mapped[str] = mapped_column(String(20))
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
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # The outcome: NULL until the window has closed and the history covers it, then filled once.
    observed_count: Mapped[int | None] = mapped_column(Integer)
    brier: Mapped[float | None] = mapped_column(Float)
    log_loss: Mapped[float | None] = mapped_column(Float)
    climatology_brier: Mapped[float | None] = mapped_column(Float)
    climatology_log_loss: Mapped[float | None] = mapped_column(Float)
    inside_80: Mapped[bool | None] = mapped_column(Boolean)
    inside_95: Mapped[bool | None] = mapped_column(Boolean)
    history_end: Mapped[dt.date | None] = mapped_column(Date)
    scored_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


FORECAST_COLUMNS = tuple(
    c.name
    for c in LedgerEntryRow.__table__.columns
    if c.name
    not in (
        "observed_count",
        "brier",
        "log_loss",
        "climatology_brier",
        "climatology_log_loss",
        "inside_80",
        "inside_95",
        "history_end",
        "scored_at",
    )
)
OUTCOME_COLUMNS = tuple(c.name for c in LedgerEntryRow.__table__.columns if c.name not in FORECAST_COLUMNS)
