"""A real, small backtest on the shipped history: windows, no look-ahead, scores, strategies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from forecasting.domain.vocabulary import resolve_event_types
from forecasting.domain.window import WindowSpec
from forecasting.evaluation.backtest import (
    BEST_SO_FAR,
    CONTROL_GROUP,
    ENSEMBLE,
    BacktestConfig,
    _forecast_window,
    _init_worker,
    backtest_windows,
    cutoff_for,
    run_backtest,
)
from forecasting.evaluation.report import ALL_ELECTIONS, BacktestReport
from forecasting.evaluation.summary import backtest_report, election_effect_evidence, format_table, summary_table
from tests.forecasting.conftest import with_events_changed_after

MODELS = ("climatology", "trailing_year", "negbin_glm", "negbin_glm_no_election", "hawkes")
CONFIG = BacktestConfig(models=MODELS, horizons=(30,), since=date(2016, 1, 1), samples=400, workers=1)


@pytest.fixture(scope="module")
def result(shipped_history):
    return run_backtest(shipped_history, CONFIG)


def test_windows_cover_every_backtested_election_and_controls_clear_of_them(shipped_history):
    windows = backtest_windows(shipped_history, WindowSpec(30, 30), date(2016, 1, 1))
    elections = [w for w in windows if w.group != CONTROL_GROUP]
    ids = {w.election_id for w in elections}
    assert {
        "kr-legislative-2016-04-13",
        "kr-presidential-2017-05-09",
        "us-presidential-2020-11-03",
        "us-midterm-2022-11-08",
        "kr-legislative-2024-04-10",
        "kr-presidential-2025-06-03",
    } <= ids
    assert not any(w.election_id and w.election_id.startswith("kr-local") for w in elections)
    assert all(w.end <= shipped_history.last_event_date for w in windows)
    for control in (w for w in windows if w.group == CONTROL_GROUP):
        for row in shipped_history.elections.itertuples():
            day = row.date.date()
            assert control.end < day - timedelta(days=30) or control.start > day + timedelta(days=30)
            assert control.end - control.start == timedelta(days=60)


def test_a_backtest_forecast_never_reads_past_its_cutoff(shipped_history):
    window = next(
        w
        for w in backtest_windows(shipped_history, WindowSpec(30, 30), date(2016, 1, 1))
        if w.election_id == "kr-legislative-2024-04-10"
    )
    cutoff = cutoff_for(window, 30)
    assert cutoff == date(2024, 2, 9)
    config = replace(CONFIG, event_types=resolve_event_types(None))
    _init_worker(shipped_history)
    _, _, honest, failures = _forecast_window((window, 30, config))
    assert not failures
    _init_worker(with_events_changed_after(shipped_history, cutoff))
    _, _, tampered, _ = _forecast_window((window, 30, config))
    for name in MODELS:
        assert np.array_equal(honest[name].totals, tampered[name].totals)


def test_every_strategy_scores_every_window(result):
    frame = result.frame()
    strategies = set(MODELS) | {ENSEMBLE, BEST_SO_FAR}
    assert set(frame["model"]) == strategies
    assert frame.groupby("model").size().nunique() == 1
    assert frame["probability_any"].between(0, 1).all()
    assert (frame["brier"] >= 0).all() and (frame["log_loss"] >= 0).all() and (frame["rps"] >= 0).all()


def test_observed_counts_are_the_events_in_the_window(result, shipped_history):
    frame = result.frame()
    row = frame[(frame["window_id"] == "kr-legislative-2024-04-10") & (frame["model"] == "climatology")].iloc[0]
    events = shipped_history.events
    inside = events[events["weapons_test"] & events["date"].between("2024-03-11", "2024-05-10")]
    assert row["observed_count"] == len(inside) > 0


def test_strategies_choose_only_on_windows_closed_before_each_cutoff(result):
    frame = result.frame()
    ends = {w.id: w.end for w in result.windows}
    for row in frame[frame["model"].isin([ENSEMBLE, BEST_SO_FAR])].itertuples():
        closed = sum(1 for end in ends.values() if end <= row.cutoff)
        assert row.chosen_on_windows == closed
    first = frame[frame["model"] == BEST_SO_FAR].sort_values("cutoff").iloc[0]
    clim = frame[(frame["window_id"] == first["window_id"]) & (frame["model"] == "climatology")].iloc[0]
    assert first["chosen_on_windows"] == 0 and first["probability_any"] == clim["probability_any"]


def test_summary_table_has_skill_against_both_baselines(result):
    table = summary_table(result)
    row = table[(table["group"] == ALL_ELECTIONS) & (table["model"] == "climatology")].iloc[0]
    assert row["brier_skill_vs_climatology"] == pytest.approx(0.0)
    persistence = table[(table["group"] == ALL_ELECTIONS) & (table["model"] == "trailing_year")].iloc[0]
    assert persistence["brier_skill_vs_trailing_year"] == pytest.approx(0.0)
    assert {"kr_legislative", "kr_presidential", "us_presidential", "us_midterm", CONTROL_GROUP} <= set(table["group"])
    assert "climatology" in format_table(table, 30)


def test_report_is_plain_json_with_evidence_on_elections(result):
    import json

    report = backtest_report(result, 1.0)
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["config"]["horizons"] == [30]
    evidence = election_effect_evidence(result)[0]
    assert evidence.elections_observed >= 0 and evidence.election_terms is not None
    assert report.best_model_by_horizon[30] in set(MODELS) | {ENSEMBLE}
    # The worker count changes no number, so the report does not keep it.
    assert BacktestReport.from_dict(json.loads(text)) == replace(report, config=replace(report.config, workers=0))
