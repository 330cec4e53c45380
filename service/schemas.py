"""Request and response bodies of the HTTP API (pydantic lives here, at the edge, and nowhere else).

Each response model converts from the engine's and the store's plain
dataclasses (`from_...` constructors); nothing here computes a forecast.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from forecasting.domain.records import ElectionRecord
from forecasting.serving.forecaster import ServedForecast
from forecasting.serving.model_set import ModelSkill
from forecasting.serving.payload import forecast_payload
from forecasting.store.jobs import Job
from forecasting.store.registry import ModelVersion
from forecasting.store.repository import StoredEvent

# --- errors ----------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    status: int = Field(examples=[422])
    code: str = Field(examples=["invalid_input"])
    message: str = Field(examples=["field 'days_before': Input should be less than or equal to 366"])
    field: str | None = Field(None, examples=["days_before"])


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        401: "No bearer token",
        403: "Writes disabled on this server, or a wrong token",
        404: "Unknown id",
        409: "Conflict",
        413: "Body too large",
        422: "Invalid input (the field is named)",
        503: "Store unavailable or no model loaded",
    }
    return {s: {"model": ErrorBody, "description": meaning.get(s, "Error")} for s in statuses}


# --- forecasts ---------------------------------------------------------------------------


class Skill(BaseModel):
    """Out-of-sample skill of the model on the backtest's election windows."""

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

    @classmethod
    def from_skill(cls, skill: ModelSkill | dict[str, Any]) -> Skill:
        data = skill if isinstance(skill, dict) else skill.__dict__
        return cls(**{name: data[name] for name in cls.model_fields})


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
    data_cutoff: dt.date = Field(description="Last day of data the models saw.")
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
    def from_served(cls, served: ServedForecast) -> Forecast:
        # The CLI's --json prints the same dict, so the two outputs cannot drift apart.
        return cls.model_validate(forecast_payload(served))


class ForecastRequest(BaseModel):
    """Any window after the data cutoff, at most 366 days long."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"start": "2028-03-13", "end": "2028-05-12", "event_types": ["missiles"]}]},
    )

    start: dt.date
    end: dt.date
    event_types: list[str] | None = Field(
        None,
        max_length=20,
        description="Event types or groups (weapons, missiles, ballistic, cruise, nuclear, satellite, artillery); default weapons.",
    )
    model: str | None = Field(None, max_length=40, description="A model name; default: the version's default model.")


# --- elections -------------------------------------------------------------------------------


class Election(BaseModel):
    id: str = Field(examples=["kr-legislative-2028-04-12"])
    date: dt.date
    country: Literal["KR", "US"]
    kind: str = Field(examples=["legislative"])
    announced: dt.date | None = Field(None, description="When a snap election's date became known.")
    source: str
    forecast_url: str = Field(examples=["/v1/elections/kr-legislative-2028-04-12/forecast"])

    @classmethod
    def from_record(cls, record: ElectionRecord) -> Election:
        return cls(
            id=record.id,
            date=record.date,
            country=record.country,
            kind=record.kind,  # type: ignore[arg-type]
            announced=record.announced,
            source=record.source,
            forecast_url=f"/v1/elections/{record.id}/forecast",
        )


class ElectionList(BaseModel):
    total: int
    items: list[Election]


class ElectionForecast(BaseModel):
    election: Election
    days_before: int
    days_after: int
    forecast: Forecast


class UpcomingItem(BaseModel):
    election: Election
    forecast: Forecast | None
    unavailable: str | None = Field(
        None, description="Why there is no forecast for this election (e.g. beyond the horizon)."
    )


class UpcomingForecasts(BaseModel):
    version: str
    data_cutoff: dt.date
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    days_before: int
    days_after: int
    items: list[UpcomingItem]

    model_config = ConfigDict(populate_by_name=True)


# --- events ------------------------------------------------------------------------------------


class Event(BaseModel):
    id: str = Field(examples=["2017-09-03-nuclear_test"])
    date: dt.date
    event_type: str = Field(examples=["nuclear_test"])
    weapons_test: bool
    count: int | None
    description: str
    source: str
    origin: str = Field(examples=["seed"], description="seed, import or manual")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_stored(cls, stored: StoredEvent) -> Event:
        r = stored.record
        return cls(
            id=r.id,
            date=r.date,
            event_type=r.event_type,
            weapons_test=r.weapons_test,
            count=r.count,
            description=r.description,
            source=r.source,
            origin=stored.origin,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
        )


class EventPage(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[Event]


class EventIn(BaseModel):
    """A new event, validated exactly as `provocast events add` validates it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "date": "2026-09-15",
                    "event_type": "cruise_missile",
                    "count": 2,
                    "description": "Two strategic cruise missiles fired over the Yellow Sea.",
                    "source": "https://example.org/report-of-the-launch",
                }
            ]
        },
    )

    id: str | None = Field(None, max_length=100, description="Defaults to DATE-TYPE, the seeds' id scheme.")
    date: str = Field(max_length=20, description="Local date in Korea, YYYY-MM-DD; not in the future.")
    event_type: str = Field(max_length=40)
    weapons_test: bool | None = Field(None, description="Defaults from the event type.")
    count: int | None = Field(None, description="How many launches or shots, 1-1000; omit when unknown.")
    description: str = Field(max_length=4000)
    source: str = Field(max_length=4000)

    def as_row(self, weapons_default: bool) -> dict[str, str]:
        """The CSV-shaped row `forecasting.domain.records.event_from_row` validates (as the CLI builds it)."""
        return {
            "id": self.id if self.id is not None else f"{self.date.strip()}-{self.event_type.strip()}",
            "date": self.date,
            "event_type": self.event_type,
            "weapons_test": str(weapons_default if self.weapons_test is None else self.weapons_test),
            "count": "" if self.count is None else str(self.count),
            "description": self.description,
            "source": self.source,
        }


