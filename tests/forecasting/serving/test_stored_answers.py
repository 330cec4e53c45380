"""Stored answers: every window read from them is what the simulated paths say, without keeping the paths."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP
from forecasting.models.catalogue import build_model
from forecasting.models.window_summary import INTERVAL_LEVELS, WindowSamples
from forecasting.serving.answer_arrays import EFFECT_LENGTHS
from forecasting.serving.stored_answers import PathAnswers, answers_from_dict, answers_to_dict

HORIZON = 400
SAMPLES = 600
SEED = 7
# (first day offset, length): on and off the effect grid's lengths, at the horizon's two ends.
WINDOWS = [(0, 1), (0, 61), (37, 61), (100, 30), (250, 7), (5, 366), (HORIZON - 61, 61), (HORIZON - 1, 1), (12, 95)]


@pytest.fixture(scope="module")
def fitted(shipped_history):
    model = build_model("poisson_glm", EVENT_GROUPS[WEAPONS_GROUP], samples=SAMPLES)
    return model.fit(shipped_history, date(2019, 12, 31))


@pytest.fixture(scope="module")
def simulated(fitted):
    _, paths = fitted.simulate_from_cutoff(HORIZON, SEED)
    return paths


@pytest.fixture(scope="module")
def answers(fitted):
    return PathAnswers.simulate(fitted, HORIZON, SEED)


def _samples(simulated, first: int, days: int) -> WindowSamples:
    take = slice(first, first + days)
    return WindowSamples(
        totals=simulated.paths[:, take].sum(axis=1),
        intensity_sums=simulated.intensity[:, take].sum(axis=1),
        baseline_sums=simulated.baseline_intensity[:, take].sum(axis=1),
        baseline_totals=simulated.baseline_paths[:, take].sum(axis=1),
    )


@pytest.mark.parametrize(("first", "days"), WINDOWS)
def test_a_window_read_from_stored_answers_is_what_the_paths_say(answers, simulated, first, days):
    stop = first + days
    direct = _samples(simulated, first, days)
    stats = answers.window(first, stop)
    assert stats.samples == SAMPLES
    assert stats.probability_any == direct.probability_any
    assert stats.intervals == [direct.interval(level) for level in INTERVAL_LEVELS]
    assert np.array_equal(answers.totals(first, stop), direct.totals)
    assert stats.expected_count == pytest.approx(direct.expected_count, rel=1e-9)
    effect, expected = stats.election_effect(), direct.election_effect()
    assert effect.ratio == pytest.approx(expected.ratio, rel=1e-9)
    assert effect.probability_any_without_election == expected.probability_any_without_election
    assert effect.note == expected.note
    if days in EFFECT_LENGTHS:  # on the grid: exact
        assert effect.lower == pytest.approx(expected.lower, rel=1e-5)
        assert effect.upper == pytest.approx(expected.upper, rel=1e-5)
    else:  # between grid lengths: interpolated, well inside the interval's own width
        width = expected.upper - expected.lower
        assert abs(effect.lower - expected.lower) < 0.1 * width
        assert abs(effect.upper - expected.upper) < 0.1 * width
    daily_expected, daily_probability = answers.daily(first, stop)
    assert np.allclose(daily_expected, simulated.intensity[:, first:stop].mean(axis=0))
    assert np.array_equal(daily_probability, (simulated.paths[:, first:stop] > 0).mean(axis=0))


def test_a_day_with_two_events_counts_twice(answers, simulated):
    busy = np.argwhere(simulated.paths > 1)
    assert len(busy), "the simulation has no day with two events; pick another seed"
    path, day = busy[0]
    assert answers.totals(int(day), int(day) + 1)[path] == simulated.paths[path, day]


def test_the_charts_band_is_the_paths_central_80_percent(answers, simulated):
    low, high = answers.band(10, 40, 0.8)
    assert np.allclose(low, np.quantile(simulated.intensity[:, 10:40], 0.1, axis=0).clip(min=0))
    assert np.allclose(high, np.quantile(simulated.intensity[:, 10:40], 0.9, axis=0))
    with pytest.raises(ValueError, match="only the 80% band"):
        answers.band(10, 40, 0.5)


def test_stored_answers_round_trip_through_plain_json(answers):
    text = json.dumps(answers_to_dict({"weapons": {"poisson_glm": answers}}))
    restored = answers_from_dict(json.loads(text))["weapons"]["poisson_glm"]
    assert np.array_equal(restored.keys, answers.keys)
    assert restored.baseline_keys is not None and np.array_equal(restored.baseline_keys, answers.baseline_keys)
    for first, days in WINDOWS:
        assert restored.window(first, first + days) == answers.window(first, first + days)


def test_damaged_answers_are_refused_on_load(answers):
    data = answers.to_dict()
    data["horizon"] = 10  # every key now lies beyond samples x horizon
    with pytest.raises(ValueError, match="out of range"):
        PathAnswers.from_dict(data)
    data = answers.to_dict()
    data["band_low"] = PathAnswers.from_dict(answers.to_dict()).to_dict()["daily_expected"][:-8]
    with pytest.raises(Exception):  # noqa: B017, PT011 - truncated base64 or a short array: either way refused
        PathAnswers.from_dict(data)


def test_a_model_without_an_election_term_stores_no_effect(shipped_history):
    model = build_model("climatology", EVENT_GROUPS[WEAPONS_GROUP], samples=200).fit(
        shipped_history, date(2019, 12, 31)
    )
    answers = PathAnswers.simulate(model, 60, 1)
    assert answers.baseline_keys is None and answers.effect is None
    effect = answers.window(0, 30).election_effect()
    assert effect.ratio is None and "no election term" in effect.note
