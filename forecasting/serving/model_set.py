"""The trained model set: what one registry version stores and what the service loads to answer forecasts.

It is plain JSON (`dumps`/`loads`, through `to_dict`/`from_dict`): fitted
parameters, the backtest report, and each model's out-of-sample skill.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from forecasting.domain.vocabulary import WEAPONS_GROUP, EventGroup, ModelName
from forecasting.evaluation.dense_report import DenseReport
from forecasting.evaluation.report import BacktestReport
from forecasting.models.base import CountModel
from forecasting.models.catalogue import model_from_dict
from forecasting.models.window.baselines import TrailingRate
from forecasting.models.window.calibration import Calibration
from forecasting.models.window.direct import DirectWindowModel, window_model_from_dict
from forecasting.serving.lazy_parts import LazyParts, write_parts
from forecasting.serving.stored_answers import StoredAnswers, answers_from_dict, answers_to_dict

# /2 carries the stored answers; a /1 artifact (without them) still loads, its answers simulated once on load.
ARTIFACT_FORMAT = "provocast.model_set/2"
READABLE_FORMATS = ("provocast.model_set/1", ARTIFACT_FORMAT)
BACKTESTED_GROUP = WEAPONS_GROUP


@dataclass(frozen=True)
class ModelSkill:
    """Out-of-sample skill of one model on the backtest's election windows."""

    model: str
    horizon_days: int
    election_windows: int
    brier: float
    log_loss: float
    climatology_log_loss: float
    brier_skill_vs_climatology: float | None
    brier_skill_vs_trailing_year: float | None
    coverage_80: float
    coverage_95: float


@dataclass(frozen=True)
class FitFailure:
    """A model that could not be fitted for an event group at the set's cutoff: it is left out."""

    group: EventGroup
    model: ModelName
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"group": self.group, "model": self.model, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> FitFailure:
        return cls(EventGroup(data["group"]), ModelName(data["model"]), data["reason"])


@dataclass
class TrainedModelSet:
    cutoff: date
    data_hash: str
    trained_at: datetime
    default_model: str
    effect_model: str  # the best-scoring model with an election term: it reports election effects
    # Event group -> model name -> fitted model (read from an artifact, each is built on first use).
    models: Mapping[str, Mapping[str, CountModel]]
    failures: list[FitFailure]
    skill: dict[str, ModelSkill]  # model name -> skill on the backtested group
    backtest: BacktestReport | None  # None for a set fitted without a backtest (written as {})
    timings: dict[str, float] = field(default_factory=dict)
    # Direct window models by event group, or by single event type (what unions are answered from).
    window_models: Mapping[str, Mapping[str, DirectWindowModel]] = field(default_factory=dict)
    # Per event type: its events up to the cutoff, and its climatology then (for rare types inside a union).
    type_events: dict[str, int] = field(default_factory=dict)
    type_rates: dict[str, TrailingRate] = field(default_factory=dict)
    # Model name -> the recalibration of its probabilities on the backtested group (fitted on closed windows).
    calibrations: dict[str, Calibration] = field(default_factory=dict)
    dense: DenseReport | None = None
    answers: StoredAnswers | None = None  # what every servable forecast needs (see serving.stored_answers)

    def group_models(self, group: str) -> Mapping[str, CountModel]:
        return self.models.get(group, {})

    def calibration(self, group: str, model: str) -> Calibration:
        """The recalibration published probabilities of this model pass through (the identity off the backtested
        group, where no closed windows were scored)."""
        return self.calibrations.get(model, Calibration()) if group == BACKTESTED_GROUP else Calibration()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "cutoff": self.cutoff.isoformat(),
            "data_hash": self.data_hash,
            "trained_at": self.trained_at.isoformat(),
            "default_model": self.default_model,
            "effect_model": self.effect_model,
            "models": {g: write_parts(ms, _count_model_dict) for g, ms in self.models.items()},
            "failures": [f.to_dict() for f in self.failures],
            "skill": {n: s.__dict__ for n, s in self.skill.items()},
            "backtest": self.backtest.to_dict() if self.backtest is not None else {},
            "timings": self.timings,
            "window_models": {k: write_parts(ms, _window_model_dict) for k, ms in self.window_models.items()},
            "type_events": dict(self.type_events),
            "type_rates": {t: r.to_dict() for t, r in self.type_rates.items()},
            "calibrations": {n: c.to_dict() for n, c in self.calibrations.items()},
            "dense": None if self.dense is None else self.dense.to_dict(),
            **({} if self.answers is None else {"answers": answers_to_dict(self.answers)}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainedModelSet:
        if data.get("format") not in READABLE_FORMATS:
            raise ValueError(f"not a Provocast model set (format {data.get('format')!r})")
        return cls(
            cutoff=date.fromisoformat(data["cutoff"]),
            data_hash=data["data_hash"],
            trained_at=datetime.fromisoformat(data["trained_at"]),
            default_model=data["default_model"],
            effect_model=data["effect_model"],
            models={g: LazyParts(ms, model_from_dict, f"model of {g}") for g, ms in data["models"].items()},
            failures=[FitFailure.from_dict(f) for f in data["failures"]],
            skill={n: ModelSkill(**s) for n, s in data["skill"].items()},
            backtest=BacktestReport.from_dict(data["backtest"]) if data["backtest"] else None,
            timings=dict(data.get("timings", {})),
            window_models={
                k: LazyParts(ms, window_model_from_dict, f"window model of {k}")
                for k, ms in data.get("window_models", {}).items()
            },
            type_events={t: int(n) for t, n in data.get("type_events", {}).items()},
            type_rates={t: TrailingRate.from_dict(r) for t, r in data.get("type_rates", {}).items()},
            calibrations={n: Calibration.from_dict(c) for n, c in data.get("calibrations", {}).items()},
            dense=DenseReport.from_dict(data["dense"]) if data.get("dense") else None,
            answers=answers_from_dict(data["answers"]) if "answers" in data else None,
        )


def _count_model_dict(model: CountModel) -> dict[str, Any]:
    return model.to_dict()


def _window_model_dict(model: DirectWindowModel) -> dict[str, Any]:
    return model.to_dict()


def dumps(model_set: TrainedModelSet) -> str:
    return json.dumps(model_set.to_dict(), separators=(",", ":"), allow_nan=False)


def loads(text: str) -> TrainedModelSet:
    return TrainedModelSet.from_dict(json.loads(text))
