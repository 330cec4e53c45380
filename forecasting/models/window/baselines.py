"""The two baselines' probability of at least one event in a window, in closed form, at many origins.

The same fit as `forecasting.models.trailing_rate` (climatology: a rate per
calendar month over ten years; trailing year: a flat rate over 365 days; both
with gamma-mixed Poisson counts whose dispersion comes from 30-day blocks),
refitted at each window's origin from the daily series up to it. The count in
the window is then negative binomial, so P(none) = (1 + alpha S)^(-1/alpha)
for S the window's summed rate: no simulation needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecasting.domain.vocabulary import ModelName
from forecasting.models.trailing_rate import (
    BLOCK_DAYS,
    MONTH_PRIOR_DAYS,
    PRIOR_EVENTS,
    ClimatologyModel,
    TrailingRateModel,
    TrailingYearModel,
)
from forecasting.models.window.calibration import logit
from forecasting.models.window.distribution import probability_zero
from forecasting.models.window.features import CountSeries, FloatArray, IntArray, Windows

BASELINE_CLASSES: dict[str, type[TrailingRateModel]] = {
    ModelName.CLIMATOLOGY: ClimatologyModel,
    ModelName.TRAILING_YEAR: TrailingYearModel,
}


@dataclass(frozen=True)
class TrailingRate:
    """One baseline fitted at one origin: a rate per calendar month and the gamma dispersion alpha."""

    monthly: FloatArray
    alpha: float

    def expected(self, start: int, end: int) -> float:
        """The window's summed rate (its expected count), for day numbers start..end."""
        return float(self.monthly[month_of(np.arange(start, end + 1))].sum())

    def probability_any(self, start: int, end: int) -> tuple[float, float]:
        total = self.expected(start, end)
        return 1.0 - probability_zero(total, self.alpha), total

    def to_dict(self) -> dict[str, Any]:
        return {"monthly": self.monthly.tolist(), "alpha": self.alpha}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrailingRate:
        return cls(np.asarray(data["monthly"], dtype=float), float(data["alpha"]))


def month_of(day_numbers: IntArray) -> IntArray:
    """Calendar month (0 = January) of each day number."""
    months: IntArray = (day_numbers.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12).astype(
        np.int64
    )
    return months


def fit_at(series: CountSeries, origin: int, name: str) -> TrailingRate:
    """The baseline `name` fitted on the series up to the origin (a day number)."""
    monthly, alpha = trailing_rate_fits(series, np.array([origin]), name)
    return TrailingRate(monthly[0], float(alpha[0]))


def trailing_rate_fits(series: CountSeries, origins: IntArray, name: str) -> tuple[FloatArray, FloatArray]:
    """The baseline fitted at each origin, vectorised: monthly rates (origins x 12) and dispersions."""
    spec = BASELINE_CLASSES[name]
    values = np.diff(series.cumulative).astype(np.float64)
    onehot = np.eye(12)[month_of(np.arange(series.first_day, series.first_day + len(values)))]
    event_cum = np.vstack([np.zeros(12), np.cumsum(onehot * values[:, None], axis=0)])
    size_cum = np.vstack([np.zeros(12), np.cumsum(onehot, axis=0)])
    end = origins - series.first_day + 1
    begin = np.maximum(end - int(round(365.25 * spec.years)), 0)
    total = series.cumulative[end] - series.cumulative[begin]
    overall = (total + PRIOR_EVENTS) / np.maximum(end - begin, 1)
    monthly = np.repeat(overall[:, None], 12, axis=1)
    if spec.seasonal:
        sums, sizes = event_cum[end] - event_cum[begin], size_cum[end] - size_cum[begin]
        seasonal = (sums + overall[:, None] * MONTH_PRIOR_DAYS) / (sizes + MONTH_PRIOR_DAYS)
        monthly = np.where(sizes > 0, seasonal, monthly)
    return monthly, _dispersions(series, end, spec.dispersion_years)


def _dispersions(series: CountSeries, end: IntArray, years: float) -> FloatArray:
    """As `TrailingRateModel._block_dispersion`, at many origins: 30-day blocks ending on each origin."""
    span = np.minimum(int(round(365.25 * years)), end)
    blocks = span // BLOCK_DAYS
    k = np.arange(1, int(blocks.max(initial=0)) + 1)
    upper = end[:, None] - BLOCK_DAYS * (k[None, :] - 1)
    lower = np.maximum(upper - BLOCK_DAYS, 0)
    sums = (series.cumulative[np.maximum(upper, 0)] - series.cumulative[lower]).astype(np.float64)
    used = k[None, :] <= blocks[:, None]
    n = used.sum(axis=1)
    mean = np.where(used, sums, 0.0).sum(axis=1) / np.maximum(n, 1)
    var = np.where(used, (sums - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(n - 1, 1)
    alpha = np.where((n >= 3) & (mean > 0), np.maximum(0.0, (var - mean) / np.maximum(mean, 1e-12) ** 2), 0.0)
    out: FloatArray = alpha
    return out


def trailing_rate_probabilities(
    series: CountSeries, windows: Windows, name: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """P(at least one event), the expected count and the dispersion of each window's count, the baseline
    fitted at the window's origin."""
    if len(windows) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    origins, where = np.unique(windows.origin, return_inverse=True)
    monthly, alpha = trailing_rate_fits(series, origins, name)
    first = int(windows.start.min())
    onehot = np.eye(12)[month_of(np.arange(first, int(windows.end.max()) + 1))]
    month_cum = np.vstack([np.zeros(12), np.cumsum(onehot, axis=0)])
    days_by_month = month_cum[windows.end - first + 1] - month_cum[windows.start - first]
    mu = (monthly[where] * days_by_month).sum(axis=1)
    a = alpha[where]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_zero = np.where(a > 1e-9, (1.0 + a * mu) ** (-1.0 / np.maximum(a, 1e-9)), np.exp(-mu))
    return 1.0 - p_zero, mu, a


def baseline_logits(series: CountSeries, windows: Windows) -> FloatArray:
    """Both baselines' logits of P(any) for each window, as the direct models read them."""
    columns = [logit(trailing_rate_probabilities(series, windows, name)[0]) for name in BASELINE_CLASSES]
    return np.column_stack(columns)
