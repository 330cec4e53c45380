"""Every model, fitted for real on the shipped history: the checks that make a forecast honest."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP
from forecasting.models.base import ForecastRequestError
from forecasting.models.catalogue import COMPONENT_MODELS, build_model, model_from_dict
from forecasting.models.ensemble import EnsembleModel
from forecasting.models.window_summary import WindowSamples
from tests.forecasting.conftest import with_events_changed_after

CUTOFF = date(2023, 12, 31)
START, END = date(2024, 3, 11), date(2024, 5, 10)  # around South Korea's 2024-04-10 legislative election
WEAPONS = EVENT_GROUPS[WEAPONS_GROUP]
SAMPLES = 1000


@pytest.fixture(scope="module", params=list(COMPONENT_MODELS))
def fitted(request, shipped_history):
    return build_model(request.param, WEAPONS, samples=SAMPLES).fit(shipped_history, CUTOFF)


def test_forecast_is_a_valid_count_distribution(fitted):
    forecast = fitted.predict(START, END, seed=3)
    summary = WindowSamples.from_forecast(forecast)
    assert forecast.paths.shape == (SAMPLES, (END - START).days + 1)
    assert (forecast.paths >= 0).all() and np.issubdtype(forecast.paths.dtype, np.integer)
    assert (forecast.intensity >= 0).all()
    assert 0.0 <= summary.probability_any <= 1.0
    assert summary.expected_count >= 0
    i80, i95 = summary.interval(0.8), summary.interval(0.95)
    assert 0 <= i95.lower <= i80.lower <= i80.upper <= i95.upper
    assert abs(sum(summary.count_probabilities()) - 1.0) < 1e-9


def test_same_seed_same_forecast_other_seed_other_paths(fitted):
    first = fitted.predict(START, END, seed=11)
    again = fitted.predict(START, END, seed=11)
    other = fitted.predict(START, END, seed=12)
    assert np.array_equal(first.paths, again.paths)
    assert np.array_equal(first.intensity, again.intensity)
    assert not np.array_equal(first.paths, other.paths)


def test_events_after_the_cutoff_cannot_change_the_forecast(fitted, shipped_history):
    tampered = with_events_changed_after(shipped_history, CUTOFF)
    refitted = build_model(fitted.name, WEAPONS, samples=SAMPLES).fit(tampered, CUTOFF)
    original, again = fitted.predict(START, END, seed=5), refitted.predict(START, END, seed=5)
    assert np.array_equal(original.paths, again.paths)
    assert np.allclose(original.intensity, again.intensity)


def test_stored_parameters_are_plain_json_and_predict_the_same(fitted):
    text = json.dumps(fitted.to_dict())  # fails on anything that is not plain data
    restored = model_from_dict(json.loads(text))
    assert np.array_equal(restored.predict(START, END, seed=2).paths, fitted.predict(START, END, seed=2).paths)


def test_windows_the_model_has_seen_are_refused(fitted):
    with pytest.raises(ForecastRequestError, match="not after the model's data cutoff"):
        fitted.predict(CUTOFF, CUTOFF + timedelta(days=10))
    with pytest.raises(ForecastRequestError, match="before its start"):
        fitted.predict(END, START)


def test_election_effect_is_reported_only_by_models_with_an_election_term(fitted):
    effect = WindowSamples.from_forecast(fitted.predict(START, END, seed=1)).election_effect()
    if fitted.has_election_term:
        assert effect.ratio is not None and effect.ratio > 0
        assert effect.expected_count_without_election > 0
        if effect.lower is not None:
            assert effect.lower <= effect.upper
    else:
        assert effect.ratio is None and "no election term" in effect.note


def test_window_without_any_election_has_next_to_no_election_effect(shipped_history):
    # The counterfactual has no elections at all after the cutoff, so an earlier
    # election's window can still reach this one through self-excitation; a little.
    model = build_model("hawkes", WEAPONS, samples=SAMPLES).fit(shipped_history, CUTOFF)
    quiet = WindowSamples.from_forecast(
        model.predict(date(2024, 7, 1), date(2024, 7, 20), seed=1)
    )  # no election within 30 days
    assert quiet.election_effect().ratio == pytest.approx(1.0, abs=0.03)
    first_days = WindowSamples.from_forecast(
        model.predict(date(2024, 1, 1), date(2024, 1, 20), seed=1)
    )  # before any window opens
    assert first_days.election_effect().ratio == pytest.approx(1.0)


def test_a_model_that_cannot_be_fitted_is_reported_and_left_out_of_the_ensemble(shipped_history):
    # Before 1990 there are too few weapons tests for the regressions: they refuse to fit.
    early = date(1989, 12, 31)
    ensemble = EnsembleModel(WEAPONS, samples=SAMPLES, weights={n: 1.0 for n in COMPONENT_MODELS}).fit(
        shipped_history, early
    )
    assert "poisson_glm" in ensemble.failures and "hawkes" in ensemble.failures
    assert set(ensemble.weights) == set(ensemble.components)
    assert "poisson_glm" not in ensemble.components
    assert sum(ensemble.weights.values()) == pytest.approx(1.0)
    assert any(note.startswith("poisson_glm left out") for note in ensemble.fit_notes)
    forecast = WindowSamples.from_forecast(ensemble.predict(date(1990, 3, 1), date(1990, 4, 30), seed=1))
    assert 0.0 <= forecast.probability_any <= 1.0
