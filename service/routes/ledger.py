"""`/v1/ledger`: the track record, every published election forecast and how it did once its window closed.

Read-only: the ledger is written when a version becomes active and scored as
windows close (forecasting.lifecycle.ledger); no request writes to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from forecasting.lifecycle import ledger
from service.deps import read_session
from service.schemas import error_responses

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


class LedgerEntryOut(BaseModel):
    id: int
    version: str = Field(examples=["20261125-150446-cf0be5bb"])
    election_id: str = Field(examples=["us-midterm-2026-11-03"])
    election_date: dt.date
    country: str
    kind: str
    window_start: dt.date
    window_end: dt.date
    event_group: str = Field(examples=["weapons"])
    model: str = Field(examples=["hawkes"])
    data_cutoff: dt.date
    recorded_at: dt.datetime = Field(description="When the forecast was recorded (before its window closed).")
    probability_any: float = Field(description="The published probability of at least one weapons test.")
    expected_count: float
    interval_80: tuple[int, int]
    interval_95: tuple[int, int]
    climatology_probability_any: float = Field(
        description="Climatology's probability for the same window, recorded with it."
    )
    election_effect: float | None
    election_effect_interval: tuple[float, float] | None
    status: Literal["open", "scored"] = Field(description="open: the window has not closed in the store's history yet.")
    observed_count: int | None = Field(description="Weapons-test events in the window (once scored).")
    observed_any: bool | None
    brier: float | None = Field(description="(probability - outcome)^2; 0 is perfect.")
    log_loss: float | None
    climatology_brier: float | None
    climatology_log_loss: float | None
    inside_80: bool | None
    inside_95: bool | None
    history_end: dt.date | None = Field(description="The store's history end when it was scored.")
    scored_at: dt.datetime | None
    summary: str = Field(description="The entry in plain words.")

    @classmethod
    def from_entry(cls, e: ledger.LedgerEntry) -> LedgerEntryOut:
        effect_interval = (
            (e.election_effect_lower, e.election_effect_upper)
            if e.election_effect_lower is not None and e.election_effect_upper is not None
            else None
        )
        return cls(
            id=e.id,
            version=e.version_id,
            election_id=e.election_id,
            election_date=e.election_date,
            country=e.country,
            kind=e.kind,
            window_start=e.window_start,
            window_end=e.window_end,
            event_group=e.event_group,
            model=e.model,
            data_cutoff=e.data_cutoff,
            recorded_at=e.recorded_at,
            probability_any=e.probability_any,
            expected_count=e.expected_count,
            interval_80=(e.lower_80, e.upper_80),
            interval_95=(e.lower_95, e.upper_95),
            climatology_probability_any=e.climatology_probability_any,
            election_effect=e.election_effect,
            election_effect_interval=effect_interval,
            status="scored" if e.scored else "open",
            observed_count=e.observed_count,
            observed_any=e.observed_any,
            brier=e.brier,
            log_loss=e.log_loss,
            climatology_brier=e.climatology_brier,
            climatology_log_loss=e.climatology_log_loss,
            inside_80=e.inside_80,
            inside_95=e.inside_95,
            history_end=e.history_end,
            scored_at=e.scored_at,
            summary=e.in_words(),
        )


class VersionRecordOut(BaseModel):
    version: str
    entries: int = Field(description="Forecasts recorded for this version.")
    scored: int = Field(description="Of those, how many windows have closed and been scored.")
    with_event: int = Field(description="Scored windows that had at least one weapons test.")
    brier: float | None = Field(description="Mean Brier score of the scored forecasts (0 is perfect).")
    climatology_brier: float | None = Field(description="Climatology's mean Brier score on the same windows.")
    brier_skill_vs_climatology: float | None = Field(
        description="1 - brier / climatology_brier; above 0 beats climatology."
    )
    log_loss: float | None
    climatology_log_loss: float | None
    coverage_80: float | None = Field(description="Share of scored windows whose count fell inside the 80% interval.")
    coverage_95: float | None
    next_close: dt.date | None = Field(description="The earliest window end still to be scored.")
    summary: str = Field(description="The track record in plain words.")

    @classmethod
    def from_record(cls, r: ledger.VersionRecord) -> VersionRecordOut:
        return cls(
            version=r.version_id,
            entries=r.entries,
            scored=r.scored,
            with_event=r.with_event,
            brier=r.brier,
            climatology_brier=r.climatology_brier,
            brier_skill_vs_climatology=r.brier_skill_vs_climatology,
            log_loss=r.log_loss,
            climatology_log_loss=r.climatology_log_loss,
            coverage_80=r.coverage_80,
            coverage_95=r.coverage_95,
            next_close=r.next_close,
            summary=r.in_words(),
        )


class Ledger(BaseModel):
    history_end: dt.date | None = Field(
        description="The store's latest event date: windows ending by then have closed."
    )
    about: str
    versions: list[VersionRecordOut] = Field(description="Per model version, the track record to date.")
    items: list[LedgerEntryOut]


ABOUT = (
    "Every forecast the service published for an election window that had not closed, recorded once per model "
    "version and window and never changed; scored against what happened once the store's history covers the window. "
    "Brier score: the squared difference between the probability and what happened (1 or 0), 0 is perfect; "
    "climatology is the long-run seasonal rate, the score to beat."
)


def track_record_answer(record: ledger.TrackRecord) -> Ledger:
    return Ledger(
        history_end=record.history_end,
        about=ABOUT,
        versions=[VersionRecordOut.from_record(v) for v in record.versions],
        items=[LedgerEntryOut.from_entry(e) for e in record.entries],
    )


@router.get(
    "",
    response_model=Ledger,
    summary="The track record: every published election forecast, scored once its window closed",
    responses=error_responses(422, 503),
)
def track_record(
    session: Annotated[Session, Depends(read_session)],
    version: Annotated[str | None, Query(max_length=40, description="Only this model version.")] = None,
    election_id: Annotated[str | None, Query(max_length=100, description="Only this election.")] = None,
    status: Annotated[Literal["open", "scored"] | None, Query(description="Only open or only scored entries.")] = None,
) -> Ledger:
    scored = None if status is None else status == "scored"
    return track_record_answer(ledger.track_record(session, version_id=version, election_id=election_id, scored=scored))