# --- models, jobs, backtests ----------------------------------------------------------------------


class ModelVersionOut(BaseModel):
    id: str = Field(examples=["20261125-150102-ab12cd34"])
    status: Literal["candidate", "active", "retired"]
    serving: bool = Field(description="Whether this process is answering forecasts with this version.")
    created_at: dt.datetime
    promoted_at: dt.datetime | None
    retired_at: dt.datetime | None
    data_cutoff: dt.date
    data_hash: str
    trained_at: dt.datetime
    default_model: str
    effect_model: str
    artifact_sha256: str
    artifact_bytes: int
    job_id: str | None
    skill: Skill | None = Field(description="The default model's backtest skill on election windows.")

    @classmethod
    def from_version(cls, version: ModelVersion, serving_id: str | None) -> ModelVersionOut:
        skill = version.default_skill
        return cls(
            id=version.id,
            status=version.status,
            serving=version.id == serving_id,  # type: ignore[arg-type]
            created_at=version.created_at,
            promoted_at=version.promoted_at,
            retired_at=version.retired_at,
            data_cutoff=version.data_cutoff,
            data_hash=version.data_hash,
            trained_at=version.trained_at,
            default_model=version.default_model,
            effect_model=version.effect_model,
            artifact_sha256=version.artifact_sha256,
            artifact_bytes=version.artifact_bytes,
            job_id=version.job_id,
            skill=None if skill is None else Skill.from_skill(skill),
        )


class ModelList(BaseModel):
    active: str | None = Field(description="The registry's active version.")
    serving: str | None = Field(description="The version this process answers with.")
    load_error: str | None = Field(None, description="Why the active version is not the one served, if it is not.")
    items: list[ModelVersionOut]


class BacktestSummaryRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    horizon: int
    group: str
    model: str
    windows: int
    with_event: int
    mean_probability: float | None
    brier: float | None
    log_loss: float | None
    brier_skill_vs_climatology: float | None
    brier_skill_vs_trailing_year: float | None
    coverage_80: float | None
    coverage_95: float | None


class ModelMetrics(BaseModel):
    horizon_days: int | None
    skill: dict[str, Skill] = Field(description="Per model, on the backtest's election windows.")
    backtest_summary: list[BacktestSummaryRow]
    best_model_by_horizon: dict[str, str]
    election_effect: list[dict[str, Any]] = Field(description="What the backtest says about election effects.")
    failures: list[dict[str, str]] = Field(description="Models that could not be fitted for some group, and why.")
    timings: dict[str, float]
    training: dict[str, Any]


class ModelVersionDetail(ModelVersionOut):
    metrics: ModelMetrics

    @classmethod
    def from_detail(cls, version: ModelVersion, serving_id: str | None) -> ModelVersionDetail:
        base = ModelVersionOut.from_version(version, serving_id).model_dump()
        m = version.metrics
        metrics = ModelMetrics(
            horizon_days=m.get("horizon_days"),
            skill={name: Skill.from_skill(s) for name, s in m.get("skill", {}).items()},
            backtest_summary=[BacktestSummaryRow(**row) for row in m.get("backtest_summary", [])],
            best_model_by_horizon={str(k): v for k, v in m.get("best_model_by_horizon", {}).items()},
            election_effect=m.get("election_effect", []),
            failures=m.get("failures", []),
            timings=m.get("timings", {}),
            training=m.get("training", {}),
        )
        return cls(**base, metrics=metrics)


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"promote": "auto"}]})

    promote: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: promote when no worse than the active version on election windows."
    )
    cutoff: dt.date | None = Field(None, description="Train on the history up to this day (default: the last event).")


class JobOut(BaseModel):
    id: str = Field(examples=["job-20261125-150102-3fa2c1"])
    kind: str = Field(examples=["retrain"])
    status: Literal["queued", "running", "succeeded", "failed"]
    arguments: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    exit_code: int | None
    message: str | None
    version_id: str | None = Field(description="The version the job stored, if any.")
    promoted: bool | None
    output: list[str] = Field(description="The job's progress lines.")
    url: str

    @classmethod
    def from_job(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            arguments=job.arguments,  # type: ignore[arg-type]
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            exit_code=job.exit_code,
            message=job.message,
            version_id=job.version_id,
            promoted=job.promoted,
            output=job.output.splitlines(),
            url=f"/v1/jobs/{job.id}",
        )


class BacktestForecast(BaseModel):
    model: str
    cutoff: dt.date
    probability_any: float
    expected_count: float
    election_effect: float | None
    brier: float
    log_loss: float
    replaced_by_climatology: bool


class BacktestWindow(BaseModel):
    window_id: str
    group: str = Field(examples=["kr_legislative"])
    election_id: str | None
    election_date: dt.date | None
    start: dt.date
    end: dt.date
    horizon_days: int
    observed_count: int = Field(description="What happened: events in the window.")
    forecasts: list[BacktestForecast] = Field(description="What each model said, from data up to its cutoff.")


class Backtests(BaseModel):
    version: str
    data_cutoff: dt.date
    horizon_days: int | None
    summary: list[BacktestSummaryRow] = Field(description="Scores over all election windows, per model.")
    items: list[BacktestWindow]


# --- health -----------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    model: dict[str, Any] | None
    store: dict[str, Any]
    reasons: list[str]
