"""Training's second half: the direct window models, the dense backtest, calibration and the default rule.

Called by `forecasting.lifecycle.training` once the path models are fitted.
Everything here reads the history as known at the cutoff and, for calibration
and the rule, only backtest windows that had closed by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from forecasting.domain.history import History
from forecasting.domain.vocabulary import EVENT_GROUPS, EVENT_TYPES, EventGroup, ModelName
from forecasting.evaluation.backtest import BEST_SO_FAR
from forecasting.evaluation.dense import DENSE_MODELS, DenseConfig
from forecasting.evaluation.dense_report import HEADLINE_HORIZON, DenseReport, dense_report
from forecasting.evaluation.dense_rule import DEFAULT_RULE, AsYouGo, as_you_go, rule_at
from forecasting.evaluation.dense_summary import ALL_ELECTION_WINDOWS, strategy_probability
from forecasting.evaluation.report import BacktestReport
from forecasting.evaluation.scoring import log_loss
from forecasting.features.series import daily_counts
from forecasting.models.base import ModelFitError
from forecasting.models.window.baselines import TrailingRate, fit_at
from forecasting.models.window.calibration import Calibration
from forecasting.models.window.direct import (
    MIN_EVENTS_TO_FIT,
    SERIES_START,
    WINDOW_MODELS,
    DirectWindowModel,
    DirectWindowNoElectionModel,
    FitContext,
    calendar_table,
)
from forecasting.models.window.distribution import central_interval
from forecasting.models.window.features import CountSeries, day_number
from forecasting.serving.model_set import FitFailure, ModelSkill, TrainedModelSet

# The model a union of event types that is not a group is answered from, one fit per event type.
UNION_MODEL = DirectWindowNoElectionModel


@dataclass
class WindowTraining:
    window_models: dict[str, dict[str, DirectWindowModel]]
    type_events: dict[str, int]
    type_rates: dict[str, TrailingRate]
    calibrations: dict[str, Calibration]
    dense: DenseReport | None
    rule_model: str | None
    skill: dict[str, ModelSkill]

    @classmethod
    def empty(cls) -> WindowTraining:
        """A version trained without the window side: path models only, the old default, no calibration."""
        return cls({}, {}, {}, {}, None, None, {})


def fit_window_models(
    history: History, cutoff: date, groups: tuple[str, ...], type_events: dict[str, int], failures: list[FitFailure]
) -> dict[str, dict[str, DirectWindowModel]]:
    """Both direct models for every group; the union model for every event type with enough events."""
    out: dict[str, dict[str, DirectWindowModel]] = {}
    table = calendar_table(history, cutoff)
    for group in groups:
        types = EVENT_GROUPS[EventGroup(group)]
        context = FitContext.from_history(history, cutoff, types, table)
        fitted: dict[str, DirectWindowModel] = {}
        for name, cls in WINDOW_MODELS.items():
            try:
                fitted[name] = cls(types).fit(history, cutoff, context)
            except ModelFitError as error:
                failures.append(FitFailure(EventGroup(group), ModelName(name), error.reason))
        out[group] = fitted
    for event_type, count in type_events.items():
        if count < MIN_EVENTS_TO_FIT:
            continue  # a rare type: unions read its climatology (`type_rates`)
        try:
            context = FitContext.from_history(history, cutoff, (event_type,), table)
            out[event_type] = {UNION_MODEL.name: UNION_MODEL((event_type,)).fit(history, cutoff, context)}
        except ModelFitError:
            continue
    return out


def type_climatology(history: History, cutoff: date) -> tuple[dict[str, int], dict[str, TrailingRate]]:
    known = history.known_at(cutoff)
    events, rates = {}, {}
    for event_type in EVENT_TYPES:
        series = CountSeries.from_counts(daily_counts(known.events, (event_type,), SERIES_START, cutoff))
        events[event_type] = int(series.cumulative[-1])
        rates[event_type] = fit_at(series, day_number(cutoff), ModelName.CLIMATOLOGY)
    return events, rates


def path_calibrations(report: BacktestReport | None, horizon: int, cutoff: date) -> dict[str, Calibration]:
    """Each path model's recalibration from its backtest windows that had closed by the cutoff."""
    if report is None:
        return {}
    ends = {w.id: w.end for w in report.windows}
    closed = [r for r in report.forecasts if r.horizon == horizon and ends[r.window_id] <= cutoff]
    out = {}
    for model in {row.model for row in closed} - {BEST_SO_FAR}:
        chosen = [r for r in closed if r.model == model]
        p = np.array([r.probability_any for r in chosen])
        y = np.array([float(r.observed_any) for r in chosen])
        out[model] = Calibration.fit(p, y)
    return out


