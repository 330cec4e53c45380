"""An ensemble: a weighted mixture of the component models' forecast distributions.

The weights are given: they come from backtest scores on windows that closed
before the ensemble's cutoff only (see `forecasting.evaluation.stacking`). Components that fail to fit are reported and left out,
their weight shared among the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP, ModelName
from forecasting.domain.window import WindowSpec
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW
from forecasting.models.base import (
    DEFAULT_SAMPLES,
    CountForecast,
    CountModel,
    ModelFitError,
    SimulatedPaths,
)
from forecasting.models.components import component_class, component_from_dict
from forecasting.models.window_summary import WindowSamples


def concatenate_forecasts(
    forecasts: dict[str, CountForecast], weights: dict[str, float], name: str = "ensemble"
) -> CountForecast:
    """Pool component forecasts whose path counts were already allocated by weight."""
    names = list(forecasts)
    if not names:
        raise ModelFitError(name, "no component forecast to mix")
    first = forecasts[names[0]]
    takes = np.array([forecasts[n].paths.shape[0] for n in names])
    any_election = any(forecasts[n].baseline_intensity is not None for n in names)
    return CountForecast(
        model=name,
        event_types=first.event_types,
        cutoff=first.cutoff,
        days=first.days,
        paths=_stack_rows([forecasts[n].paths for n in names], takes),
        intensity=_stack_rows([forecasts[n].intensity for n in names], takes),
        baseline_intensity=_stack_rows([_baseline_or_own(forecasts[n]) for n in names], takes)
        if any_election
        else None,
        baseline_paths=_stack_rows([_baseline_paths_or_own(forecasts[n]) for n in names], takes)
        if any_election
        else None,
        notes=["weights: " + ", ".join(f"{n} {weights[n]:.2f}" for n in names)],
        election_effect_interval=_mixture_has_interval([forecasts[n] for n in names]),
    )


def mix_window_samples(samples: dict[str, WindowSamples], weights: dict[str, float]) -> WindowSamples:
    """The same mixture as `mix_forecasts`, on per-path window sums (what backtests keep)."""
    names = _weighted_names(samples, weights, "ensemble")
    takes = _allocation(names, weights, len(samples[names[0]].totals))
    any_election = any(samples[n].baseline_sums is not None for n in names)
    return WindowSamples(
        totals=_stack_rows([samples[n].totals for n in names], takes),
        intensity_sums=_stack_rows([samples[n].intensity_sums for n in names], takes),
        baseline_sums=_stack_rows(
            [s.baseline_sums if s.baseline_sums is not None else s.intensity_sums for s in (samples[n] for n in names)],
            takes,
        )
        if any_election
        else None,
        baseline_totals=_stack_rows(
            [s.baseline_totals if s.baseline_totals is not None else s.totals for s in (samples[n] for n in names)],
            takes,
        )
        if any_election
        else None,
        effect_interval=any(samples[n].effect_interval for n in names if samples[n].baseline_sums is not None),
    )


def _weighted_names(items: dict[str, Any], weights: dict[str, float], name: str) -> list[str]:
    names = [n for n in items if weights.get(n, 0.0) > 0]
    if not names:
        raise ModelFitError(name, "no component forecast to mix")
    return names


def _allocation(names: list[str], weights: dict[str, float], total: int) -> np.ndarray:
    shares = np.array([weights[n] for n in names], dtype=float)
    return _largest_remainder(shares / shares.sum(), total)


def _stack_rows(arrays: list[np.ndarray], takes: np.ndarray) -> np.ndarray:
    # Paths are exchangeable, so the first `take` of each component are a fair draw.
    return np.concatenate([array[:take] for array, take in zip(arrays, takes, strict=True)], axis=0)


def _baseline_or_own(forecast: CountForecast) -> np.ndarray:
    return forecast.baseline_intensity if forecast.baseline_intensity is not None else forecast.intensity


def _baseline_paths_or_own(forecast: CountForecast) -> np.ndarray:
    return forecast.baseline_paths if forecast.baseline_paths is not None else forecast.paths


def _mixture_has_interval(forecasts: list[CountForecast]) -> bool:
    # The pooled per-path ratios carry model uncertainty too; one component with
    # a known interval is enough for the mixture's interval to mean something.
    return any(f.election_effect_interval for f in forecasts if f.baseline_intensity is not None)


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = shares * total
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: total - counts.sum()]:
        counts[i] += 1
    allocated: np.ndarray = counts
    return allocated


class EnsembleModel(CountModel):
    name = ModelName.ENSEMBLE
    has_election_term = True

    def __init__(
        self,
        event_types: tuple[str, ...] = EVENT_GROUPS[WEAPONS_GROUP],
        window: WindowSpec = ELECTION_COVARIATE_WINDOW,
        samples: int = DEFAULT_SAMPLES,
        weights: dict[str, float] | None = None,
    ):
        super().__init__(event_types, window, samples)
        self.weights = dict(weights or {})
        self.components: dict[str, CountModel] = {}
        self.failures: dict[str, str] = {}

    def fit(self, history: History, cutoff: date) -> EnsembleModel:
        fitted: dict[str, CountModel] = {}
        for name in self.weights:
            component = component_class(name)(self.event_types, self.window, self.samples)
            try:
                fitted[name] = component.fit(history, cutoff)
            except ModelFitError as error:
                self.failures[name] = error.reason
        return self.use_components(fitted, cutoff)

    def use_components(self, fitted: dict[str, CountModel], cutoff: date) -> EnsembleModel:
        """Adopt already fitted components (retraining fits each model once and reuses it here)."""
        for name in self.weights:
            if name not in fitted and name not in self.failures:
                self.failures[name] = "not fitted"
        self.components = {n: m for n, m in fitted.items() if self.weights.get(n, 0.0) > 0}
        if not self.components:
            raise ModelFitError(
                self.name, "every component failed: " + "; ".join(f"{n}: {r}" for n, r in self.failures.items())
            )
        total = sum(self.weights[n] for n in self.components)
        self.weights = {n: self.weights[n] / total for n in self.components}
        self.cutoff = cutoff
        self.fit_notes = [f"{n} left out: {reason}" for n, reason in self.failures.items()] + [
            f"{n}: {note}" for n, m in self.components.items() for note in m.fit_notes if note.startswith("election_")
        ]
        return self

    def _simulate(self, days: pd.DatetimeIndex, rng: np.random.Generator, samples: int) -> SimulatedPaths:
        # Each component simulates only the paths the mixture takes from it.
        names = list(self.components)
        takes = _allocation(names, self.weights, samples)
        forecasts = {}
        for name, take in zip(names, takes, strict=True):
            child = np.random.default_rng(rng.integers(2**63))
            if take > 0:
                component = self.components[name]
                forecasts[name] = component.as_forecast(days, component._simulate(days, child, int(take)))
        mixed = concatenate_forecasts(forecasts, self.weights)
        self.election_effect_interval = mixed.election_effect_interval
        return SimulatedPaths(mixed.paths, mixed.intensity, mixed.baseline_intensity, mixed.baseline_paths, mixed.notes)

    def parameters(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "failures": self.failures,
            "components": {name: model.to_dict() for name, model in self.components.items()},
        }

    def load_parameters(self, data: dict[str, Any]) -> None:
        self.weights = {k: float(v) for k, v in data["weights"].items()}
        self.failures = dict(data.get("failures", {}))
        self.components = {name: component_from_dict(spec) for name, spec in data["components"].items()}
