"""The interface every model shares, and the count forecast it returns.

A model is fitted on a `History` up to a cutoff (`fit(history, cutoff)`) and
then answers `predict(start, end)` with simulated paths of daily counts for a
window after the cutoff. Everything a fitted model needs to predict is in its
`to_dict()` output (plain JSON data), so a stored model predicts without the
history or the database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP, ModelName
from forecasting.domain.window import WindowSpec
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW, Calendars, day_index
from forecasting.features.series import daily_counts

DEFAULT_SAMPLES = 4000


class ModelFitError(RuntimeError):
    """A model could not be fitted (did not converge, too few events, degenerate data).

    Such a model is reported and left out; it is never used silently.
    """

    def __init__(self, model: str, reason: str):
        super().__init__(f"{model}: {reason}")
        self.model = model
        self.reason = reason


class ForecastRequestError(ValueError):
    """A prediction was asked for something the fitted model cannot answer."""


@dataclass
class CountForecast:
    """Simulated daily counts for a window, from one model fitted at `cutoff`.

    `paths[s, d]` is the count on day d of sample path s; `intensity[s, d]` is
    the expected count on that day given the path's parameters and history.
    `baseline_intensity` and `baseline_paths` are the same had there been no
    election (None for models with no election term), drawn from the same
    random numbers: the ratio of the intensity sums is the election effect.
    """

    model: str
    event_types: tuple[str, ...]
    cutoff: date
    days: pd.DatetimeIndex
    paths: np.ndarray
    intensity: np.ndarray
    baseline_intensity: np.ndarray | None
    baseline_paths: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    # False when the model has no parameter uncertainty for its election term.
    election_effect_interval: bool = True

    @property
    def window_totals(self) -> np.ndarray:
        totals: np.ndarray = self.paths.sum(axis=1)
        return totals


@dataclass
class SimulatedPaths:
    """What `_simulate` returns for every day from the day after the cutoff."""

    paths: np.ndarray
    intensity: np.ndarray
    baseline_intensity: np.ndarray | None
    baseline_paths: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def window(self, first: int) -> SimulatedPaths:
        """The same paths from day index `first` on."""
        return SimulatedPaths(
            self.paths[:, first:],
            self.intensity[:, first:],
            None if self.baseline_intensity is None else self.baseline_intensity[:, first:],
            None if self.baseline_paths is None else self.baseline_paths[:, first:],
            self.notes,
        )


@dataclass
class TrainingData:
    """What a model may learn from at its cutoff: the daily series and the calendars known then."""

    counts: pd.Series
    calendars: Calendars
    cutoff: date


class CountModel(ABC):
    """Base class: one subclass per model, all with the same fit/predict interface."""

    name: ClassVar[ModelName]
    # Whether the model has election covariates (and so an election effect),
    # and whether it knows the uncertainty of that effect (an ensemble knows it once it has simulated).
    has_election_term: ClassVar[bool] = False
    election_effect_interval: bool = True

    def __init__(
        self,
        event_types: tuple[str, ...] = EVENT_GROUPS[WEAPONS_GROUP],
        window: WindowSpec = ELECTION_COVARIATE_WINDOW,
        samples: int = DEFAULT_SAMPLES,
    ):
        self.event_types = tuple(sorted(event_types))
        self.window = window
        self.samples = samples
        self.cutoff: date | None = None
        self.fit_notes: list[str] = []

    # --- interface ---------------------------------------------------------

    @abstractmethod
    def fit(self, history: History, cutoff: date) -> CountModel:
        """Learn from the history as it stood on the cutoff day, and nothing later."""

    def predict(
        self, start: date, end: date, event_types: tuple[str, ...] | None = None, seed: int = 0
    ) -> CountForecast:
        """Simulate daily counts for start..end (inclusive), which must lie after the cutoff."""
        cutoff = self._require_fitted()
        if event_types is not None and tuple(sorted(event_types)) != self.event_types:
            raise ForecastRequestError(
                f"{self.name} was fitted for event types {', '.join(self.event_types)}, "
                f"not {', '.join(sorted(event_types))}"
            )
        if end < start:
            raise ForecastRequestError(f"window end {end} is before its start {start}")
        if start <= cutoff:
            raise ForecastRequestError(
                f"window start {start} is not after the model's data cutoff {cutoff}; "
                "forecasts are for days the model has not seen"
            )
        rng = np.random.default_rng(seed)
        lead_days = day_index(cutoff + timedelta(days=1), end)
        first = (pd.Timestamp(start) - lead_days[0]).days
        simulated = self._simulate(lead_days, rng, self.samples).window(first)
        return self.as_forecast(lead_days[first:], simulated)

    def as_forecast(self, days: pd.DatetimeIndex, simulated: SimulatedPaths) -> CountForecast:
        return CountForecast(
            model=self.name,
            event_types=self.event_types,
            cutoff=self._require_fitted(),
            days=days,
            paths=simulated.paths,
            intensity=simulated.intensity,
            baseline_intensity=simulated.baseline_intensity,
            baseline_paths=simulated.baseline_paths,
            notes=self.fit_notes + simulated.notes,
            election_effect_interval=self.election_effect_interval,
        )

    def simulate_from_cutoff(self, days_ahead: int, seed: int = 0) -> tuple[pd.DatetimeIndex, SimulatedPaths]:
        """Paths for every day from the day after the cutoff, `days_ahead` days long."""
        cutoff = self._require_fitted()
        days = day_index(cutoff + timedelta(days=1), cutoff + timedelta(days=days_ahead))
        return days, self._simulate(days, np.random.default_rng(seed), self.samples)

    @abstractmethod
    def _simulate(self, days: pd.DatetimeIndex, rng: np.random.Generator, samples: int) -> SimulatedPaths:
        """Simulate `samples` paths of every day from the day after the cutoff through the window's end."""

    @abstractmethod
    def parameters(self) -> dict[str, Any]:
        """The fitted state as plain JSON data."""

    @abstractmethod
    def load_parameters(self, data: dict[str, Any]) -> None:
        """Restore the fitted state written by `parameters()`."""

    # --- persistence ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        cutoff = self._require_fitted()
        return {
            "model": self.name,
            "event_types": list(self.event_types),
            "window": self.window.to_dict(),
            "samples": self.samples,
            "cutoff": cutoff.isoformat(),
            "fit_notes": list(self.fit_notes),
            "parameters": self.parameters(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CountModel:
        model = cls(
            event_types=tuple(data["event_types"]),
            window=WindowSpec(**data["window"]),
            samples=int(data["samples"]),
        )
        model.cutoff = date.fromisoformat(data["cutoff"])
        model.fit_notes = list(data.get("fit_notes", []))
        model.load_parameters(data["parameters"])
        return model

    # --- helpers for subclasses -------------------------------------------

    def _require_fitted(self) -> date:
        if self.cutoff is None:
            raise ForecastRequestError(f"{self.name} has not been fitted")
        return self.cutoff

    def _training_data(self, history: History, cutoff: date) -> TrainingData:
        """The daily series from the first year with any weapons test through the cutoff."""
        known = history.known_at(cutoff)
        weapons = known.events[known.events["weapons_test"]]
        if weapons.empty:
            raise ModelFitError(self.name, f"no weapons tests in the history up to {cutoff}")
        start = date(weapons["date"].min().year, 1, 1)
        counts = daily_counts(known.events, self.event_types, start, cutoff)
        calendars = Calendars(known.elections, known.exercises, cutoff)
        return TrainingData(counts=counts, calendars=calendars, cutoff=cutoff)