def dense_skills(dense: DenseReport, moves: AsYouGo) -> dict[str, ModelSkill]:
    """Skill on the election windows at the headline horizon, as each strategy would have published it."""
    rows = dense.rows
    chosen = ~rows.is_grid & (rows.windows.horizon == HEADLINE_HORIZON)
    y = (rows.observed[chosen] > 0).astype(float)
    climatology = rows.probability[ModelName.CLIMATOLOGY][chosen]
    out = {}
    for strategy in (DEFAULT_RULE, *DENSE_MODELS):
        row = dense.headline(ALL_ELECTION_WINDOWS, strategy)
        if row is None:
            continue
        p = strategy_probability(rows, moves, strategy)[chosen]
        if strategy == DEFAULT_RULE:
            mu, alpha = moves.rule_expected[chosen], moves.rule_dispersion[chosen]
        else:
            mu, alpha = rows.expected[strategy][chosen], rows.dispersion[strategy][chosen]
        coverage = {}
        for level in (0.8, 0.95):
            inside = [
                lo <= o <= hi
                for (lo, hi), o in (
                    (central_interval(float(m), float(a), level), o)
                    for m, a, o in zip(mu, alpha, rows.observed[chosen], strict=True)
                )
            ]
            coverage[level] = float(np.mean(inside))
        out[strategy] = ModelSkill(
            model=strategy,
            horizon_days=HEADLINE_HORIZON,
            election_windows=int(chosen.sum()),
            brier=row.brier,
            log_loss=float(np.mean(log_loss(p, y))),
            climatology_log_loss=float(np.mean(log_loss(climatology, y))),
            brier_skill_vs_climatology=row.skill_vs_climatology,
            brier_skill_vs_trailing_year=row.skill_vs_trailing_year,
            coverage_80=coverage[0.8],
            coverage_95=coverage[0.95],
        )
    return out


def train_window_side(
    history: History,
    cutoff: date,
    groups: tuple[str, ...],
    report: BacktestReport | None,
    horizon: int,
    workers: int,
    failures: list[FitFailure],
) -> WindowTraining:
    type_events, type_rates = type_climatology(history, cutoff)
    window_models = fit_window_models(history, cutoff, groups, type_events, failures)
    calibrations = path_calibrations(report, horizon, cutoff)
    dense = dense_report(history, DenseConfig(workers=workers), cutoff) if report is not None else None
    rule_model, skill = None, {}
    if dense is not None:
        rule_model, dense_calibrations = rule_at(dense.rows, cutoff)
        calibrations.update(dense_calibrations)
        skill = dense_skills(dense, as_you_go(dense.rows))
    return WindowTraining(window_models, type_events, type_rates, calibrations, dense, rule_model, skill)


def rule_and_calibrations_at(
    reference: TrainedModelSet | None, cutoff: date
) -> tuple[str | None, dict[str, Calibration]]:
    """What the default rule would have chosen at a past cutoff, and the calibrations then, from the reference
    version's backtests (only windows closed by the cutoff are read)."""
    if reference is None:
        return None, {}
    horizon = reference.skill[ModelName.CLIMATOLOGY].horizon_days if ModelName.CLIMATOLOGY in reference.skill else 30
    calibrations = path_calibrations(reference.backtest, horizon, cutoff)
    if reference.dense is None:
        return None, calibrations
    choice, dense_calibrations = rule_at(reference.dense.rows, cutoff)
    return str(choice), {**calibrations, **dense_calibrations}
