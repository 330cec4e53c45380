"""Every model by name: how to build one and how to restore one from its stored parameters."""

from __future__ import annotations

from typing import Any

from forecasting.domain.window import WindowSpec
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW
from forecasting.models.base import DEFAULT_SAMPLES, CountModel
from forecasting.models.ensemble import EnsembleModel
from forecasting.models.glm import NegativeBinomialGlmModel, NegativeBinomialGlmNoElectionModel, PoissonGlmModel
from forecasting.models.hawkes import HawkesModel
from forecasting.models.prophet_model import ProphetModel
from forecasting.models.trailing_rate import ClimatologyModel, TrailingYearModel

# The models fitted on their own; the ensemble is built from them.
COMPONENT_MODELS: dict[str, type[CountModel]] = {
    cls.name: cls
    for cls in (
        ClimatologyModel,
        TrailingYearModel,
        PoissonGlmModel,
        NegativeBinomialGlmModel,
        NegativeBinomialGlmNoElectionModel,
        ProphetModel,
        HawkesModel,
    )
}
BASELINE = ClimatologyModel.name
PERSISTENCE = TrailingYearModel.name
ALL_MODELS: dict[str, type[CountModel]] = {**COMPONENT_MODELS, EnsembleModel.name: EnsembleModel}


class UnknownModel(ValueError):
    pass


def model_class(name: str) -> type[CountModel]:
    if name not in ALL_MODELS:
        raise UnknownModel(f"unknown model {name!r}; expected one of: {', '.join(ALL_MODELS)}")
    return ALL_MODELS[name]


def build_model(
    name: str,
    event_types: tuple[str, ...],
    window: WindowSpec = ELECTION_COVARIATE_WINDOW,
    samples: int = DEFAULT_SAMPLES,
) -> CountModel:
    return model_class(name)(event_types=event_types, window=window, samples=samples)


def model_from_dict(data: dict[str, Any]) -> CountModel:
    return model_class(data["model"]).from_dict(data)
