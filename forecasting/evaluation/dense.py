"""The dense backtest: hundreds of windows, each forecast from what was known at its origin.

Origins every `DenseConfig.step_days` days; from each, windows of 30 and 61
days opening 0, 30, 90 and 180 days later (the grid), plus the election
windows of the rolling-origin backtest as a labelled subset. The direct window
models are refitted on the first day of each year on the windows closed by
then, and forecast every origin of that year (a model at most a year old,
never one that saw the origin's future). The two baselines are refitted at
every origin, in closed form. Calibration and the default rule are then
applied as they would have been (see `forecasting.evaluation.dense_rule`).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from forecasting.domain.history import History
from forecasting.domain.vocabulary import ModelName, resolve_event_types
from forecasting.evaluation.backtest import DEFAULT_SINCE, election_windows
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW, Calendars
from forecasting.features.series import daily_counts
from forecasting.models.base import ModelFitError
from forecasting.models.window.baselines import baseline_logits, trailing_rate_probabilities
from forecasting.models.window.direct import SERIES_START, WINDOW_MODELS, FitContext
from forecasting.models.window.features import (
    CalendarTable,
    CountSeries,
    FloatArray,
    IntArray,
    Windows,
    day_number,
    design_matrix,
)

GRID = "grid"
DENSE_HORIZONS: tuple[int, ...] = (0, 30, 90, 180)
DENSE_LENGTHS: tuple[int, ...] = (30, 61)
ELECTION_HORIZONS: tuple[int, ...] = (0, 30, 90)
BASELINE_MODELS: tuple[ModelName, ...] = (ModelName.CLIMATOLOGY, ModelName.TRAILING_YEAR)
DENSE_MODELS: tuple[ModelName, ...] = (*WINDOW_MODELS, *BASELINE_MODELS)


@dataclass(frozen=True)
class DenseConfig:
    event_types: tuple[str, ...] = ()
    since: date = DEFAULT_SINCE  # first origin; windows before `scored_since` only warm calibration and the rule
    scored_since: date = date(1995, 1, 1)
    step_days: int = 14
    horizons: tuple[int, ...] = DENSE_HORIZONS
    lengths: tuple[int, ...] = DENSE_LENGTHS
    workers: int = 0  # 0: one per core


@dataclass
class DenseRows:
    """One row per forecast window: the window, its label, its outcome, and each model's raw forecast."""

    windows: Windows
    label: list[str]  # "grid", or the election kind of an election window
    election_id: list[str]
    observed: IntArray
    refit: IntArray  # day number of the cutoff of the window models that forecast it
    probability: dict[str, FloatArray] = field(default_factory=dict)
    expected: dict[str, FloatArray] = field(default_factory=dict)
    dispersion: dict[str, FloatArray] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.observed)

    @functools.cached_property
    def is_grid(self) -> npt.NDArray[np.bool_]:
        return np.array([label == GRID for label in self.label])


def refit_dates(since: date, cutoff: date) -> list[date]:
    """The last day of each year from the year before `since` on, before the cutoff."""
    return [date(year, 12, 31) for year in range(since.year - 2, cutoff.year) if date(year, 12, 31) < cutoff]


def dense_windows(history: History, config: DenseConfig, cutoff: date) -> tuple[Windows, list[str], list[str]]:
    last = day_number(cutoff)
    origins = np.arange(day_number(config.since), last, config.step_days)
    grid = Windows.grid(origins, config.horizons, config.lengths)
    grid = grid.take(grid.end <= last)
    labels, ids = [GRID] * len(grid), [""] * len(grid)
    starts, ends, origin_days = [grid.start], [grid.end], [grid.origin]
    for window in election_windows(history, ELECTION_COVARIATE_WINDOW, config.since, cutoff):
        for horizon in ELECTION_HORIZONS:
            origin = day_number(window.start) - horizon - 1
            origin_days.append(np.array([origin]))
            starts.append(np.array([day_number(window.start)]))
            ends.append(np.array([day_number(window.end)]))
            labels.append(window.group)
            ids.append(window.id)
    windows = Windows(np.concatenate(origin_days), np.concatenate(starts), np.concatenate(ends))
    return windows, labels, ids


