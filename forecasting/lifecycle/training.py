"""Training a model set: every model for every event group, fitted at one cutoff, with its backtest.

The backtest that comes with a model set decides the default model (best
out-of-sample log loss on election windows), the ensemble's weights, and the
skill figures every forecast carries (see `forecasting.serving.model_set`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.records import RecordError
from forecasting.domain.vocabulary import EVENT_GROUPS, EventGroup, ModelName
from forecasting.domain.window import WindowSpec
from forecasting.evaluation.backtest import (
    BEST_SO_FAR,
    ENSEMBLE,
    BacktestConfig,
    run_backtest,
)
from forecasting.evaluation.report import ALL_ELECTIONS, BacktestReport
from forecasting.evaluation.stacking import weights_from_scores
from forecasting.evaluation.summary import backtest_report, best_model, summary_table
from forecasting.features.calendar import ELECTION_COVARIATE_WINDOW
from forecasting.lifecycle.window_training import (
    WindowTraining,
    fit_window_models,
    rule_and_calibrations_at,
    train_window_side,
    type_climatology,
)
from forecasting.models.base import CountModel, ModelFitError
from forecasting.models.catalogue import BASELINE, COMPONENT_MODELS, build_model
from forecasting.models.ensemble import EnsembleModel
from forecasting.serving.model_set import FitFailure, ModelSkill, TrainedModelSet
from forecasting.serving.stored_answers import simulate_answers
from forecasting.serving.window_answers import types_of

DEFAULT_TRAINING_HORIZON = 30


def history_hash(history: History, cutoff: date) -> str:
    """A fingerprint of everything a model set fitted at the cutoff can see."""
    known = history.known_at(cutoff)
    digest = hashlib.sha256()
    for frame in (known.events, known.elections, known.exercises):
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def train_model_set(
    history: History,
    cutoff: date | None = None,
    groups: tuple[str, ...] = tuple(EVENT_GROUPS),
    backtest_config: BacktestConfig | None = None,
    progress: Callable[[str], None] | None = None,
    window_side: bool = True,
) -> TrainedModelSet:
    """Backtest on the weapons group, then fit every model for every group at the cutoff; with `window_side`,
    then the direct window models, the dense backtest, calibration and the default rule."""
    say = progress or (lambda message: None)
    cutoff = cutoff or history.last_event_date
    history = history.known_at(cutoff)
    config = backtest_config or BacktestConfig(horizons=(DEFAULT_TRAINING_HORIZON,))
    timings: dict[str, float] = {}

    started = time.perf_counter()
    say(f"backtesting {len(config.models)} models at a {config.horizons[0]}-day horizon")
    result = run_backtest(history, config)
    timings["backtest_seconds"] = time.perf_counter() - started
    report = backtest_report(result, timings["backtest_seconds"])
    table = summary_table(result)
    horizon = config.horizons[0]
    weights = _final_ensemble_weights(report, list(config.models), horizon)

    models: dict[str, dict[str, CountModel]] = {}
    failures: list[FitFailure] = []
    started = time.perf_counter()
    for group in groups:
        say(f"fitting models for {group}")
        event_types = EVENT_GROUPS[EventGroup(group)]
        fitted = _fit_each(history, cutoff, group, list(config.models), config.window, failures)
        if BASELINE not in fitted:
            raise ModelFitError(BASELINE, f"the baseline could not be fitted for {group}")
        try:
            ensemble = EnsembleModel(event_types, config.window, weights=weights)
            fitted[ENSEMBLE] = ensemble.use_components(fitted, cutoff)
        except ModelFitError as error:
            failures.append(FitFailure(EventGroup(group), ENSEMBLE, error.reason))
        models[group] = fitted
        timings[f"fit_{group}_seconds"] = time.perf_counter() - started
        started = time.perf_counter()

    window = WindowTraining.empty()
    if window_side:
        started = time.perf_counter()
        say("fitting the direct window models and running the dense backtest")
        window = train_window_side(history, cutoff, groups, report, horizon, config.workers, failures)
        timings["window_models_and_dense_seconds"] = time.perf_counter() - started

    candidates = [m for m in table["model"].unique() if m != BEST_SO_FAR]
    with_election_term = [m for m in candidates if _has_election_term(m)]
    effect_model = (
        best_model(table, horizon, with_election_term) if with_election_term else best_model(table, horizon, candidates)
    )
    # The default is the rule's choice at this cutoff (fixed in code, fed windows closed by then only).
    default_model = window.rule_model or best_model(table, horizon, candidates)
    say("simulating every model's paths once and storing the answers they give")
    started = time.perf_counter()
    answers = simulate_answers(models)
    timings["answers_seconds"] = time.perf_counter() - started
    return TrainedModelSet(
        cutoff=cutoff,
        data_hash=history_hash(history, cutoff),
        trained_at=datetime.now(UTC),
        default_model=default_model,
        effect_model=effect_model,
        models=models,
        failures=failures,
        # The path backtest scores the path models; the dense one adds the window models and the rule.
        skill={**window.skill, **_skills(table, horizon)},
        backtest=report,
        timings=timings,
        window_models=window.window_models,
        type_events=window.type_events,
        type_rates=window.type_rates,
        calibrations=window.calibrations,
        dense=window.dense,
        answers=answers,
    )


def _fit_each(
    history: History, cutoff: date, group: str, names: list[str], window: WindowSpec, failures: list[FitFailure]
) -> dict[str, CountModel]:
    """Fit the named models for one event group; each one that cannot be fitted is added to `failures`."""
    fitted: dict[str, CountModel] = {}
    for name in names:
        try:
            fitted[name] = build_model(name, EVENT_GROUPS[EventGroup(group)], window).fit(history, cutoff)
        except ModelFitError as error:
            failures.append(FitFailure(EventGroup(group), ModelName(name), error.reason))
    return fitted


def _has_election_term(name: str) -> bool:
    return name == ENSEMBLE or COMPONENT_MODELS[ModelName(name)].has_election_term


def _final_ensemble_weights(report: BacktestReport, models: list[str], horizon: int) -> dict[str, float]:
    """Stacking weights from every backtest window (all closed before the new cutoff)."""
    return weights_from_scores((r for r in report.forecasts if r.horizon == horizon), models)


def _skills(table: pd.DataFrame, horizon: int) -> dict[str, ModelSkill]:
    chosen = table[(table["horizon"] == horizon) & (table["group"] == ALL_ELECTIONS)]
    climatology = chosen[chosen["model"] == BASELINE]
    reference_log_loss = float(climatology["log_loss"].iloc[0]) if not climatology.empty else float("nan")
    return {
        row.model: ModelSkill(
            model=row.model,
            horizon_days=horizon,
            election_windows=int(row.windows),
            brier=float(row.brier),
            log_loss=float(row.log_loss),
            climatology_log_loss=reference_log_loss,
            brier_skill_vs_climatology=row.brier_skill_vs_climatology,
            brier_skill_vs_trailing_year=row.brier_skill_vs_trailing_year,
            coverage_80=float(row.coverage_80),
            coverage_95=float(row.coverage_95),
        )
        for row in chosen.itertuples()
    }


def fit_at_cutoff(
    history: History,
    cutoff: date,
    group: str,
    model: str,
    reference: TrainedModelSet | None = None,
) -> TrainedModelSet:
    """One model (and climatology) fitted at a past cutoff, for "what would it have said then".

    No backtest runs: the skill shown is the reference version's (usually the
    active one). An ensemble takes its stacking weights from the reference's
    backtest windows that had closed by the cutoff, equal weights without one.
    """
    history = history.known_at(cutoff)
    event_types = EVENT_GROUPS[EventGroup(group)]
    components: list[str] = (
        list(reference.backtest.config.models) if reference and reference.backtest else list(COMPONENT_MODELS)
    )
    # A model without election terms shows the election effect of the reference's effect model, fitted here too.
    effect_model = model if _has_election_term(model) or reference is None else reference.effect_model
    wanted = list(dict.fromkeys([model, effect_model]))
    names = [n for name in wanted for n in (components if name == ENSEMBLE else [name])]
    failures: list[FitFailure] = []
    fitted = _fit_each(
        history, cutoff, group, list(dict.fromkeys(names + [BASELINE])), ELECTION_COVARIATE_WINDOW, failures
    )
    if ENSEMBLE in wanted:
        weights = _weights_before(reference, components, cutoff)
        try:
            fitted[ENSEMBLE] = EnsembleModel(event_types, weights=weights).use_components(fitted, cutoff)
        except ModelFitError as error:
            failures.append(FitFailure(EventGroup(group), ENSEMBLE, error.reason))
    if model not in fitted:
        reason = next((f.reason for f in failures if f.model == model), "not fitted")
        raise ModelFitError(model, f"cannot be fitted at {cutoff}: {reason}")
    if effect_model not in fitted:
        effect_model = model
    return TrainedModelSet(
        cutoff=cutoff,
        data_hash=history_hash(history, cutoff),
        trained_at=datetime.now(UTC),
        default_model=model,
        effect_model=effect_model,
        models={group: fitted},
        failures=failures,
        skill=dict(reference.skill) if reference else {},
        backtest=None,
        calibrations=rule_and_calibrations_at(reference, cutoff)[1],
    )


def _weights_before(reference: TrainedModelSet | None, models: list[str], cutoff: date) -> dict[str, float]:
    if reference is None or reference.backtest is None:
        return {m: 1.0 / len(models) for m in models}
    ends = {w.id: w.end for w in reference.backtest.windows}
    horizon = reference.skill[BASELINE].horizon_days if BASELINE in reference.skill else DEFAULT_TRAINING_HORIZON
    closed = (
        r
        for r in reference.backtest.forecasts
        if r.horizon == horizon and r.window_id in ends and ends[r.window_id] <= cutoff
    )
    return weights_from_scores(closed, models)


class RetrainFailed(RuntimeError):
    """Training could not produce a model set (the message says why); nothing was stored."""


def choose_cutoff(asked: date | None, covered: date | None, backtest_since: date) -> date:
    """The data cutoff: the coverage date (events after it are kept but not learned from), or an earlier day asked for."""
    if covered is None:
        raise RetrainFailed(
            "no source vouches for the history's completeness (no coverage recorded); run `provocast seed`, "
            "`provocast events sync`, or `provocast coverage set --through DATE`"
        )
    if asked is not None and asked > covered:
        raise RecordError("cutoff", f"{asked} is after the history's coverage ({covered}): those days are incomplete")
    cutoff = asked or covered
    # The backtest needs years of windows before the cutoff to score anything.
    earliest = date(backtest_since.year + 5, 1, 1)
    if cutoff < earliest:
        raise RecordError("cutoff", f"{cutoff} leaves too little history to backtest; use {earliest} or later")
    return cutoff


def window_set_at_cutoff(
    history: History, cutoff: date, key: str, model: str, reference: TrainedModelSet | None
) -> TrainedModelSet:
    """The direct window models for a group or union fitted at a past cutoff, for "what would it have said then"."""
    history = history.known_at(cutoff)
    types = types_of(key)
    failures: list[FitFailure] = []
    type_events, type_rates = type_climatology(history, cutoff)
    groups = (key,) if key in EVENT_GROUPS else ()
    wanted = {} if groups else {t: n for t, n in type_events.items() if t in types}
    window_models = fit_window_models(history, cutoff, groups, wanted, failures)
    if groups and model not in window_models.get(key, {}):
        reason = next((f.reason for f in failures if f.model == model), "not fitted")
        raise ModelFitError(model, f"cannot be fitted at {cutoff}: {reason}")
    paths = {key: {str(BASELINE): build_model(BASELINE, types).fit(history, cutoff)}} if groups else {}
    _, calibrations = rule_and_calibrations_at(reference, cutoff)
    return TrainedModelSet(
        cutoff=cutoff,
        data_hash=history_hash(history, cutoff),
        trained_at=datetime.now(UTC),
        default_model=model,
        effect_model=reference.effect_model if reference else BASELINE,
        models=paths,
        failures=failures,
        skill=dict(reference.skill) if reference else {},
        backtest=None,
        window_models=window_models,
        type_events=type_events,
        type_rates=type_rates,
        calibrations=calibrations,
    )
