"""The models fitted on their own, by name: what an ensemble is built from.

Below the ensemble and the catalogue, so that the ensemble can build and
restore its components without importing the catalogue that lists it.
"""

from __future__ import annotations

from typing import Any

from forecasting.domain.vocabulary import ModelName
from forecasting.models.base import CountModel
from forecasting.models.glm import NegativeBinomialGlmModel, NegativeBinomialGlmNoElectionModel, PoissonGlmModel
from forecasting.models.hawkes import HawkesModel
from forecasting.models.prophet_model import ProphetModel
from forecasting.models.trailing_rate import ClimatologyModel, TrailingYearModel

COMPONENT_MODELS: dict[ModelName, type[CountModel]] = {
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
# Every forecast is scored against these two.
BASELINE = ModelName.CLIMATOLOGY
PERSISTENCE = ModelName.TRAILING_YEAR


class UnknownModel(ValueError):
    pass


def component_class(name: str) -> type[CountModel]:
    if name not in COMPONENT_MODELS:
        raise UnknownModel(f"unknown model {name!r}; expected one of: {', '.join(COMPONENT_MODELS)}")
    return COMPONENT_MODELS[ModelName(name)]


def component_from_dict(data: dict[str, Any]) -> CountModel:
    return component_class(data["model"]).from_dict(data)
