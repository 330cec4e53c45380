"""Direct window models: a window's outcome forecast from what is known at its cutoff, in closed form.

Two regressions on windows of a dense grid of origins (every `ORIGIN_STEP_DAYS`
days) whose outcome had closed by the cutoff, each window described by
`forecasting.models.window.features`:

- P(at least one event): a ridge-regularised logistic regression (binomial GLM);
- the count: a negative-binomial GLM with the window's length as exposure
  (covariance clustered by the origin's year, since windows overlap).

`direct_window` carries election-in-window indicators; `direct_window_no_election`
is the same without them, the control for the election effect. Both fit and
predict with numpy alone (no statsmodels import: `provocast forecast --cutoff`
fits them on every call).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from forecasting.domain.history import History
from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP, ModelName
from forecasting.features.calendar import Calendars
from forecasting.features.series import daily_counts
from forecasting.models.base import ModelFitError
from forecasting.models.window.baselines import BASELINE_CLASSES, TrailingRate, baseline_logits, fit_at
from forecasting.models.window.calibration import logit
from forecasting.models.window.features import (
    ELECTION_COLUMNS,
    CalendarTable,
    CountSeries,
    FloatArray,
    Windows,
    day_number,
    design_matrix,
    feature_columns,
)

ORIGIN_STEP_DAYS = 7
TRAIN_HORIZONS: tuple[int, ...] = (0, 30, 90, 180, 365)
TRAIN_LENGTHS: tuple[int, ...] = (30, 61, 122)
# Ridge penalty per training window on the standardised coefficients (not the intercept); fixed, not tuned on
# backtest windows. Windows of the grid overlap (15 per origin week, each up to 122 days long), so the penalty is
# set for an effective sample about a tenth of the rows.
RIDGE = 1e-2
MIN_EVENTS_TO_FIT = 15
# How far past the cutoff a fitted model can place windows (the forecaster's horizon plus a window).
CALENDAR_DAYS_AHEAD = 1100 + 366
SERIES_START = date(1960, 1, 1)


@dataclass(frozen=True)
class WindowAnswer:
    """A direct model's answer for one window (before calibration)."""

    probability_any: float
    expected_count: float
    alpha: float
    # Expected count over the expected count with no election in the window, and its 95% interval;
    # None for the control model.
    effect: tuple[float, float, float] | None
    probability_any_without_election: float | None


def sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
    return out


def ridge_logistic(
    x: FloatArray, y: FloatArray, penalty: float, iterations: int = 30, weights: FloatArray | None = None
) -> FloatArray:
    """Logistic regression with an L2 penalty `penalty * n / 2 * |b|^2` on all but the first column, by Newton."""
    n, k = x.shape
    w = np.ones(n) if weights is None else weights
    beta = np.zeros(k)
    ridge = np.full(k, penalty * n)
    ridge[0] = 0.0
    for _ in range(iterations):
        p = sigmoid(x @ beta)
        gradient = x.T @ (w * (y - p)) - ridge * beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(k), gradient)
        step *= min(1.0, 2.0 / max(float(np.max(np.abs(step))), 1e-12))
        beta += step
        if np.max(np.abs(step)) < 1e-7:
            break
    return beta


