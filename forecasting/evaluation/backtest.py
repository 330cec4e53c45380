"""Rolling-origin backtests: what each model would have said before every election, and how it scored.

For every South Korean legislative and presidential election and every US
presidential and midterm election in the history (and a control set of
ordinary windows of the same length), each model is fitted on the history as
it stood `horizon` days before the window opened and forecasts the window.
Nothing after that cutoff is read: `History.known_at` drops later events,
exercises not yet started and snap elections not yet called.

Two strategies are scored beside the models, both choosing only from windows
that had closed before each cutoff: the ensemble (stacking weights) and
`best_so_far` (the model with the best log score on earlier election windows).
A model that cannot be fitted at some cutoff is replaced there by climatology
and the replacement is counted, so every model is scored on the same windows.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import ModelName, resolve_event_types
from forecasting.domain.window import DateWindow, WindowSpec
from forecasting.evaluation.scoring import brier, count_log_loss, log_loss, ranked_probability_score
from forecasting.evaluation.stacking import weights_from_scores
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW
from forecasting.features.series import daily_counts
from forecasting.models.base import ModelFitError
from forecasting.models.catalogue import BASELINE, COMPONENT_MODELS, build_model
from forecasting.models.ensemble import mix_window_samples
from forecasting.models.window_summary import WindowSamples

ELECTION_GROUPS = ("kr_legislative", "kr_presidential", "us_presidential", "us_midterm")
CONTROL_GROUP = "control"
ENSEMBLE = ModelName.ENSEMBLE
# The strategy scored beside the models that is not a model: no version holds it.
BEST_SO_FAR = "best_so_far"
DEFAULT_HORIZONS = (0, 30, 90)
DEFAULT_SINCE = date(1990, 1, 1)
CONTROL_SPACING_DAYS = 120


@dataclass(frozen=True)
class BacktestWindow:
    id: str
    group: str  # an election kind key, or "control"
    start: date
    end: date
    election_id: str | None = None
    election_date: date | None = None


@dataclass(frozen=True)
class BacktestFailure:
    """A model that could not be fitted at one window's cutoff (climatology was scored in its place)."""

    window_id: str
    horizon: int
    model: str
    cutoff: date
    reason: str


@dataclass(frozen=True)
class BacktestConfig:
    models: tuple[str, ...] = tuple(COMPONENT_MODELS)
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    window: WindowSpec = ELECTION_COVARIATE_WINDOW
    event_types: tuple[str, ...] = ()
    since: date = DEFAULT_SINCE
    samples: int = 2000
    workers: int = 0  # 0: one per core


@dataclass
class WindowOutcome:
    """One strategy's forecast of one window at one horizon, with the outcome and its scores."""

    window_id: str
    group: str
    window_end: date
    horizon: int
    model: str
    cutoff: date
    probability_any: float
    expected_count: float
    interval_80: tuple[int, int]
    interval_95: tuple[int, int]
    observed_count: int
    election_effect: float | None
    replaced_by: str | None  # the model scored in its place when it could not be fitted
    # For the ensemble and best_so_far: how many closed windows chose their weights or model.
    chosen_on_windows: int | None = None
    brier: float = 0.0
    log_loss: float = 0.0
    rps: float = 0.0
    count_log_loss: float = 0.0

    @property
    def observed_any(self) -> bool:
        return self.observed_count > 0


@dataclass
class BacktestResult:
    config: BacktestConfig
    windows: list[BacktestWindow]
    outcomes: list[WindowOutcome]
    failures: list[BacktestFailure] = field(default_factory=list)
    data_end: date | None = None

    def frame(self) -> pd.DataFrame:
        rows = []
        for o in self.outcomes:
            rows.append(
                {
                    "window_id": o.window_id,
                    "group": o.group,
                    "horizon": o.horizon,
                    "model": o.model,
                    "cutoff": o.cutoff,
                    "probability_any": o.probability_any,
                    "expected_count": o.expected_count,
                    "observed_count": o.observed_count,
                    "observed_any": o.observed_any,
                    "in_80": o.interval_80[0] <= o.observed_count <= o.interval_80[1],
                    "in_95": o.interval_95[0] <= o.observed_count <= o.interval_95[1],
                    "brier": o.brier,
                    "log_loss": o.log_loss,
                    "rps": o.rps,
                    "count_log_loss": o.count_log_loss,
                    "replaced": o.replaced_by is not None,
                    "election_effect": o.election_effect,
                    "chosen_on_windows": o.chosen_on_windows,
                }
            )
        return pd.DataFrame(rows)


