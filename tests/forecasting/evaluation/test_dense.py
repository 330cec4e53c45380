"""The dense backtest, calibration as you go and the default rule: nothing after a cutoff reaches them."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from forecasting.evaluation.dense import DENSE_MODELS, DenseConfig, run_dense
from forecasting.evaluation.dense_report import DenseReport, dense_report, format_dense_table
from forecasting.evaluation.dense_rule import RULE_CANDIDATES, as_you_go, closed_by, rule_at
from forecasting.evaluation.dense_summary import block_indices
from forecasting.models.window.features import day_number
from tests.forecasting.conftest import with_events_changed_after

SMALL = DenseConfig(
    since=date(2012, 1, 1), scored_since=date(2016, 1, 1), step_days=28, horizons=(0, 30), lengths=(30,), workers=1
)
CUTOFF = date(2020, 6, 30)


@pytest.fixture(scope="module")
def rows(shipped_history):
    return run_dense(shipped_history, SMALL)


@pytest.fixture(scope="module")
def tampered_rows(shipped_history):
    return run_dense(with_events_changed_after(shipped_history, CUTOFF), SMALL, cutoff=shipped_history.last_event_date)


def test_every_window_is_forecast_by_models_fitted_before_its_origin(rows):
    assert len(rows) > 200 and set(rows.probability) == set(DENSE_MODELS)
    assert np.all(rows.refit <= rows.windows.origin) and np.all(rows.windows.origin < rows.windows.start)
    elections = ~rows.is_grid
    assert elections.any() and {label for label, e in zip(rows.label, elections, strict=True) if e} <= {
        "kr_legislative", "kr_presidential", "us_presidential", "us_midterm"
    }  # fmt: skip
    for name in DENSE_MODELS:
        assert np.all((rows.probability[name] >= 0) & (rows.probability[name] <= 1))


def test_events_after_a_cutoff_change_no_forecast_made_before_it(rows, tampered_rows):
    before = rows.windows.origin <= day_number(CUTOFF)
    for name in DENSE_MODELS:
        np.testing.assert_array_equal(rows.probability[name][before], tampered_rows.probability[name][before])
    closed = rows.windows.end <= day_number(CUTOFF)
    np.testing.assert_array_equal(rows.observed[closed], tampered_rows.observed[closed])
    # So the rule and every calibration at the cutoff are the same, the tampered future notwithstanding.
    assert rule_at(rows, CUTOFF) == rule_at(tampered_rows, CUTOFF)


def test_the_rule_and_calibration_read_only_windows_closed_by_their_cutoff(rows):
    scrambled_rows = run_copy(rows)
    later = ~closed_by(rows, CUTOFF)
    rng = np.random.default_rng(0)
    for name in DENSE_MODELS:
        scrambled_rows.probability[name][later] = rng.random(int(later.sum()))
    scrambled_rows.observed[later] = rng.integers(0, 5, int(later.sum()))
    assert rule_at(scrambled_rows, CUTOFF) == rule_at(rows, CUTOFF)
    moves = as_you_go(rows)
    assert set(moves.choices.values()) <= set(RULE_CANDIDATES)
    # As you go: the choice made at each refit date reads only windows closed by then.
    for refit, choice in moves.choices.items():
        assert rule_at(rows, refit)[0] == choice


def run_copy(rows):
    from copy import deepcopy

    return deepcopy(rows)


def test_moving_blocks_are_runs_of_consecutive_windows():
    indices = block_indices(50, 5, 200, seed=2)
    assert indices.shape == (200, 50)
    runs = indices[:, :5]
    assert np.all(np.diff(runs, axis=1) == 1) and indices.min() >= 0 and indices.max() < 50


def test_the_report_round_trips_through_json_and_prints_its_table(shipped_history):
    report = dense_report(shipped_history, SMALL)
    text = json.dumps(report.to_dict(), allow_nan=False)
    again = DenseReport.from_dict(json.loads(text))
    assert json.dumps(again.to_dict(), allow_nan=False) == text
    table = format_dense_table(report)
    assert "default_rule" in table and "vs trailing year" in table
    headline = report.headline("grid", "default_rule", 30)
    assert headline is not None and headline.windows > 50
    low, high = headline.skill_vs_trailing_year_interval
    assert low <= headline.skill_vs_trailing_year <= high
