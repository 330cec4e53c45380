"""What the dense backtest found: skill with moving-block bootstrap intervals, calibration before and after,
and the election terms' gain, as plain rows for the report, the README and the model set."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.domain.vocabulary import ModelName
from forecasting.evaluation.dense import GRID, DenseRows
from forecasting.evaluation.dense_rule import DEFAULT_RULE, AsYouGo, outcomes
from forecasting.evaluation.scoring import ReliabilityBin, reliability_table
from forecasting.models.window.calibration import intercept_and_slope
from forecasting.models.window.distribution import central_interval
from forecasting.models.window.features import FloatArray

BOOTSTRAP_SAMPLES = 2000
# Moving blocks: a year of consecutive origins on the grid (windows overlap and tests come in campaigns);
# about n^(1/3) of the election windows, which are months to years apart.
GRID_BLOCK = 26
STRATEGIES: tuple[str, ...] = (
    DEFAULT_RULE,
    ModelName.DIRECT_WINDOW_NO_ELECTION,
    ModelName.DIRECT_WINDOW,
    ModelName.TRAILING_YEAR,
    ModelName.CLIMATOLOGY,
)
ALL_ELECTION_WINDOWS = "elections"


@dataclass(frozen=True)
class DenseSkill:
    """One strategy's Brier score on a set of windows, with skill against both baselines and 95% intervals."""

    subset: str  # "grid", "elections" or an election kind
    horizon: int
    length: int | None  # None: both lengths
    strategy: str
    windows: int
    with_event: int
    brier: float
    skill_vs_trailing_year: float
    skill_vs_trailing_year_interval: tuple[float, float]
    skill_vs_climatology: float
    skill_vs_climatology_interval: tuple[float, float]
    coverage_80: float | None


@dataclass(frozen=True)
class CalibrationCheck:
    """Calibration intercept and slope of a strategy's probabilities (0 and 1: calibrated), raw and as published."""

    strategy: str
    horizon: int
    windows: int
    raw_intercept: float
    raw_slope: float
    calibrated_intercept: float
    calibrated_slope: float
    raw_reliability: tuple[ReliabilityBin, ...]
    calibrated_reliability: tuple[ReliabilityBin, ...]


@dataclass(frozen=True)
class ElectionTermsCheck:
    """Log-loss gain on the election windows from the election indicators (direct_window over its control)."""

    horizon: int
    windows: int
    gain: float
    interval: tuple[float, float]
    verdict: str


def block_indices(n: int, block: int, samples: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """Moving-block bootstrap: `samples` rows of n indices, each made of runs of `block` consecutive indices."""
    rng = np.random.default_rng(seed)
    block = max(1, min(block, n))
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(samples, blocks))
    out: npt.NDArray[np.int64] = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(samples, -1)[:, :n]
    return out


def _skill_interval(
    score: FloatArray, reference: FloatArray, indices: npt.NDArray[np.int64]
) -> tuple[float, tuple[float, float]]:
    point = 1.0 - score.mean() / reference.mean()
    draws = 1.0 - score[indices].mean(axis=1) / np.maximum(reference[indices].mean(axis=1), 1e-12)
    low, high = np.quantile(draws, [0.025, 0.975])
    return float(point), (float(low), float(high))


def strategy_probability(rows: DenseRows, moves: AsYouGo, strategy: str) -> FloatArray:
    return moves.rule_probability if strategy == DEFAULT_RULE else moves.calibrated[strategy]


def _coverage(rows: DenseRows, moves: AsYouGo, strategy: str, chosen: npt.NDArray[np.bool_]) -> float:
    if strategy == DEFAULT_RULE:
        mu, alpha = moves.rule_expected[chosen], moves.rule_dispersion[chosen]
    else:
        mu, alpha = rows.expected[strategy][chosen], rows.dispersion[strategy][chosen]
    observed = rows.observed[chosen]
    inside = [central_interval(float(m), float(a), 0.8) for m, a in zip(mu, alpha, strict=True)]
    return float(np.mean([lo <= o <= hi for (lo, hi), o in zip(inside, observed, strict=True)]))


