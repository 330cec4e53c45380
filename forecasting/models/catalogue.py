"""Every model by name: how to build one and how to restore one from its stored parameters."""

from __future__ import annotations

from typing import Any

from forecasting.domain.vocabulary import ModelName
from forecasting.domain.window import WindowSpec
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW
from forecasting.models.base import DEFAULT_SAMPLES, CountModel
from forecasting.models.components import BASELINE, COMPONENT_MODELS, PERSISTENCE, UnknownModel
from forecasting.models.ensemble import EnsembleModel

__all__ = [
    "ALL_MODELS",
    "BASELINE",
    "COMPONENT_MODELS",
    "PERSISTENCE",
    "UnknownModel",
    "build_model",
    "model_class",
    "model_from_dict",
]

ALL_MODELS: dict[ModelName, type[CountModel]] = {**COMPONENT_MODELS, EnsembleModel.name: EnsembleModel}


def model_class(name: str) -> type[CountModel]:
    if name not in ALL_MODELS:
        raise UnknownModel(f"unknown model {name!r}; expected one of: {', '.join(ALL_MODELS)}")
    return ALL_MODELS[ModelName(name)]


def build_model(
    name: str,
    event_types: tuple[str, ...],
    window: WindowSpec = ELECTION_COVARIATE_WINDOW,
    samples: int = DEFAULT_SAMPLES,
) -> CountModel:
    return model_class(name)(event_types=event_types, window=window, samples=samples)


def model_from_dict(data: dict[str, Any]) -> CountModel:
    return model_class(data["model"]).from_dict(data)
