"""The two baselines every model is scored against: long-run climatology and the trailing-year rate.

Both forecast a rate from counting past events, no covariates. Climatology
uses the trailing ten years with a rate per calendar month; the trailing-year
model uses the last 365 days only (persistence), which is much harder to beat
because tests come in eras.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import ModelName
from forecasting.models.base import CountModel, SimulatedPaths
from forecasting.models.sampling import gamma_multipliers, poisson_from_uniform

BLOCK_DAYS = 30
# Half an event spread over the span: keeps the rate above zero after a quiet decade.
PRIOR_EVENTS = 0.5
# Strength of the pull of each month's rate towards the overall rate, in days.
MONTH_PRIOR_DAYS = 30.0


class TrailingRateModel(CountModel):
    years: float = 10.0
    seasonal: bool = True
    dispersion_years: float = 10.0

    def fit(self, history: History, cutoff: date) -> TrailingRateModel:
        data = self._training_data(history, cutoff)
        span_start = pd.Timestamp(cutoff - timedelta(days=int(round(365.25 * self.years))) + timedelta(days=1))
        recent = data.counts[data.counts.index >= span_start]
        overall = (recent.sum() + PRIOR_EVENTS) / max(len(recent), 1)
        monthly = np.full(12, overall)
        if self.seasonal:
            by_month = recent.groupby(recent.index.month).agg(["sum", "size"])
            for month, row in by_month.iterrows():
                monthly[month - 1] = (row["sum"] + overall * MONTH_PRIOR_DAYS) / (row["size"] + MONTH_PRIOR_DAYS)
        self.monthly_rate = monthly
        self.alpha = self._block_dispersion(data.counts, cutoff)
        self.cutoff = cutoff
        self.fit_notes = [f"{int(recent.sum())} events in the {self.years:g} years before the cutoff"]
        return self

    def _block_dispersion(self, counts: pd.Series, cutoff: date) -> float:
        """Extra-Poisson variance of 30-day counts: alpha in var = mean + alpha * mean^2."""
        span_start = pd.Timestamp(cutoff - timedelta(days=int(round(365.25 * self.dispersion_years))))
        values = counts[counts.index > span_start].to_numpy()
        blocks = values[len(values) % BLOCK_DAYS :].reshape(-1, BLOCK_DAYS).sum(axis=1)
        if len(blocks) < 3 or blocks.mean() == 0:
            return 0.0
        mean, var = blocks.mean(), blocks.var(ddof=1)
        return float(max(0.0, (var - mean) / mean**2))

    def _simulate(self, days: pd.DatetimeIndex, rng: np.random.Generator, samples: int) -> SimulatedPaths:
        rate = self.monthly_rate[days.month.values - 1]
        multipliers = gamma_multipliers(rng, samples, self.alpha)
        intensity = multipliers[:, None] * rate[None, :]
        paths = poisson_from_uniform(rng.random(intensity.shape), intensity)
        return SimulatedPaths(paths=paths, intensity=intensity, baseline_intensity=None)

    def parameters(self) -> dict[str, Any]:
        return {"monthly_rate": [float(x) for x in self.monthly_rate], "alpha": self.alpha}

    def load_parameters(self, data: dict[str, Any]) -> None:
        self.monthly_rate = np.asarray(data["monthly_rate"], dtype=float)
        self.alpha = float(data["alpha"])


class ClimatologyModel(TrailingRateModel):
    """Rate per calendar month over the trailing ten years."""

    name = ModelName.CLIMATOLOGY
    years = 10.0
    seasonal = True
    dispersion_years = 10.0


class TrailingYearModel(TrailingRateModel):
    """Flat rate over the last 365 days (persistence)."""

    name = ModelName.TRAILING_YEAR
    years = 1.0
    seasonal = False
    dispersion_years = 3.0