# --- the windows ----------------------------------------------------------------


def election_windows(history: History, window: WindowSpec, since: date, until: date) -> list[BacktestWindow]:
    """Windows around every election of the backtested kinds, fully inside since..until."""
    out = []
    kinds = history.elections["country"].str.lower() + "_" + history.elections["kind"]
    for row, kind in zip(history.elections.itertuples(), kinds, strict=True):
        if kind not in ELECTION_GROUPS:
            continue
        day = row.date.date()
        span = window.around(day)
        if span.start >= since and span.end <= until:
            out.append(BacktestWindow(row.id, kind, span.start, span.end, row.id, day))
    return out


def control_windows(history: History, window: WindowSpec, since: date, until: date) -> list[BacktestWindow]:
    """Ordinary windows of the same length every four months, clear of every election's window."""
    busy = [window.around(row.date.date()) for row in history.elections.itertuples()]
    out = []
    span = DateWindow(since, since + timedelta(days=window.length - 1))
    step = timedelta(days=CONTROL_SPACING_DAYS)
    while span.end <= until:
        if all(span.end < b.start or span.start > b.end for b in busy):
            out.append(BacktestWindow(f"control-{span.start.isoformat()}", CONTROL_GROUP, span.start, span.end))
        span = DateWindow(span.start + step, span.end + step)
    return out


def backtest_windows(history: History, window: WindowSpec, since: date) -> list[BacktestWindow]:
    until = history.last_event_date
    return election_windows(history, window, since, until) + control_windows(history, window, since, until)


def cutoff_for(window: BacktestWindow, horizon: int) -> date:
    """The last day of data a forecast `horizon` days ahead of the window may use."""
    return window.start - timedelta(days=horizon + 1)


# --- running ----------------------------------------------------------------------

_worker_history: History | None = None


def _init_worker(history: History, parent: int | None = None) -> None:
    """`parent`: the pid of the process that started this worker (read there: here it may already be gone)."""
    global _worker_history
    _worker_history = history
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()


PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """A worker process ends as soon as the retrain that started it is gone (killed, crashed), never outliving it.

    Without this, a killed retrain left its workers computing (and holding its output pipe open).
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _forecast_window(
    args: tuple[BacktestWindow, int, BacktestConfig],
) -> tuple[str, int, dict[str, WindowSamples], dict[str, str]]:
    """Fit every model at the window's cutoff and simulate the window; runs in a worker process."""
    window, horizon, config = args
    history = _worker_history
    assert history is not None
    cutoff = cutoff_for(window, horizon)
    seed = zlib.crc32(f"{window.id}/{horizon}".encode())
    samples: dict[str, WindowSamples] = {}
    failures: dict[str, str] = {}
    for name in config.models:
        model = build_model(name, config.event_types, config.window, config.samples)
        try:
            model.fit(history, cutoff)
        except ModelFitError as error:
            failures[name] = error.reason
            continue
        forecast = model.predict(window.start, window.end, seed=seed)
        samples[name] = WindowSamples.from_forecast(forecast)
    return window.id, horizon, samples, failures


def run_backtest(
    history: History, config: BacktestConfig, progress: Callable[[int, int], None] | None = None
) -> BacktestResult:
    models = tuple(config.models) if BASELINE in config.models else (BASELINE,) + tuple(config.models)
    config = replace(config, models=models, event_types=resolve_event_types(config.event_types))
    windows = backtest_windows(history, config.window, config.since)
    tasks = [(w, h, config) for h in config.horizons for w in windows]
    workers = config.workers or (os.cpu_count() or 1)
    results: dict[tuple[str, int], tuple[dict[str, WindowSamples], dict[str, str]]] = {}
    if workers <= 1:
        _init_worker(history)
        for task in tasks:
            window_id, horizon, samples, failures = _forecast_window(task)
            results[(window_id, horizon)] = (samples, failures)
            if progress:
                progress(len(results), len(tasks))
    else:
        # Fresh interpreters with one BLAS thread each: forked workers would
        # inherit the parent's thread pools and fight over the cores.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(history, os.getpid())
        ) as pool:
            for window_id, horizon, samples, failures in pool.map(_forecast_window, tasks, chunksize=1):
                results[(window_id, horizon)] = (samples, failures)
                if progress:
                    progress(len(results), len(tasks))
    return score_backtest(history, config, windows, results)


