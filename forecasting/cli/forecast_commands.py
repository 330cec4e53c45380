"""`provocast forecast` and `provocast backtest`: the engine from the command line.

`forecast` answers from the active model version (as the API does) or, with
`--cutoff`, fits the model on the history up to that day only and forecasts
as if it were that day. `backtest` runs the rolling-origin backtest on the
store's history, prints the table and writes it as JSON.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecasting.cli.db_commands import fail, reports_errors, store_session

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.domain.history import History
    from forecasting.evaluation.backtest import BacktestConfig
    from forecasting.serving.forecaster import ServedForecast
    from forecasting.serving.model_set import TrainedModelSet

# The engine (statsmodels, scipy, Prophet, matplotlib) is imported inside the
# commands: every other `provocast` command would otherwise pay seconds for it.

DEFAULT_BACKTEST_OUT = Path("var/backtest.json")


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"option '{option}': {value!r} is not a calendar date (YYYY-MM-DD)")


def _active_model_set() -> tuple[str | None, TrainedModelSet | None]:
    """The active registry version, or (None, None) when there is none yet."""
    from forecasting.store import registry

    with store_session() as session:
        version = registry.active_version(session)
        if version is None:
            return None, None
        return str(version.id), registry.load_model_set(version)


def _find_election(history: History, election_id: str) -> pd.Series:
    chosen = history.elections[history.elections["id"] == election_id]
    if chosen.empty:
        fail(
            f"option '--election': no election with id {election_id!r} (see `provocast events list` or GET /v1/elections)"
        )
    return chosen.iloc[0]


@reports_errors
def forecast_command(
    election: Annotated[
        str | None, typer.Option("--election", help="Election id, e.g. kr-legislative-2028-04-12.")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="Window start (YYYY-MM-DD), with --to.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end, inclusive.")] = None,
    days_before: Annotated[int, typer.Option(min=0, max=180, help="With --election: days before election day.")] = 30,
    days_after: Annotated[int, typer.Option(min=0, max=180, help="With --election: days after election day.")] = 30,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--types",
            help="Event types or groups, or any union of them: repeated or comma-separated (default: weapons).",
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name (default: the version's default model).")] = None,
    cutoff: Annotated[
        str | None,
        typer.Option(
            help="Forecast as if it were this day: the model the default rule would have chosen then, fitted on the "
            "history up to then only."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the forecast chart to this PNG file.")] = None,
) -> None:
    """Forecast weapons tests in a window, around an election or between two dates."""
    from forecasting.domain.vocabulary import UnknownEventType
    from forecasting.models.base import ForecastRequestError, ModelFitError
    from forecasting.models.catalogue import UnknownModel, model_class
    from forecasting.models.window.direct import WINDOW_MODELS
    from forecasting.serving.forecaster import Forecaster
    from forecasting.serving.payload import Freshness, forecast_payload
    from forecasting.settings import get_settings
    from forecasting.store.repository import load_history

    if (election is None) == (start is None and end is None):
        fail("give either --election ID or both --from and --to")
    if election is None and (start is None or end is None):
        fail("option '--from'/'--to': both are needed for a date window")
    cutoff_day = _parse_day(cutoff, "--cutoff")
    with store_session() as session:
        history = load_history(session)
    election_row = None
    if election is not None:
        election_row = _find_election(history, election)
        day = election_row["date"].date()
        window_start, window_end = day - timedelta(days=days_before), day + timedelta(days=days_after)
    else:
        window_start, window_end = _parse_day(start, "--from"), _parse_day(end, "--to")
    try:
        if model is not None and model not in WINDOW_MODELS:
            model_class(model)
        version, model_set = _model_set_for(history, cutoff_day, types, model)
        forecaster = Forecaster(model_set, version)
        forecast = forecaster.forecast(window_start, window_end, types, model)
    except (ForecastRequestError, UnknownEventType, UnknownModel) as error:
        fail(str(error))
    except ModelFitError as error:
        fail(str(error), 1)
    if plot is not None:
        from forecasting.serving.charts import window_chart_png, write_png  # matplotlib: only for a chart

        election_day = election_row["date"].date() if election_row is not None else None
        write_png(window_chart_png(forecaster, forecast, history.events, election_day), plot)
    if as_json:
        # The shapes of POST /v1/forecasts and, with --election, GET /v1/elections/{id}/forecast.
        payload = forecast_payload(forecast, Freshness(date.today(), get_settings().stale_after_days))
        if election_row is not None:
            payload = {
                "election": _election_payload(election_row),
                "days_before": days_before,
                "days_after": days_after,
                "forecast": payload,
            }
        typer.echo(json.dumps(payload, indent=2))
    else:
        typer.echo(describe_forecast(forecast, election_row))


def _election_payload(row: pd.Series) -> dict[str, str | None]:
    announced = row["announced"]
    return {
        "id": row["id"],
        "date": row["date"].date().isoformat(),
        "country": row["country"],
        "kind": row["kind"],
        "announced": None if announced is None or announced != announced else announced.date().isoformat(),
    }


def _model_set_for(
    history: History, cutoff: date | None, types: list[str] | None, model: str | None
) -> tuple[str | None, TrainedModelSet]:
    """The active version, or with --cutoff the model the default rule would have chosen then, fitted then."""
    from forecasting.domain.vocabulary import EVENT_GROUPS, ModelName
    from forecasting.lifecycle.training import fit_at_cutoff, window_set_at_cutoff
    from forecasting.lifecycle.window_training import rule_and_calibrations_at
    from forecasting.models.window.direct import WINDOW_MODELS
    from forecasting.serving.forecaster import Forecaster

    version, active = _active_model_set()
    if cutoff is None:
        if active is None:
            fail("no active model version yet: run `provocast retrain` first (or give --cutoff)", 1)
        return version, active
    if cutoff > history.last_event_date:
        fail(f"option '--cutoff': {cutoff} is after the end of the history ({history.last_event_date})")
    probe = Forecaster(active) if active is not None else None
    key = probe.group_for(types) if probe else _group_without_version(types)
    rule_model, _ = rule_and_calibrations_at(active, cutoff)
    chosen = model or rule_model or (active.default_model if active else ModelName.ENSEMBLE)
    label = f"{version}@{cutoff}" if version else f"cutoff-{cutoff}"
    if chosen in WINDOW_MODELS or key not in EVENT_GROUPS:
        return label, window_set_at_cutoff(history, cutoff, key, chosen, reference=active)
    return label, fit_at_cutoff(history, cutoff, key, chosen, reference=active)


def _group_without_version(types: list[str] | None) -> str:
    from forecasting.domain.vocabulary import EVENT_GROUPS, resolve_event_types
    from forecasting.serving.window_answers import union_key

    wanted = resolve_event_types(types)
    for group, group_types in EVENT_GROUPS.items():
        if tuple(sorted(group_types)) == wanted:
            return group
    return union_key(wanted)


def describe_forecast(forecast: ServedForecast, election_row: pd.Series | None = None) -> str:
    """The forecast in plain words, with the model's backtest skill beside it."""
    i80, i95 = forecast.intervals
    lines = []
    where = ""
    if election_row is not None:
        where = (
            f" around the {election_row['country']} {election_row['kind']} election of {election_row['date'].date()}"
        )
    lines.append(f"Window {forecast.start} to {forecast.end}{where}; event group {forecast.event_group}")
    lines.append(
        f"Model {forecast.model} (version {forecast.version or '-'}), data cutoff {forecast.data_cutoff}, "
        f"forecast {forecast.horizon_days} days ahead"
    )
    lines.append(
        f"  Chance of at least one weapons test: {forecast.probability_any:.0%} "
        f"(climatology, the ten-year seasonal rate, says {forecast.baseline_probability_any:.0%})"
    )
    lines.append(
        f"  Expected number of event days: {forecast.expected_count:.1f} "
        f"(80% interval {i80.lower}-{i80.upper}, 95% interval {i95.lower}-{i95.upper})"
    )
    effect = forecast.election_effect
    if effect.ratio is None:
        lines.append(f"  Election effect: not estimated ({effect.note})")
    else:
        interval = f", 95% interval {effect.lower:.2f}-{effect.upper:.2f}" if effect.lower is not None else ""
        lines.append(f"  Election effect: x{effect.ratio:.2f}{interval} (by {forecast.effect_model}; {effect.note})")
    skill = forecast.skill
    if skill is None:
        lines.append("  Skill: not measured for this event group or model")
    else:
        lines.append(
            f"  Skill in backtests ({skill.election_windows} election windows, {skill.horizon_days} days ahead): "
            f"Brier skill {_signed(skill.brier_skill_vs_climatology)} vs climatology, "
            f"{_signed(skill.brier_skill_vs_trailing_year)} vs the trailing-year rate; "
            f"log loss {skill.log_loss:.3f} (climatology {skill.climatology_log_loss:.3f}; lower is better)"
        )
    for note in forecast.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


