"""Stacking weights: the mixture that would have scored best on closed windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from forecasting.evaluation.stacking import stacking_weights, weights_from_scores


@dataclass(frozen=True)
class Scored:
    window_id: str
    horizon: int
    model: str
    probability_any: float
    observed_any: bool


def test_stacking_weights_favour_the_model_that_was_right() -> None:
    probabilities = np.array([[0.9, 0.1]] * 20)
    outcomes = np.ones(20)
    weights = stacking_weights(probabilities, outcomes)
    assert weights[0] > 0.9 and weights.sum() == pytest.approx(1.0)
    assert np.allclose(stacking_weights(np.empty((0, 3)), np.empty(0)), 1 / 3)


def test_weights_come_only_from_windows_every_model_forecast() -> None:
    scored = [Scored(f"w{i}", 30, "right", 0.9, True) for i in range(20)]
    scored += [Scored(f"w{i}", 30, "wrong", 0.1, True) for i in range(20)]
    scored += [Scored("only-one", 30, "wrong", 0.99, True), Scored("w0", 30, "ignored", 0.5, False)]
    weights = weights_from_scores(scored, ["right", "wrong"])
    assert list(weights) == ["right", "wrong"]
    assert weights == pytest.approx(
        dict(zip(["right", "wrong"], stacking_weights(np.array([[0.9, 0.1]] * 20), np.ones(20)), strict=True))
    )