def score_backtest(
    history: History,
    config: BacktestConfig,
    windows: list[BacktestWindow],
    results: dict[tuple[str, int], tuple[dict[str, WindowSamples], dict[str, str]]],
) -> BacktestResult:
    observed = _observed_counts(history, windows, config.event_types)
    outcomes: list[WindowOutcome] = []
    failure_rows: list[BacktestFailure] = []
    for horizon in config.horizons:
        ordered = sorted(windows, key=lambda w: (cutoff_for(w, horizon), w.id))
        horizon_outcomes: list[WindowOutcome] = []
        for window in ordered:
            samples, failures = results[(window.id, horizon)]
            cutoff = cutoff_for(window, horizon)
            for name, reason in failures.items():
                failure_rows.append(BacktestFailure(window.id, horizon, name, cutoff, reason))
            if BASELINE not in samples:
                raise ModelFitError(BASELINE, f"the baseline could not be fitted at {cutoff}: {failures.get(BASELINE)}")
            # Only outcomes that closed before this cutoff may steer the strategies.
            past = [o for o in horizon_outcomes if o.window_end <= cutoff]
            scored = {
                name: (samples.get(name, samples[BASELINE]), None if name in samples else BASELINE)
                for name in config.models
            }
            weights = weights_from_scores(past, config.models)
            scored[ENSEMBLE] = (mix_window_samples({n: s for n, (s, _) in scored.items()}, weights), None)
            best = _best_so_far(past, list(config.models))
            scored[BEST_SO_FAR] = (scored[best][0], None)
            closed_windows = len({o.window_id for o in past})
            for name, (window_samples, replaced_by) in scored.items():
                outcome = _score(window, horizon, cutoff, name, window_samples, replaced_by, observed[window.id])
                if name in (ENSEMBLE, BEST_SO_FAR):
                    outcome.chosen_on_windows = closed_windows
                horizon_outcomes.append(outcome)
        outcomes.extend(horizon_outcomes)
    return BacktestResult(config, windows, outcomes, failure_rows, history.last_event_date)


def _best_so_far(past: list[WindowOutcome], models: list[str]) -> str:
    elections = [o for o in past if o.group != CONTROL_GROUP and o.model in models]
    if not elections:
        return BASELINE
    losses = pd.DataFrame([(o.model, o.log_loss) for o in elections], columns=["model", "log_loss"])
    means = losses.groupby("model")["log_loss"].mean()
    return str(means.idxmin())


def _score(
    window: BacktestWindow,
    horizon: int,
    cutoff: date,
    name: str,
    samples: WindowSamples,
    replaced_by: str | None,
    observed_count: int,
) -> WindowOutcome:
    p = samples.probability_any
    y = float(observed_count > 0)
    probabilities = samples.count_probabilities()
    i80, i95 = samples.interval(0.8), samples.interval(0.95)
    return WindowOutcome(
        window_id=window.id,
        group=window.group,
        window_end=window.end,
        horizon=horizon,
        model=name,
        cutoff=cutoff,
        probability_any=p,
        expected_count=samples.expected_count,
        interval_80=(i80.lower, i80.upper),
        interval_95=(i95.lower, i95.upper),
        observed_count=observed_count,
        election_effect=samples.election_effect().ratio,
        replaced_by=replaced_by,
        brier=float(brier(p, y)),
        log_loss=float(log_loss(p, y)),
        rps=ranked_probability_score(probabilities, observed_count),
        count_log_loss=count_log_loss(probabilities, observed_count, len(samples.totals)),
    )


def _observed_counts(
    history: History, windows: Iterable[BacktestWindow], event_types: tuple[str, ...]
) -> dict[str, int]:
    windows = list(windows)
    if not windows:
        return {}
    first, last = min(w.start for w in windows), max(w.end for w in windows)
    series = daily_counts(history.events, event_types, first, last)
    return {w.id: int(series[pd.Timestamp(w.start) : pd.Timestamp(w.end)].sum()) for w in windows}
