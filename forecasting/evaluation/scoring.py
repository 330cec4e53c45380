"""Proper scores for binary and count forecasts, and the reliability table.

Binary: will at least one event happen in the window? Brier score and log
loss (natural log). Counts: ranked probability score over the window-count
distribution (the discrete CRPS), a smoothed log loss of the observed count,
and coverage of the central intervals. Lower is better for every score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Simulated probabilities can be exactly 0 or 1; one event in a thousand is
# as sure as any forecast of these data deserves to be scored.
PROBABILITY_CLIP = 1e-3
RELIABILITY_BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def brier(probability: npt.ArrayLike, outcome: npt.ArrayLike) -> npt.NDArray[np.float64]:
    score: npt.NDArray[np.float64] = (np.asarray(probability, dtype=float) - np.asarray(outcome, dtype=float)) ** 2
    return score


def log_loss(probability: npt.ArrayLike, outcome: npt.ArrayLike) -> npt.NDArray[np.float64]:
    p = np.clip(np.asarray(probability, dtype=float), PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    y = np.asarray(outcome, dtype=float)
    score: npt.NDArray[np.float64] = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return score


def ranked_probability_score(count_probabilities: list[float], observed: int) -> float:
    """Sum over k of (P(count <= k) - [observed <= k])^2: the CRPS of an integer forecast."""
    pmf = np.asarray(count_probabilities, dtype=float)
    top = max(len(pmf), observed + 1)
    cdf = np.cumsum(np.pad(pmf, (0, top - len(pmf))))
    step = (np.arange(top) >= observed).astype(float)
    return float(np.sum((cdf - step) ** 2))


def count_log_loss(count_probabilities: list[float], observed: int, samples: int) -> float:
    """-log P(observed count), with half a sample added to every listed count.

    The smoothing keeps a count the simulation never drew from scoring as
    infinitely wrong. The last listed probability is the tail bucket.
    """
    pmf = np.asarray(count_probabilities, dtype=float)
    smoothed = (pmf * samples + 0.5) / (samples + 0.5 * len(pmf))
    return float(-np.log(smoothed[min(observed, len(pmf) - 1)]))


def skill_score(score: float, reference: float) -> float | None:
    """1 - score / reference: positive when better than the reference, 0 when equal."""
    if reference <= 0:
        return None
    return 1.0 - score / reference


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    forecasts: int
    mean_probability: float | None
    observed_frequency: float | None


def reliability_table(probability: np.ndarray, outcome: np.ndarray) -> list[ReliabilityBin]:
    probability = np.asarray(probability, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    rows = []
    edges = RELIABILITY_BINS
    for i, (lower, upper) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        last = i == len(edges) - 2
        inside = (probability >= lower) & ((probability <= upper) if last else (probability < upper))
        n = int(inside.sum())
        rows.append(
            ReliabilityBin(
                lower=lower,
                upper=upper,
                forecasts=n,
                mean_probability=float(probability[inside].mean()) if n else None,
                observed_frequency=float(outcome[inside].mean()) if n else None,
            )
        )
    return rows
