"""Count samplers driven by given uniforms.

Drawing counts by inverting the CDF of given uniforms lets a model run the
same random paths twice, with and without the election covariates, so the
election effect compares like with like (common random numbers).
"""

from __future__ import annotations

import numpy as np

# Cap on the expected count of a single day inside simulations. A day's count
# is the number of distinct event kinds that day (ballistic, cruise, ...), and
# no day of the history has more than three; an expected two a day is a
# campaign at full tilt. The cap stops a self-exciting path that has drawn
# extreme coefficients from running away to counts no day has ever had.
MAX_DAILY_RATE = 2.0


def poisson_from_uniform(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson(mean) draws by CDF inversion of u (same shapes)."""
    return negative_binomial_from_uniform(u, mean, 0.0)


def negative_binomial_from_uniform(u: np.ndarray, mean: np.ndarray, alpha: float) -> np.ndarray:
    """NB2 draws (variance mean + alpha * mean^2) by CDF inversion; alpha = 0 is Poisson."""
    mean = np.minimum(np.asarray(mean, dtype=float), MAX_DAILY_RATE)
    if alpha <= 0:
        pmf = np.exp(-mean)
    else:
        size = 1.0 / alpha
        prob = mean / (mean + size)
        pmf = np.power(1.0 - prob, size)
    cdf = pmf.copy()
    counts = np.zeros(mean.shape, dtype=np.int64)
    k = 0
    # Typical daily means are below 1, so few passes are needed.
    while True:
        above = u > cdf
        if not above.any() or k > 200:
            break
        counts += above
        # P(k + 1) = P(k) times the ratio of successive probabilities.
        pmf = pmf * (mean / (k + 1) if alpha <= 0 else prob * (k + size) / (k + 1))
        cdf = cdf + pmf
        k += 1
    return counts


def gamma_multipliers(rng: np.random.Generator, samples: int, alpha: float) -> np.ndarray:
    """Per-path rate multipliers with mean 1 and variance alpha (1 when alpha is 0)."""
    if alpha <= 0:
        return np.ones(samples)
    return rng.gamma(shape=1.0 / alpha, scale=alpha, size=samples)
