"""Recalibration of published probabilities: logistic regression on logit p (Platt scaling on the logit).

p' = sigmoid(a + b logit p). It is fitted only on backtest windows whose outcome
had closed by the cutoff; with fewer than `MIN_WINDOWS` of them it is the
identity. A weak pull towards the identity (a = 0, b = 1) keeps a fit on few
windows from swinging. Applying it needs numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasting.models.window_summary import ElectionEffect

FloatArray = npt.NDArray[np.float64]

MIN_WINDOWS = 40
# Pull towards the identity, as a number of pseudo-windows' worth of curvature.
PRIOR_WEIGHT = 2.0
EPSILON = 1e-4


def logit(p: FloatArray | float) -> FloatArray:
    q = np.clip(np.asarray(p, dtype=np.float64), EPSILON, 1 - EPSILON)
    out: FloatArray = np.log(q / (1 - q))
    return out


@dataclass(frozen=True)
class Calibration:
    intercept: float = 0.0
    slope: float = 1.0
    windows: int = 0  # how many closed windows it was fitted on (0: the identity)

    @classmethod
    def fit(cls, probabilities: FloatArray, outcomes: FloatArray) -> Calibration:
        if len(probabilities) < MIN_WINDOWS or outcomes.min() == outcomes.max():
            return cls(windows=0)
        a, b = intercept_and_slope(probabilities, outcomes, prior=PRIOR_WEIGHT)
        return cls(a, b, len(probabilities))

    def apply(self, p: FloatArray | float) -> FloatArray:
        if self.windows == 0:
            return np.asarray(p, dtype=np.float64)
        out: FloatArray = 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * logit(p))))
        return out

    def apply_one(self, p: float) -> float:
        return float(self.apply(np.array([p]))[0])

    def apply_to_effect(self, effect: ElectionEffect) -> ElectionEffect:
        """The effect with its probability without elections recalibrated like every published probability."""
        if effect.probability_any_without_election is None:
            return effect
        return replace(effect, probability_any_without_election=self.apply_one(effect.probability_any_without_election))

    def to_dict(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "slope": self.slope, "windows": self.windows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(float(data["intercept"]), float(data["slope"]), int(data["windows"]))


def intercept_and_slope(probabilities: FloatArray, outcomes: FloatArray, prior: float = 0.0) -> tuple[float, float]:
    """Logistic regression of the outcome on logit p: calibration intercept and slope (1 and 0: calibrated)."""
    x = np.column_stack([np.ones(len(probabilities)), logit(probabilities)])
    y = np.asarray(outcomes, dtype=np.float64)
    beta = np.array([0.0, 1.0])
    target = np.array([0.0, 1.0])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (y - p) - prior * (beta - target)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + prior * np.eye(2)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        # Damped: near separation a full Newton step runs off.
        step *= min(1.0, 1.0 / max(float(np.max(np.abs(step))), 1e-12))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])
