"""Calibration as you go and the default rule, both fixed in code and fed only windows closed before a cutoff.

At a cutoff D:

- each model's probabilities are recalibrated (`Calibration`, logistic on
  logit p) on the dense grid windows whose outcome had closed by D, unless
  recalibrating had done worse than the raw probabilities on those windows;
- the default rule picks, among `RULE_CANDIDATES`, the one whose calibrated
  probabilities had the lowest mean Brier score on those same windows, or
  `RULE_FALLBACK` while fewer than `MIN_RULE_WINDOWS` have closed.

The dense backtest applies both at each yearly refit date, as they would have
been applied then; training applies them at the version's cutoff, and
`provocast forecast --cutoff D` at D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from forecasting.domain.vocabulary import ModelName
from forecasting.evaluation.dense import DENSE_MODELS, DenseRows
from forecasting.models.window.calibration import Calibration
from forecasting.models.window.features import FloatArray, day_number, from_day_number

DEFAULT_RULE = "default_rule"
RULE_CANDIDATES: tuple[ModelName, ...] = (
    ModelName.DIRECT_WINDOW_NO_ELECTION,
    ModelName.DIRECT_WINDOW,
    ModelName.TRAILING_YEAR,
    ModelName.CLIMATOLOGY,
)
RULE_FALLBACK = ModelName.TRAILING_YEAR
MIN_RULE_WINDOWS = 100
# Calibration and the rule read the windows closed in the last ten years only: the process drifts (eras,
# campaigns), and a calibration fitted on the quiet 1990s misreads the busy 2020s.
LOOKBACK_DAYS = 3653


def outcomes(rows: DenseRows) -> FloatArray:
    return (rows.observed > 0).astype(np.float64)


def closed_by(rows: DenseRows, day: date) -> npt.NDArray[np.bool_]:
    """Grid windows whose outcome had closed by the day (their last day on or before it), in the lookback."""
    end = day_number(day)
    closed: npt.NDArray[np.bool_] = rows.is_grid & (rows.windows.end <= end) & (rows.windows.end > end - LOOKBACK_DAYS)
    return closed


def calibration_at(rows: DenseRows, name: str, day: date, calibrated: FloatArray) -> Calibration:
    """The recalibration of model `name` fitted on the windows closed by `day`.

    It is kept only if recalibrating as you go (`calibrated`: each window's probability as recalibrated when it
    was forecast) had beaten the raw probabilities on those closed windows; otherwise it is the identity.
    """
    chosen = closed_by(rows, day)
    y, raw = outcomes(rows)[chosen], rows.probability[name][chosen]
    fitted = Calibration.fit(raw, y)
    if chosen.sum() >= MIN_RULE_WINDOWS and np.mean((calibrated[chosen] - y) ** 2) > np.mean((raw - y) ** 2):
        return Calibration(windows=0)
    return fitted


def choose_at(rows: DenseRows, calibrated: dict[str, FloatArray], day: date) -> ModelName:
    chosen = closed_by(rows, day)
    if chosen.sum() < MIN_RULE_WINDOWS:
        return RULE_FALLBACK
    y = outcomes(rows)[chosen]
    scores = {name: float(np.mean((calibrated[name][chosen] - y) ** 2)) for name in RULE_CANDIDATES}
    return min(RULE_CANDIDATES, key=lambda name: (scores[name], RULE_CANDIDATES.index(name)))


@dataclass
class AsYouGo:
    """Each row's probabilities as they would have been published: calibrated, and the rule's choice."""

    calibrated: dict[str, FloatArray]
    rule_probability: FloatArray
    rule_raw: FloatArray  # the chosen model's probabilities before calibration
    rule_expected: FloatArray
    rule_dispersion: FloatArray
    choices: dict[date, str]  # refit date -> the rule's model from then on
    calibrations: dict[str, dict[date, Calibration]]


def as_you_go(rows: DenseRows) -> AsYouGo:
    refits = sorted({from_day_number(int(d)) for d in np.unique(rows.refit)})
    calibrated: dict[str, FloatArray] = {str(name): rows.probability[name].copy() for name in DENSE_MODELS}
    calibrations: dict[str, dict[date, Calibration]] = {name: {} for name in DENSE_MODELS}
    for refit in refits:
        serves = rows.refit == day_number(refit)
        for name in DENSE_MODELS:
            calibration = calibration_at(rows, name, refit, calibrated[name])
            calibrations[name][refit] = calibration
            calibrated[name][serves] = calibration.apply(rows.probability[name][serves])
    choices: dict[date, str] = {}
    rule_p = np.empty(len(rows))
    rule_raw = np.empty(len(rows))
    rule_mu = np.empty(len(rows))
    rule_alpha = np.empty(len(rows))
    for refit in refits:
        serves = rows.refit == day_number(refit)
        name = choose_at(rows, calibrated, refit)
        choices[refit] = name
        rule_p[serves] = calibrated[name][serves]
        rule_raw[serves] = rows.probability[name][serves]
        rule_mu[serves] = rows.expected[name][serves]
        rule_alpha[serves] = rows.dispersion[name][serves]
    return AsYouGo(calibrated, rule_p, rule_raw, rule_mu, rule_alpha, choices, calibrations)


def rule_at(rows: DenseRows, day: date) -> tuple[ModelName, dict[str, Calibration]]:
    """The rule's model at `day` and every dense model's calibration there, from windows closed by `day` only."""
    moves = as_you_go(rows)
    calibrations = {str(n): calibration_at(rows, n, day, moves.calibrated[n]) for n in DENSE_MODELS}
    return choose_at(rows, moves.calibrated, day), calibrations