@reports_errors
def backtest_command(
    horizon: Annotated[
        list[int] | None,
        typer.Option(
            "--horizon", min=0, max=365, help="Days between cutoff and window start; repeatable (default 0, 30, 90)."
        ),
    ] = None,
    window_before: Annotated[int, typer.Option(min=0, max=180, help="Window days before election day.")] = 30,
    window_after: Annotated[int, typer.Option(min=0, max=180, help="Window days after election day.")] = 30,
    models: Annotated[str | None, typer.Option(help="Comma-separated model names (default: all).")] = None,
    types: Annotated[
        list[str] | None, typer.Option("--types", help="Event types or groups (default: weapons).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="First window start (default 1990-01-01).")] = None,
    samples: Annotated[int, typer.Option(min=200, max=20000, help="Simulated paths per forecast.")] = 2000,
    workers: Annotated[int, typer.Option(min=0, max=64, help="Worker processes (0: one per core).")] = 0,
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = DEFAULT_BACKTEST_OUT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of the table.")] = False,
    reliability_plot: Annotated[Path | None, typer.Option(help="Write a reliability diagram PNG.")] = None,
    elections_plot: Annotated[Path | None, typer.Option(help="Write a per-election chart PNG (default model).")] = None,
    dense: Annotated[
        bool,
        typer.Option(
            "--dense",
            help="Also run the dense backtest (direct window models, calibration, the default rule; origins every "
            "14 days since 1990) and write its JSON beside --out.",
        ),
    ] = False,
) -> None:
    """Rolling-origin backtest of every model around every election (and control windows)."""
    from forecasting.domain.vocabulary import UnknownEventType
    from forecasting.domain.window import WindowSpec
    from forecasting.evaluation.backtest import DEFAULT_HORIZONS, DEFAULT_SINCE, BacktestConfig, run_backtest
    from forecasting.evaluation.summary import backtest_report, format_table, summary_table
    from forecasting.models.catalogue import COMPONENT_MODELS
    from forecasting.serving.charts import backtest_elections_png, reliability_png, write_png
    from forecasting.store.repository import load_history

    names = tuple(n.strip() for n in models.split(",") if n.strip()) if models else tuple(COMPONENT_MODELS)
    for name in names:
        if name not in COMPONENT_MODELS:
            fail(f"option '--models': unknown model {name!r}; expected some of: {', '.join(COMPONENT_MODELS)}")
    config = BacktestConfig(
        models=names,
        horizons=tuple(horizon) if horizon else DEFAULT_HORIZONS,
        window=WindowSpec(window_before, window_after),
        event_types=tuple(types or ()),
        since=_parse_day(since, "--since") or DEFAULT_SINCE,
        samples=samples,
        workers=workers,
    )
    with store_session() as session:
        history = load_history(session)
    started = time.perf_counter()
    try:
        result = run_backtest(history, config, progress=None if as_json else _progress)
    except UnknownEventType as error:
        fail(f"option '--types': {error}")
    runtime = time.perf_counter() - started
    report = backtest_report(result, runtime)
    text = json.dumps(report.to_dict(), indent=1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    horizons = list(result.config.horizons)
    # Charts show one horizon: 30 days (the one the default model is chosen at) when it was run.
    plotted = 30 if 30 in horizons else horizons[0]
    if reliability_plot is not None:
        write_png(reliability_png(report, plotted), reliability_plot)
    if elections_plot is not None:
        write_png(backtest_elections_png(report, plotted, report.best_model_by_horizon[plotted]), elections_plot)
    if as_json:
        typer.echo(text)
        return
    table = summary_table(result)
    typer.echo("")
    for h in horizons:
        typer.echo(format_table(table, h))
        typer.echo(f"best by log loss on election windows at {h} days: {report.best_model_by_horizon[h]}")
        for row in report.election_effect:
            if row.horizon == h and row.election_over_control_rate_ratio is not None and row.rate_ratio_interval:
                low, high = row.rate_ratio_interval
                typer.echo(
                    f"events in election windows vs the trailing-year rate, relative to control windows: "
                    f"x{row.election_over_control_rate_ratio:.2f} (Poisson 95% {low:.2f}-{high:.2f}, too narrow: tests cluster)"
                )
            if row.horizon == h and row.election_terms is not None:
                gain = row.election_terms
                typer.echo(
                    f"election terms (negbin_glm vs negbin_glm_no_election): log-loss gain "
                    f"{gain.gain:+.3f} [{gain.interval[0]:+.3f}, {gain.interval[1]:+.3f}]: {gain.verdict}"
                )
        typer.echo("")
    typer.echo(
        f"{len(result.windows)} windows, {len(result.failures)} model fits refused; {runtime:.0f} s; JSON written to {out}"
    )
    if dense:
        _dense_backtest(history, config, out)


def _dense_backtest(history: History, config: BacktestConfig, out: Path) -> None:
    from forecasting.evaluation.dense import DenseConfig
    from forecasting.evaluation.dense_report import dense_report, format_dense_table

    report = dense_report(history, DenseConfig(event_types=config.event_types, workers=config.workers))
    dense_out = out.with_name(f"{out.stem}-dense{out.suffix}")
    dense_out.write_text(json.dumps(report.to_dict()))
    typer.echo("")
    typer.echo(format_dense_table(report))
    typer.echo(
        f"dense backtest: {len(report.rows)} windows, {report.runtime_seconds:.0f} s; JSON written to {dense_out}"
    )


def _progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:
        typer.echo(f"  {done}/{total} forecasts", err=True)


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast_command)
    app.command("backtest")(backtest_command)
