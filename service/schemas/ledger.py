"""Ledger bodies: every published election forecast with its score, and each version's track record."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from forecasting.lifecycle import ledger


class LedgerEntryOut(BaseModel):
    """Built from a ledger entry (`LedgerEntryOut.model_validate(entry)`)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    version: str = Field(examples=["20261125-150446-cf0be5bb"], validation_alias=AliasChoices("version_id", "version"))
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
    trailing_year_probability_any: float | None = Field(
        description="The trailing-year rate's probability for the same window (entries recorded since migration 0004)."
    )
    election_effect: float | None
    election_effect_interval: tuple[float, float] | None
    status: Literal["open", "scored"] = Field(
        description="open: the history's coverage has not reached the window's last day yet (awaiting data)."
    )
    observed_count: int | None = Field(description="Weapons-test events in the window (once scored).")
    observed_any: bool | None
    brier: float | None = Field(description="(probability - outcome)^2; 0 is perfect.")
    log_loss: float | None
    climatology_brier: float | None
    climatology_log_loss: float | None
    trailing_year_brier: float | None
    inside_80: bool | None
    inside_95: bool | None
    history_end: dt.date | None = Field(description="The store's coverage date when it was scored.")
    scored_at: dt.datetime | None
    summary: str = Field(description="The entry in plain words.")

    @model_validator(mode="before")
    @classmethod
    def _from_entry(cls, data: Any) -> Any:
        """An entry's fields, with the ones this body shows another way (intervals as pairs, words)."""
        if not isinstance(data, ledger.LedgerEntry):
            return data
        lower, upper = data.election_effect_lower, data.election_effect_upper
        return {
            **{f.name: getattr(data, f.name) for f in dataclasses.fields(data)},
            "interval_80": (data.lower_80, data.upper_80),
            "interval_95": (data.lower_95, data.upper_95),
            "election_effect_interval": None if lower is None or upper is None else (lower, upper),
            "status": "scored" if data.scored else "open",
            "observed_any": data.observed_any,
            "summary": data.in_words(),
        }


class VersionRecordOut(BaseModel):
    """Built from a ledger VersionRecord (`VersionRecordOut.model_validate(record)`)."""

    model_config = ConfigDict(from_attributes=True)

    version: str = Field(validation_alias=AliasChoices("version_id", "version"))
    entries: int = Field(description="Forecasts recorded for this version.")
    scored: int = Field(description="Of those, how many windows have closed and been scored.")
    with_event: int = Field(description="Scored windows that had at least one weapons test.")
    brier: float | None = Field(description="Mean Brier score of the scored forecasts (0 is perfect).")
    climatology_brier: float | None = Field(description="Climatology's mean Brier score on the same windows.")
    trailing_year_brier: float | None = Field(
        description="The trailing-year rate's mean Brier score on the same windows (those recorded with it)."
    )
    brier_skill_vs_climatology: float | None = Field(
        description="1 - brier / climatology_brier; above 0 beats climatology."
    )
    log_loss: float | None
    climatology_log_loss: float | None
    coverage_80: float | None = Field(description="Share of scored windows whose count fell inside the 80% interval.")
    coverage_95: float | None
    next_close: dt.date | None = Field(description="The earliest window end still to be scored.")
    summary: str = Field(description="The track record in plain words.")

    @model_validator(mode="before")
    @classmethod
    def _in_words(cls, data: Any) -> Any:
        if isinstance(data, ledger.VersionRecord):
            return {**{f.name: getattr(data, f.name) for f in dataclasses.fields(data)}, "summary": data.in_words()}
        return data


class Ledger(BaseModel):
    history_end: dt.date | None = Field(
        description="The store's coverage date (the history is complete through it): windows ending by then have closed."
    )
    about: str
    versions: list[VersionRecordOut] = Field(description="Per model version, the track record to date.")
    items: list[LedgerEntryOut]
