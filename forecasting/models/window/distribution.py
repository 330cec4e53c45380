"""The window count's distribution in closed form (numpy and math only: it runs at serving time).

A window's count is negative binomial with mean `mu` and NB2 dispersion `alpha`
(variance mu + alpha mu^2); alpha = 0 is Poisson.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

MAX_COUNT = 5000


def count_pmf(mu: float, alpha: float, upto: int | None = None) -> npt.NDArray[np.float64]:
    """P(count = k) for k = 0..upto (by default far enough into the tail to hold all but 1e-7)."""
    if upto is not None:
        return _pmf(mu, alpha, upto)
    top = int(min(MAX_COUNT, max(30.0, mu + 12.0 * math.sqrt(mu + alpha * mu * mu) + 10)))
    pmf = _pmf(mu, alpha, top)
    while pmf.sum() < 1 - 1e-7 and top < MAX_COUNT:
        top = min(2 * top, MAX_COUNT)
        pmf = _pmf(mu, alpha, top)
    return pmf


def _pmf(mu: float, alpha: float, top: int) -> npt.NDArray[np.float64]:
    k = np.arange(top + 1, dtype=np.float64)
    if alpha <= 1e-9:
        log_pmf = k * math.log(max(mu, 1e-300)) - mu - np.array([math.lgamma(x + 1) for x in k])
    else:
        r = 1.0 / alpha
        p = r / (r + mu)
        log_pmf = (
            np.array([math.lgamma(x + r) - math.lgamma(x + 1) for x in k])
            - math.lgamma(r)
            + r * math.log(p)
            + k * math.log(max(1.0 - p, 1e-300))
        )
    out: npt.NDArray[np.float64] = np.exp(log_pmf)
    return out


def probability_zero(mu: float, alpha: float) -> float:
    if alpha <= 1e-9:
        return math.exp(-mu)
    return float((1.0 + alpha * mu) ** (-1.0 / alpha))


def central_interval(mu: float, alpha: float, level: float) -> tuple[int, int]:
    """The central `level` interval of the count: the (1-level)/2 and (1+level)/2 quantiles."""
    cdf = np.cumsum(count_pmf(mu, alpha))
    tail = (1.0 - level) / 2.0
    lower = int(np.searchsorted(cdf, tail, side="left"))
    upper = int(np.searchsorted(cdf, 1.0 - tail, side="left"))
    return lower, min(upper, len(cdf) - 1)
