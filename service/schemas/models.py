"""Model version and job bodies: the registry's versions with their metrics, retrain requests and jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field, field_validator

from forecasting.domain.vocabulary import JobStatus, VersionStatus
from forecasting.store.registry import ModelVersion
from service.schemas.backtests import BacktestSummaryRow
from service.schemas.forecasts import Skill
from service.schemas.rules import IsoDate


class ModelVersionOut(BaseModel):
    """Built from a registry ModelVersion (`ModelVersionOut.of(version, serving_id)`)."""

    # Serialised, `serving` is always there (it is only given a default to be filled in after validation).
    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)

    id: str = Field(examples=["20261125-150102-ab12cd34"])
    status: VersionStatus
    serving: bool = Field(False, description="Whether this process is answering forecasts with this version.")
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
    skill: Skill | None = Field(
        validation_alias=AliasChoices("default_skill", "skill"),
        description="The default model's backtest skill on election windows.",
    )

    @classmethod
    def of(cls, version: ModelVersion, serving_id: str | None) -> ModelVersionOut:
        return cls.model_validate(version).model_copy(update={"serving": version.id == serving_id})


class ModelList(BaseModel):
    active: str | None = Field(description="The registry's active version.")
    serving: str | None = Field(description="The version this process answers with.")
    load_error: str | None = Field(None, description="Why the active version is not the one served, if it is not.")
    items: list[ModelVersionOut]


class ModelMetrics(BaseModel):
    """A version's stored metrics (a dict of the registry's); any part an older version lacks is empty."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    horizon_days: int | None = None
    skill: dict[str, Skill] = Field({}, description="Per model, on the backtest's election windows.")
    backtest_summary: list[BacktestSummaryRow] = []
    best_model_by_horizon: dict[str, str] = {}
    election_effect: list[dict[str, Any]] = Field([], description="What the backtest says about election effects.")
    failures: list[dict[str, str]] = Field([], description="Models that could not be fitted for some group, and why.")
    timings: dict[str, float] = {}
    training: dict[str, Any] = {}

    @field_validator("best_model_by_horizon", mode="before")
    @classmethod
    def _horizons_as_text(cls, value: dict[Any, str]) -> dict[str, str]:
        return {str(horizon): model for horizon, model in value.items()}


class ModelVersionDetail(ModelVersionOut):
    metrics: ModelMetrics

    @classmethod
    def of(cls, version: ModelVersion, serving_id: str | None) -> ModelVersionDetail:
        return cls.model_validate(version).model_copy(update={"serving": version.id == serving_id})


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"promote": "auto"}]})

    promote: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: promote when no worse than the active version on election windows."
    )
    cutoff: IsoDate | None = Field(
        None, description="Train on the history up to this day, not in the future (default: the last event)."
    )


class JobOut(BaseModel):
    """Built from a store Job (`JobOut.model_validate(job)`)."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["job-20261125-150102-3fa2c1"])
    kind: str = Field(examples=["retrain"])
    status: JobStatus
    arguments: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    exit_code: int | None
    message: str | None
    version_id: str | None = Field(description="The version the job stored, if any.")
    promoted: bool | None
    output: list[str] = Field(description="The job's progress lines (empty unless the bearer token is sent).")

    @field_validator("output", mode="before")
    @classmethod
    def _lines(cls, value: str | list[str]) -> list[str]:
        return value.splitlines() if isinstance(value, str) else value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/v1/jobs/{self.id}"


class JobList(BaseModel):
    items: list[JobOut] = Field(description="The latest jobs first.")
