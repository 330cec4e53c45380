"""Forecast bodies: one window's forecast, and the request for any window."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from forecasting.domain.vocabulary import ModelName
from forecasting.serving.forecaster import ServedForecast
from forecasting.serving.payload import Freshness, forecast_payload
from service.schemas.rules import VOCABULARY_NOTE, EventTypeName, IsoDate


class Skill(BaseModel):
    """Out-of-sample skill of the model on the backtest's election windows."""

    # Built from a ModelSkill (the trained set's) or from its stored dict (a version's metrics).
    model_config = ConfigDict(from_attributes=True)

    model: str = Field(examples=["hawkes"])
    horizon_days: int = Field(description="How far ahead the backtest forecasts were made.", examples=[30])
    election_windows: int = Field(description="Election windows scored.", examples=[35])
    brier: float = Field(examples=[0.134])
    brier_skill_vs_climatology: float | None = Field(
        description="1 - Brier / Brier of climatology; above 0 beats the long-run rate.", examples=[0.204]
    )
    brier_skill_vs_trailing_year: float | None = Field(
        description="The same against the trailing-year rate.", examples=[0.027]
    )
    log_loss: float = Field(examples=[0.412])
    climatology_log_loss: float = Field(description="Climatology's log loss on the same windows.", examples=[0.495])
    coverage_80: float = Field(description="Share of windows whose count fell in the 80% interval.", examples=[0.886])
    coverage_95: float = Field(examples=[0.971])


class CountInterval(BaseModel):
    level: float = Field(examples=[0.8])
    lower: int = Field(examples=[1])
    upper: int = Field(examples=[10])


class DailyIntensity(BaseModel):
    date: dt.date
    expected_count: float = Field(examples=[0.0698])
    probability_any: float = Field(examples=[0.066])


class ElectionEffect(BaseModel):
    """Expected count in the window over the expected count had there been no election.

    Estimated by `model`: the forecast's own model when it has election terms, otherwise the best-scoring
    model that has them; the counts and probability here are that model's.
    """

    ratio: float | None = Field(examples=[1.08])
    lower: float | None = Field(description="95% interval, when the model knows its uncertainty.", examples=[0.91])
    upper: float | None = Field(examples=[1.31])
    expected_count_without_election: float | None = Field(examples=[4.24])
    probability_any_without_election: float | None = Field(examples=[0.905])
    model: str = Field(description="The model that estimated the effect.", examples=["hawkes"])
    note: str


class Window(BaseModel):
    start: dt.date
    end: dt.date
    days: int = Field(examples=[61])


class Forecast(BaseModel):
    """A forecast with everything needed to weigh it: version, data cutoff, skill, baseline, notes."""

    version: str = Field(description="Registry version that answered.", examples=["20261125-150102-ab12cd34"])
    data_cutoff: dt.date = Field(description="Last day of data the models saw: the history's coverage date.")
    history_through: dt.date = Field(
        description="The date through which the history this forecast learned from is complete (its coverage)."
    )
    history_age_days: int = Field(
        description="Days from history_through to today; past PROVOCAST_STALE_AFTER_DAYS (14) a note says so.",
        examples=[3],
    )
    model: str = Field(examples=["hawkes"])
    event_group: str = Field(examples=["weapons"])
    event_types: list[str]
    window: Window
    horizon_days: int = Field(description="Days from the data cutoff to the window's first day.")
    probability_any: float = Field(description="Probability of at least one event in the window.", examples=[0.92])
    expected_count: float = Field(examples=[4.58])
    intervals: list[CountInterval] = Field(description="80% and 95% intervals of the count.")
    climatology_probability_any: float = Field(
        description="What climatology (the long-run rate) gives for the same window.", examples=[0.88]
    )
    election_effect: ElectionEffect
    skill: Skill | None = Field(description="Backtest skill on election windows (None for groups not backtested).")
    summary: str = Field(description="The forecast in one plain sentence.")
    notes: list[str]
    daily: list[DailyIntensity]
    samples: int = Field(examples=[4000])

    @classmethod
    def from_served(cls, served: ServedForecast, freshness: Freshness) -> Forecast:
        # The CLI's --json prints the same dict, so the two outputs cannot drift apart.
        return cls.model_validate(forecast_payload(served, freshness))


class ForecastRequest(BaseModel):
    """Any window after the data cutoff, at most 366 days long."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"start": "2028-03-13", "end": "2028-05-12", "event_types": ["missiles"]}]},
    )

    start: IsoDate = Field(description="First day; after the version's data cutoff.")
    end: IsoDate = Field(description="Last day; on or after start, at most 366 days after it.")
    event_types: list[EventTypeName] | None = Field(
        None,
        max_length=20,
        description=f"Event types, groups or any union of them, repeated or comma-separated; default weapons. A union with too few events is refused (422) naming the count. {VOCABULARY_NOTE}",
    )
    model: ModelName | None = Field(None, description="A model name; default: the version's default model.")