_worker_history: History | None = None


def _init_worker(history: History) -> None:
    global _worker_history
    _worker_history = history


def _forecast_year(
    args: tuple[date, tuple[str, ...], Windows, date],
) -> tuple[date, dict[str, tuple[FloatArray, FloatArray, FloatArray]], list[str]]:
    """Fit the window models at `refit` and forecast the windows whose origins it serves."""
    refit, event_types, windows, cutoff = args
    history = _worker_history
    assert history is not None
    known = history.known_at(refit)
    series = CountSeries.from_counts(daily_counts(known.events, event_types, SERIES_START, refit))
    calendars = Calendars(known.elections, known.exercises, refit)
    # Elections known at each origin (snap elections once announced): the full calendar, masked by the origin.
    visible = history.known_at(cutoff).elections
    table = CalendarTable.build(calendars, SERIES_START, cutoff + timedelta(days=400), visible)
    full = CountSeries.from_counts(daily_counts(history.events_through(cutoff), event_types, SERIES_START, cutoff))
    recency = full.recency(windows.origin)
    baselines = baseline_logits(full, windows)
    out: dict[str, tuple[FloatArray, FloatArray, FloatArray]] = {}
    failures: list[str] = []
    context = FitContext.build(series, table, refit)
    for name, cls in WINDOW_MODELS.items():
        model = cls(event_types)
        try:
            model.fit_context(context)
        except ModelFitError as error:
            failures.append(f"{name} at {refit}: {error.reason}")
            continue
        raw = design_matrix(windows, recency, baselines, table, model.with_elections)
        p, mu = model.predict_arrays(raw, windows.length.astype(np.float64))
        out[name] = (p, mu, np.full(len(p), model.alpha))
    return refit, out, failures


def run_dense(history: History, config: DenseConfig, cutoff: date | None = None) -> DenseRows:
    cutoff = cutoff or history.last_event_date
    history = history.known_at(cutoff)
    event_types = resolve_event_types(config.event_types)
    windows, labels, ids = dense_windows(history, config, cutoff)
    refits = refit_dates(config.since, cutoff)
    refit_days = np.array([day_number(r) for r in refits])
    assignment = np.searchsorted(refit_days, windows.origin, side="right") - 1
    full = CountSeries.from_counts(daily_counts(history.events, event_types, SERIES_START, cutoff))
    rows = DenseRows(
        windows,
        labels,
        ids,
        full.total(windows.start, windows.end),
        refit_days[np.maximum(assignment, 0)],
    )
    for name in BASELINE_MODELS:
        rows.probability[name], rows.expected[name], rows.dispersion[name] = trailing_rate_probabilities(
            full, windows, name
        )
    tasks = [(refit, event_types, windows.take(assignment == k), cutoff) for k, refit in enumerate(refits)]
    results = _run_tasks(history, tasks, config.workers)
    for name in WINDOW_MODELS:
        rows.probability[name] = rows.probability[ModelName.CLIMATOLOGY].copy()
        rows.expected[name] = rows.expected[ModelName.CLIMATOLOGY].copy()
        rows.dispersion[name] = rows.dispersion[ModelName.CLIMATOLOGY].copy()
    for k, (refit, answers, failures) in enumerate(results):
        assert refit == refits[k]
        chosen = assignment == k
        rows.failures.extend(failures)
        for fitted, (p, mu, alpha) in answers.items():
            rows.probability[fitted][chosen] = p
            rows.expected[fitted][chosen] = mu
            rows.dispersion[fitted][chosen] = alpha
    return rows


def _run_tasks(
    history: History, tasks: list[tuple[date, tuple[str, ...], Windows, date]], workers: int
) -> list[tuple[date, dict[str, tuple[FloatArray, FloatArray, FloatArray]], list[str]]]:
    workers = workers or (os.cpu_count() or 1)
    if workers <= 1:
        _init_worker(history)
        return [_forecast_year(task) for task in tasks]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(history,)
    ) as pool:
        return list(pool.map(_forecast_year, tasks, chunksize=1))
