"""From simulated daily counts to what users read: probabilities, intervals, the election effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from forecasting.models.base import CountForecast

# Window-count probabilities are listed up to this count; the rest is one tail bucket.
MAX_LISTED_COUNT = 60
INTERVAL_LEVELS = (0.8, 0.95)
NO_ELECTION_TERM_NOTE = "this model has no election term, so it shows no election effect"
POINT_ESTIMATE_NOTE = "point estimate only: the model gives no uncertainty for its election term"
EFFECT_INTERVAL_NOTE = "95% interval over parameter and path uncertainty"


@dataclass(frozen=True)
class CountInterval:
    level: float
    lower: int
    upper: int


@dataclass(frozen=True)
class ElectionEffect:
    """Expected count in the window over the expected count had there been no election.

    "No election" means no election after the data cutoff: the paths are
    simulated from the cutoff, so an election whose window closed before this
    one opened can still reach it a little through self-excitation.

    `ratio` is None for models with no election term; `lower`/`upper` are None
    when the model has no parameter uncertainty for it.
    """

    ratio: float | None
    lower: float | None
    upper: float | None
    expected_count_without_election: float | None
    probability_any_without_election: float | None
    note: str


@dataclass(frozen=True)
class DailyIntensity:
    day: date
    expected_count: float
    probability_any: float


@dataclass
class WindowSamples:
    """Per sample path: the window's total count, and its summed intensity with and without elections."""

    totals: np.ndarray
    intensity_sums: np.ndarray
    baseline_sums: np.ndarray | None
    baseline_totals: np.ndarray | None = None
    effect_interval: bool = True

    @classmethod
    def from_forecast(cls, forecast: CountForecast) -> WindowSamples:
        return cls(
            totals=forecast.window_totals.astype(np.int32),
            intensity_sums=forecast.intensity.sum(axis=1).astype(np.float32),
            baseline_sums=None
            if forecast.baseline_intensity is None
            else forecast.baseline_intensity.sum(axis=1).astype(np.float32),
            baseline_totals=None
            if forecast.baseline_paths is None
            else forecast.baseline_paths.sum(axis=1).astype(np.int32),
            effect_interval=forecast.election_effect_interval,
        )

    @property
    def probability_any(self) -> float:
        return float(np.mean(self.totals > 0))

    @property
    def expected_count(self) -> float:
        # The mean of the intensities has less simulation noise than the mean of the counts.
        return float(np.mean(self.intensity_sums, dtype=np.float64))

    def interval(self, level: float) -> CountInterval:
        tail = (1.0 - level) / 2
        lower, upper = np.quantile(self.totals, [tail, 1.0 - tail], method="inverted_cdf")
        return CountInterval(level=level, lower=int(lower), upper=int(upper))

    def count_probabilities(self) -> list[float]:
        """P(count = k) for k = 0..MAX_LISTED_COUNT-1, then P(count >= MAX_LISTED_COUNT)."""
        clipped = np.minimum(self.totals, MAX_LISTED_COUNT)
        probabilities: list[float] = (np.bincount(clipped, minlength=MAX_LISTED_COUNT + 1) / len(self.totals)).tolist()
        return probabilities

    def election_effect(self) -> ElectionEffect:
        if self.baseline_sums is None:
            return ElectionEffect(None, None, None, None, None, NO_ELECTION_TERM_NOTE)
        expected_without = float(np.mean(self.baseline_sums, dtype=np.float64))
        ratio = self.expected_count / expected_without
        p_without = None if self.baseline_totals is None else float(np.mean(self.baseline_totals > 0))
        if not self.effect_interval:
            return ElectionEffect(ratio, None, None, expected_without, p_without, POINT_ESTIMATE_NOTE)
        # A path whose rate is nil with and without elections shows no effect (ratio 1), not 0/0.
        per_path = np.divide(
            self.intensity_sums,
            self.baseline_sums,
            out=np.ones(len(self.baseline_sums)),
            where=self.baseline_sums > 0,
        )
        lower, upper = np.quantile(per_path, [0.025, 0.975])
        return ElectionEffect(
            ratio,
            float(lower),
            float(upper),
            expected_without,
            p_without,
            EFFECT_INTERVAL_NOTE,
        )