@dataclass(frozen=True)
class FitContext:
    """What fitting at one cutoff reads, prepared once for every model of the same event types: the series,
    the calendars, and the training windows (closed by the cutoff) with their outcomes and features."""

    cutoff: date
    series: CountSeries
    table: CalendarTable
    calendars: Calendars | None
    windows: Windows
    counts: FloatArray
    raw: FloatArray  # every feature column, the election columns last

    @property
    def total(self) -> int:
        return int(self.series.cumulative[-1])

    @classmethod
    def build(
        cls, series: CountSeries, table: CalendarTable, cutoff: date, calendars: Calendars | None = None
    ) -> FitContext:
        last = day_number(cutoff)
        origins = np.arange(series.first_day + 365, last, ORIGIN_STEP_DAYS)[::-1]
        windows = Windows.rotating(origins, TRAIN_HORIZONS, TRAIN_LENGTHS)
        windows = windows.take(windows.end <= last)
        counts = series.total(windows.start, windows.end).astype(np.float64)
        recency, logits = series.recency(windows.origin), baseline_logits(series, windows)
        raw = design_matrix(windows, recency, logits, table, with_elections=True)
        return cls(cutoff, series, table, calendars, windows, counts, raw)

    @classmethod
    def from_history(
        cls, history: History, cutoff: date, event_types: tuple[str, ...], table: CalendarTable | None = None
    ) -> FitContext:
        known = history.known_at(cutoff)
        series = CountSeries.from_counts(daily_counts(known.events, tuple(sorted(event_types)), SERIES_START, cutoff))
        calendars = Calendars(known.elections, known.exercises, cutoff)
        table = table or calendar_table(history, cutoff)
        return cls.build(series, table, cutoff, calendars)


def calendar_table(history: History, cutoff: date) -> CalendarTable:
    """The calendars as known at the cutoff, day by day, far enough ahead for any served window."""
    known = history.known_at(cutoff)
    calendars = Calendars(known.elections, known.exercises, cutoff)
    return CalendarTable.build(calendars, SERIES_START, cutoff + timedelta(days=CALENDAR_DAYS_AHEAD), known.elections)


