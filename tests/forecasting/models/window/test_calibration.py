"""Recalibration on logit p: the identity without enough windows, and it undoes a known miscalibration."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.models.window.calibration import MIN_WINDOWS, Calibration, intercept_and_slope, logit
from forecasting.models.window_summary import ElectionEffect


def test_too_few_windows_or_one_outcome_leave_probabilities_as_they_are():
    p = np.array([0.2, 0.5, 0.9])
    assert Calibration.fit(np.full(MIN_WINDOWS - 1, 0.3), np.ones(MIN_WINDOWS - 1)).windows == 0
    assert Calibration.fit(np.full(100, 0.3), np.zeros(100)).windows == 0
    np.testing.assert_array_equal(Calibration().apply(p), p)


def test_it_recovers_an_under_confident_forecaster():
    rng = np.random.default_rng(4)
    stated = rng.uniform(0.05, 0.95, 20000)
    # The truth is twice as sharp as what was said: slope 2 on the logit scale, intercept 0.3.
    truth = 1 / (1 + np.exp(-(0.3 + 2.0 * logit(stated))))
    outcomes = (rng.random(len(stated)) < truth).astype(float)
    a, b = intercept_and_slope(stated, outcomes)
    assert a == pytest.approx(0.3, abs=0.08) and b == pytest.approx(2.0, abs=0.1)
    calibration = Calibration.fit(stated, outcomes)
    after = intercept_and_slope(calibration.apply(stated), outcomes)
    assert after[0] == pytest.approx(0.0, abs=0.05) and after[1] == pytest.approx(1.0, abs=0.05)


def test_it_round_trips_and_recalibrates_the_probability_without_elections():
    calibration = Calibration(0.4, 1.3, 120)
    assert Calibration.from_dict(calibration.to_dict()) == calibration
    effect = ElectionEffect(1.2, 0.9, 1.5, 3.0, 0.6, "note")
    assert calibration.apply_to_effect(effect).probability_any_without_election == pytest.approx(
        calibration.apply_one(0.6)
    )
    assert calibration.apply_one(0.6) > 0.6  # a positive intercept and a slope above one raise 0.6
