"""Self-excitation covariates: exponentially decayed sums of the events before each day.

`decayed_sums(counts, half_lives)[t]` is sum over s < t of counts[s] * 2**(-(t - s) / h).
Computed with a first-order recursive filter, so a 40-year daily series takes
well under a millisecond, and the same recursion steps the simulation forward.
"""

from __future__ import annotations

import numpy as np


def decay_factors(half_lives: tuple[float, ...]) -> np.ndarray:
    return np.power(0.5, 1.0 / np.asarray(half_lives, dtype=float))


def decayed_sums(counts: np.ndarray, half_lives: tuple[float, ...]) -> np.ndarray:
    """(days x half-lives) array of decayed sums of strictly earlier counts."""
    from scipy.signal import lfilter  # fitting only: scipy.signal would cost a serving process seconds to import

    counts = np.asarray(counts, dtype=float)
    out = np.empty((len(counts), len(half_lives)))
    for j, r in enumerate(decay_factors(half_lives)):
        out[:, j] = lfilter([0.0, r], [1.0, -r], counts)
    return out


def state_after(counts: np.ndarray, half_lives: tuple[float, ...]) -> np.ndarray:
    """The decayed sums on the day after the last count: the state a forecast starts from."""
    if len(counts) == 0:
        return np.zeros(len(half_lives))
    sums = decayed_sums(np.append(np.asarray(counts, dtype=float), 0.0), half_lives)
    last: np.ndarray = sums[-1]
    return last


# Half-saturation points of the transform below, in events: one event for
# campaign-scale half-lives, ten for the year-scale one that carries the era.
CAMPAIGN_HALF_SATURATION = 1.0
ERA_HALF_SATURATION = 10.0
CAMPAIGN_UP_TO_DAYS = 90.0


def excitation_transform(decayed: np.ndarray, half_lives: tuple[float, ...]) -> np.ndarray:
    """Covariates from decayed sums (same shape): D / (c + D), between 0 and 1.

    A log(1 + D) covariate lets a fitted log-linear model explode: once its
    coefficient reaches one, the simulated rate grows as fast as the counts
    that feed it. A bounded covariate caps how far recent activity can
    multiply the rate (by exp(coefficient)), so no fitted model can run away.
    """
    out = np.empty_like(decayed, dtype=float)
    for j, h in enumerate(half_lives):
        c = CAMPAIGN_HALF_SATURATION if h <= CAMPAIGN_UP_TO_DAYS else ERA_HALF_SATURATION
        out[..., j] = decayed[..., j] / (c + decayed[..., j])
    return out


def excitation_names(half_lives: tuple[float, ...]) -> list[str]:
    return [f"recent_h{int(h)}" for h in half_lives]
