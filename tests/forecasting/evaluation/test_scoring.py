import numpy as np
import pytest

from forecasting.evaluation.scoring import (
    brier,
    count_log_loss,
    log_loss,
    ranked_probability_score,
    reliability_table,
    skill_score,
)


def test_binary_scores():
    assert brier(np.array([0.8]), np.array([1]))[0] == pytest.approx(0.04)
    assert log_loss(np.array([0.5]), np.array([0]))[0] == pytest.approx(np.log(2))
    assert np.isfinite(log_loss(np.array([0.0]), np.array([1]))[0])  # clipped, not infinite


def test_ranked_probability_score_is_zero_for_a_sure_right_forecast_and_grows_with_distance():
    assert ranked_probability_score([0.0, 0.0, 1.0], 2) == 0.0
    assert ranked_probability_score([1.0], 3) == pytest.approx(3.0)
    assert ranked_probability_score([1.0], 1) < ranked_probability_score([1.0], 2)


def test_count_log_loss_is_finite_for_counts_never_drawn():
    assert np.isfinite(count_log_loss([1.0, 0.0], 1, samples=1000))
    assert count_log_loss([0.5, 0.5], 0, samples=1000) == pytest.approx(np.log(2), rel=1e-3)


def test_skill_score_against_a_reference():
    assert skill_score(0.1, 0.2) == pytest.approx(0.5)
    assert skill_score(0.2, 0.2) == 0.0
    assert skill_score(0.1, 0.0) is None


def test_reliability_table_bins_every_forecast_once():
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    y = np.array([0, 1, 0, 1, 1])
    rows = reliability_table(p, y)
    assert sum(r.forecasts for r in rows) == len(p)
    second = rows[1]
    assert second.forecasts == 2 and second.observed_frequency == pytest.approx(0.5)
    assert rows[-1].forecasts == 2