class DirectWindowModel:
    name: ClassVar[ModelName] = ModelName.DIRECT_WINDOW
    with_elections: ClassVar[bool] = True

    def __init__(self, event_types: tuple[str, ...] = EVENT_GROUPS[WEAPONS_GROUP]):
        self.event_types = tuple(sorted(event_types))
        self.cutoff: date | None = None
        self.fit_notes: list[str] = []

    @property
    def columns(self) -> tuple[str, ...]:
        return feature_columns(self.with_elections)

    # --- fitting ---------------------------------------------------------------------------

    def fit(self, history: History, cutoff: date, context: FitContext | None = None) -> DirectWindowModel:
        """Fit on the history as known at the cutoff (`context`: the same, already prepared for these types)."""
        context = context or FitContext.from_history(history, cutoff, self.event_types)
        if context.total < MIN_EVENTS_TO_FIT:
            raise ModelFitError(
                self.name,
                f"only {context.total} events of {', '.join(self.event_types)} up to {cutoff}; needs {MIN_EVENTS_TO_FIT}",
            )
        self.fit_context(context)
        self.recency = context.series.recency(np.array([day_number(cutoff)]))[0]
        self.baselines = {name: fit_at(context.series, day_number(cutoff), name) for name in BASELINE_CLASSES}
        assert context.calendars is not None
        self.calendars = context.calendars
        self.table = context.table
        self.fit_notes = [f"{context.total} events up to {cutoff}; {self.training_windows} training windows"]
        return self

    def fit_context(self, context: FitContext) -> None:
        """Fit both regressions on the grid of windows closed by the cutoff (the dense backtest calls this too)."""
        windows, counts = context.windows, context.counts
        if len(windows) < 50:
            raise ModelFitError(self.name, f"only {len(windows)} training windows closed by {context.cutoff}")
        if counts.sum() == 0 or (counts > 0).all():
            raise ModelFitError(self.name, f"every training window up to {context.cutoff} has the same outcome")
        raw = context.raw[:, : len(self.columns)]
        self.mean = raw.mean(axis=0)
        scale = raw.std(axis=0)
        self.scale = np.where(scale > 1e-12, scale, 1.0)
        x = np.hstack([np.ones((len(windows), 1)), (raw - self.mean) / self.scale])
        self.logistic = ridge_logistic(x, (counts > 0).astype(np.float64), RIDGE)
        years = (windows.origin - windows.origin.min()) // 365
        self.count_coef, self.count_cov, self.alpha = _negative_binomial(
            self.name, x, counts, windows.length.astype(np.float64), years
        )
        self.cutoff = context.cutoff
        self.training_windows = len(windows)

    # --- predicting (numpy) ------------------------------------------------------------

    def predict_arrays(self, raw: FloatArray, lengths: FloatArray) -> tuple[FloatArray, FloatArray]:
        """P(any) and the expected count for rows of raw features (from `design_matrix`)."""
        x = np.hstack([np.ones((len(raw), 1)), (raw - self.mean) / self.scale])
        p = sigmoid(x @ self.logistic)
        mu: FloatArray = np.exp(np.clip(x @ self.count_coef, -30, 30)) * lengths
        return p, mu

    def answer(self, start: date, end: date) -> WindowAnswer:
        cutoff = self._require_fitted()
        windows = Windows.of(cutoff, start, end)
        a, b = int(windows.start[0]), int(windows.end[0])
        logits = logit(np.array([[self.baselines[name].probability_any(a, b)[0] for name in BASELINE_CLASSES]]))
        raw = design_matrix(windows, self.recency[None, :], logits, self.table, self.with_elections)
        p, mu = self.predict_arrays(raw, windows.length.astype(np.float64))
        if not self.with_elections:
            return WindowAnswer(float(p[0]), float(mu[0]), self.alpha, None, None)
        election = np.array([c in ELECTION_COLUMNS for c in self.columns])
        without = raw.copy()
        without[:, election] = 0.0
        p0, mu0 = self.predict_arrays(without, windows.length.astype(np.float64))
        # The count model's election terms for this window, on the standardised scale, and their spread.
        delta = np.zeros(len(self.count_coef))
        delta[1:][election] = (raw[0, election] - without[0, election]) / self.scale[election]
        log_ratio = float(delta @ self.count_coef)
        spread = 1.96 * math.sqrt(max(float(delta @ self.count_cov @ delta), 0.0))
        effect = (math.exp(log_ratio), math.exp(log_ratio - spread), math.exp(log_ratio + spread))
        return WindowAnswer(float(p[0]), float(mu[0]), self.alpha, effect, float(p0[0]))

    # --- persistence ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        cutoff = self._require_fitted()
        return {
            "model": self.name,
            "event_types": list(self.event_types),
            "cutoff": cutoff.isoformat(),
            "fit_notes": list(self.fit_notes),
            "parameters": {
                "columns": list(self.columns),
                "mean": self.mean.tolist(),
                "scale": self.scale.tolist(),
                "logistic": self.logistic.tolist(),
                "count_coef": self.count_coef.tolist(),
                "count_cov": self.count_cov.tolist(),
                "alpha": self.alpha,
                "recency": self.recency.tolist(),
                "baselines": {name: fit.to_dict() for name, fit in self.baselines.items()},
                "training_windows": self.training_windows,
                "calendars": self.calendars.to_dict(),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DirectWindowModel:
        model = cls(tuple(data["event_types"]))
        parameters = data["parameters"]
        if tuple(parameters["columns"]) != model.columns:
            raise ValueError(f"{cls.name}: stored columns differ from this version's features")
        model.cutoff = date.fromisoformat(data["cutoff"])
        model.fit_notes = list(data["fit_notes"])
        model.mean = np.asarray(parameters["mean"], dtype=float)
        model.scale = np.asarray(parameters["scale"], dtype=float)
        model.logistic = np.asarray(parameters["logistic"], dtype=float)
        model.count_coef = np.asarray(parameters["count_coef"], dtype=float)
        model.count_cov = np.asarray(parameters["count_cov"], dtype=float)
        model.alpha = float(parameters["alpha"])
        model.recency = np.asarray(parameters["recency"], dtype=float)
        model.baselines = {name: TrailingRate.from_dict(fit) for name, fit in parameters["baselines"].items()}
        model.training_windows = int(parameters["training_windows"])
        model.calendars = Calendars.from_dict(parameters["calendars"])
        elections = model.calendars.elections.assign(announced=np.datetime64("NaT"))
        model.table = CalendarTable.build(
            model.calendars, model.cutoff, model.cutoff + timedelta(days=CALENDAR_DAYS_AHEAD), elections
        )
        return model

    def _require_fitted(self) -> date:
        if self.cutoff is None:
            raise ModelFitError(self.name, "not fitted")
        return self.cutoff


class DirectWindowNoElectionModel(DirectWindowModel):
    """The direct window model without election indicators: the control for the election effect."""

    name = ModelName.DIRECT_WINDOW_NO_ELECTION
    with_elections = False


WINDOW_MODELS: dict[ModelName, type[DirectWindowModel]] = {
    cls.name: cls for cls in (DirectWindowModel, DirectWindowNoElectionModel)
}


def window_model_from_dict(data: dict[str, Any]) -> DirectWindowModel:
    return WINDOW_MODELS[ModelName(data["model"])].from_dict(data)


def _negative_binomial(
    name: str, x: FloatArray, counts: FloatArray, lengths: FloatArray, groups: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray, float]:
    """NB2 GLM with log(length) offset, by IRLS in numpy (the fit runs inside `provocast forecast --cutoff`,
    where importing statsmodels alone would cost seconds). Alpha by the Cameron-Trivedi regression on a Poisson
    fit; the covariance is clustered by `groups` (sandwich, with the small-sample factors statsmodels uses)."""
    # Columns constant on the training windows (an era not yet begun) carry no information: left at zero.
    used = np.flatnonzero(np.concatenate([[True], x[:, 1:].std(axis=0) > 1e-12]))
    design, offset = x[:, used], np.log(lengths)
    poisson = _irls(design, counts, offset, 0.0)
    mu = np.exp(design @ poisson + offset)
    alpha = max(float(np.sum((((counts - mu) ** 2 - counts) / mu) * mu) / np.sum(mu * mu)), 1e-3)
    beta = _irls(design, counts, offset, alpha, start=poisson)
    mu = np.exp(design @ beta + offset)
    weights = mu / (1.0 + alpha * mu)
    try:
        bread = np.linalg.inv((design * weights[:, None]).T @ design)
    except np.linalg.LinAlgError as error:
        raise ModelFitError(name, f"count GLM failed: {error}") from None
    scores = design * ((counts - mu) / (1.0 + alpha * mu))[:, None]
    _, cluster = np.unique(groups, return_inverse=True)
    summed = np.zeros((int(cluster.max()) + 1, design.shape[1]))
    np.add.at(summed, cluster, scores)
    n, k, g = len(counts), design.shape[1], len(summed)
    factor = g / max(g - 1, 1) * (n - 1) / max(n - k, 1)
    covariance = factor * bread @ (summed.T @ summed) @ bread
    params, cov = np.zeros(x.shape[1]), np.zeros((x.shape[1], x.shape[1]))
    params[used] = beta
    cov[np.ix_(used, used)] = covariance
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))) or np.max(np.abs(params)) > 30:
        raise ModelFitError(name, "count GLM coefficients diverge")
    return params, cov, alpha


def _irls(
    x: FloatArray, y: FloatArray, offset: FloatArray, alpha: float, start: FloatArray | None = None
) -> FloatArray:
    """Log-link Poisson (alpha 0) or NB2 regression by iteratively reweighted least squares."""
    beta = np.zeros(x.shape[1]) if start is None else start.copy()
    if start is None:
        beta[0] = np.log(max(y.sum(), 1e-9) / np.exp(offset).sum())
    for _ in range(100):
        eta = np.clip(x @ beta + offset, -30, 30)
        mu = np.exp(eta)
        weights = mu / (1.0 + alpha * mu)
        working = eta - offset + (y - mu) / mu
        hessian = (x * weights[:, None]).T @ x
        new = np.asarray(
            np.linalg.solve(hessian + 1e-9 * np.eye(len(beta)), (x * weights[:, None]).T @ working), dtype=np.float64
        )
        if np.max(np.abs(new - beta)) < 1e-8:
            return new
        beta = new
    return beta