def skill_table(rows: DenseRows, moves: AsYouGo, scored_since: int) -> list[DenseSkill]:
    y = outcomes(rows)
    labels = np.array(rows.label)
    horizon, length = rows.windows.horizon, rows.windows.length
    scored = rows.windows.origin >= scored_since
    subsets: list[tuple[str, int, int | None, npt.NDArray[np.bool_], int]] = []
    for h in sorted(set(horizon[rows.is_grid].tolist())):
        for n in sorted(set(length[rows.is_grid].tolist())):
            subsets.append((GRID, h, n, rows.is_grid & scored & (horizon == h) & (length == n), GRID_BLOCK))
        subsets.append((GRID, h, None, rows.is_grid & scored & (horizon == h), 2 * GRID_BLOCK))
    elections = ~rows.is_grid
    for h in sorted(set(horizon[elections].tolist())):
        chosen = elections & (horizon == h)
        subsets.append((ALL_ELECTION_WINDOWS, h, None, chosen, max(1, round(chosen.sum() ** (1 / 3)))))
        for kind in sorted(set(labels[chosen].tolist())):
            kind_rows = chosen & (labels == kind)
            subsets.append((kind, h, None, kind_rows, max(1, round(kind_rows.sum() ** (1 / 3)))))
    out = []
    for subset, h, n, chosen, block in subsets:
        if not chosen.any():
            continue
        order = np.argsort(rows.windows.origin[chosen], kind="stable")
        indices = block_indices(int(chosen.sum()), block, BOOTSTRAP_SAMPLES)
        truth = y[chosen][order]
        ty = (rows.probability[ModelName.TRAILING_YEAR][chosen][order] - truth) ** 2
        clim = (rows.probability[ModelName.CLIMATOLOGY][chosen][order] - truth) ** 2
        for strategy in STRATEGIES:
            score = (strategy_probability(rows, moves, strategy)[chosen][order] - truth) ** 2
            vs_ty, ty_interval = _skill_interval(score, ty, indices)
            vs_clim, clim_interval = _skill_interval(score, clim, indices)
            out.append(
                DenseSkill(
                    subset, h, n, strategy, int(chosen.sum()), int(truth.sum()), float(score.mean()),
                    vs_ty, ty_interval, vs_clim, clim_interval,
                    _coverage(rows, moves, strategy, chosen) if subset != GRID or n is None else None,
                )
            )  # fmt: skip
    return out


def calibration_checks(rows: DenseRows, moves: AsYouGo, scored_since: int, horizon: int) -> list[CalibrationCheck]:
    y = outcomes(rows)
    chosen = rows.is_grid & (rows.windows.origin >= scored_since) & (rows.windows.horizon == horizon)
    out = []
    for strategy in STRATEGIES:
        raw = moves.rule_raw if strategy == DEFAULT_RULE else rows.probability[strategy]
        published = strategy_probability(rows, moves, strategy)
        a0, b0 = intercept_and_slope(raw[chosen], y[chosen])
        a1, b1 = intercept_and_slope(published[chosen], y[chosen])
        out.append(
            CalibrationCheck(
                strategy, horizon, int(chosen.sum()), a0, b0, a1, b1,
                tuple(reliability_table(raw[chosen], y[chosen])),
                tuple(reliability_table(published[chosen], y[chosen])),
            )
        )  # fmt: skip
    return out


def election_terms_check(rows: DenseRows, horizon: int) -> ElectionTermsCheck | None:
    chosen = ~rows.is_grid & (rows.windows.horizon == horizon)
    if chosen.sum() < 2:
        return None
    y = outcomes(rows)[chosen]
    order = np.argsort(rows.windows.origin[chosen], kind="stable")

    def loss(p: FloatArray) -> FloatArray:
        q = np.clip(p, 1e-6, 1 - 1e-6)
        out: FloatArray = -(y * np.log(q) + (1 - y) * np.log(1 - q))
        return out[order]

    difference = loss(rows.probability[ModelName.DIRECT_WINDOW_NO_ELECTION][chosen]) - loss(
        rows.probability[ModelName.DIRECT_WINDOW][chosen]
    )
    indices = block_indices(len(difference), max(1, round(len(difference) ** (1 / 3))), BOOTSTRAP_SAMPLES, seed=1)
    low, high = np.quantile(difference[indices].mean(axis=1), [0.025, 0.975])
    if low > 0:
        verdict = "the election indicators improve out-of-sample forecasts of election windows"
    elif high < 0:
        verdict = "the election indicators make out-of-sample forecasts of election windows worse"
    else:
        verdict = "no detectable election effect: the election indicators neither help nor hurt beyond noise"
    return ElectionTermsCheck(horizon, len(difference), float(difference.mean()), (float(low), float(high)), verdict)
