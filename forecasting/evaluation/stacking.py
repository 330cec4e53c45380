"""The ensemble's weights: stacking on backtest scores.

The weights maximise the log score of the mixture's probability of at least
one event on windows that had closed before the ensemble's cutoff, pulled
towards equal weights. The backtest computes them at each cutoff from the
outcomes scored so far; training computes the final ones from the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from forecasting.evaluation.scoring import PROBABILITY_CLIP

# Pseudo-windows of equal weighting added to the stacking objective.
STACKING_PRIOR_WINDOWS = 1.0


class ScoredProbability(Protocol):
    """One model's forecast of one window at one horizon, and whether an event came."""

    @property
    def window_id(self) -> str: ...
    @property
    def horizon(self) -> int: ...
    @property
    def model(self) -> str: ...
    @property
    def probability_any(self) -> float: ...
    @property
    def observed_any(self) -> bool: ...


def stacking_weights(
    probabilities: npt.NDArray[np.float64], outcomes: npt.NDArray[np.float64], iterations: int = 200
) -> npt.NDArray[np.float64]:
    """Mixture weights maximising sum log(sum_k w_k p_ik(outcome_i)) plus a pull to equal weights.

    `probabilities` is windows x models: each model's probability of at least
    one event. With no windows the weights are equal.
    """
    n_windows, n_models = probabilities.shape
    weights = np.full(n_models, 1.0 / n_models)
    if n_windows == 0:
        return weights
    p = np.clip(probabilities, PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    likelihood = np.where(outcomes[:, None] > 0, p, 1 - p)
    for _ in range(iterations):  # EM for mixture weights
        responsibility = likelihood * weights[None, :]
        responsibility /= responsibility.sum(axis=1, keepdims=True)
        weights = (responsibility.sum(axis=0) + STACKING_PRIOR_WINDOWS / n_models) / (
            n_windows + STACKING_PRIOR_WINDOWS
        )
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


def weights_from_scores(scored: Iterable[ScoredProbability], models: Sequence[str]) -> dict[str, float]:
    """Stacking weights of `models` from the windows (and horizons) every one of them forecast."""
    by_window: dict[tuple[str, int], dict[str, ScoredProbability]] = {}
    for forecast in scored:
        if forecast.model in models:
            by_window.setdefault((forecast.window_id, forecast.horizon), {})[forecast.model] = forecast
    complete = [row for row in by_window.values() if all(m in row for m in models)]
    probabilities = np.array([[row[m].probability_any for m in models] for row in complete]).reshape(
        len(complete), len(models)
    )
    outcomes = np.array([float(row[models[0]].observed_any) for row in complete])
    return dict(zip(models, stacking_weights(probabilities, outcomes).tolist(), strict=True))
