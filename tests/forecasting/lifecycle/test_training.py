"""Training a model set on the shipped history (small backtest) and serving forecasts from it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from forecasting.domain.window import DateWindow
from forecasting.evaluation.backtest import BacktestConfig
from forecasting.evaluation.dense_rule import rule_at
from forecasting.lifecycle.training import fit_at_cutoff, history_hash, train_model_set, window_set_at_cutoff
from forecasting.models.base import ForecastRequestError
from forecasting.serving.forecaster import Forecaster, WindowQuery
from forecasting.serving.model_set import dumps, loads
from forecasting.serving.payload import Freshness, forecast_payload
from tests.forecasting.conftest import with_events_changed_after

SMALL = BacktestConfig(
    models=("climatology", "trailing_year", "negbin_glm", "hawkes"),
    horizons=(30,),
    since=date(2016, 1, 1),
    samples=300,
    workers=1,
)
GROUPS = ("weapons", "nuclear")


@pytest.fixture(scope="module")
def model_set(shipped_history):
    return train_model_set(shipped_history, groups=GROUPS, backtest_config=SMALL)


@pytest.fixture(scope="module")
def forecaster(model_set):
    forecaster = Forecaster(model_set, version="test")
    return forecaster


def test_default_model_is_the_rules_choice_on_windows_closed_by_the_cutoff(model_set):
    assert model_set.backtest is not None and model_set.dense is not None
    choice, calibrations = rule_at(model_set.dense.rows, model_set.cutoff)
    assert model_set.default_model == choice
    for name, calibration in calibrations.items():
        assert model_set.calibrations[name] == calibration
    assert model_set.skill["default_rule"].election_windows > 0
    assert model_set.cutoff == model_set.backtest.data_end


def test_sparse_groups_fit_the_baselines_and_report_what_failed(model_set):
    nuclear = model_set.group_models("nuclear")
    assert "climatology" in nuclear
    failed = {f.model for f in model_set.failures if f.group == "nuclear"}
    assert "negbin_glm" in failed and "negbin_glm" not in nuclear


def test_model_set_round_trips_through_plain_json(model_set, forecaster):
    text = dumps(model_set)
    assert "pickle" not in text
    restored = Forecaster(loads(text), version="test")
    window = (date(2028, 3, 13), date(2028, 5, 12))
    assert restored.forecast(*window).probability_any == forecaster.forecast(*window).probability_any
    with pytest.raises(ValueError, match="not a Provocast model set"):
        loads(json.dumps({"format": "something else"}))


def test_served_forecast_carries_version_cutoff_skill_and_baseline(forecaster, model_set):
    forecast = forecaster.forecast(date(2028, 3, 13), date(2028, 5, 12))
    assert forecast.version == "test" and forecast.data_cutoff == model_set.cutoff
    assert forecast.skill is not None and forecast.skill.model == "default_rule"  # the rule's skill, as it chose
    assert forecaster.forecast(date(2028, 3, 13), date(2028, 5, 12), model="hawkes").skill.model == "hawkes"
    assert 0 <= forecast.probability_any <= 1 and 0 <= forecast.baseline_probability_any <= 1
    low80, high80 = forecast.intervals[0].lower, forecast.intervals[0].upper
    low95, high95 = forecast.intervals[1].lower, forecast.intervals[1].upper
    assert low95 <= low80 <= high80 <= high95
    assert len(forecast.daily) == 61 and forecast.daily[0].day == date(2028, 3, 13)
    assert forecast.election_effect.ratio is not None
    fresh = forecast_payload(forecast, Freshness(model_set.cutoff + timedelta(days=14), 14))
    assert fresh["history_through"] == model_set.cutoff.isoformat() and fresh["history_age_days"] == 14
    assert not any("days before today" in note for note in fresh["notes"])
    payload = forecast_payload(forecast, Freshness(model_set.cutoff + timedelta(days=15), 14))
    assert payload["history_age_days"] == 15
    assert f"complete through {model_set.cutoff}, 15 days before today (more than 14)" in payload["notes"][-1]
    assert payload["version"] == "test" and payload["skill"]["horizon_days"] == 30
    assert payload["data_cutoff"] == model_set.cutoff.isoformat() and payload["window"]["days"] == 61
    json.dumps(payload, allow_nan=False)


def test_forecast_requests_the_engine_cannot_answer_are_refused(forecaster):
    cutoff = forecaster.cutoff
    cases = [
        ((cutoff, cutoff + timedelta(days=10)), "not after the data cutoff"),
        ((cutoff + timedelta(days=20), cutoff + timedelta(days=10)), "before its start"),
        ((cutoff + timedelta(days=1), cutoff + timedelta(days=500)), "at most 366"),
        ((cutoff + timedelta(days=2000), cutoff + timedelta(days=2010)), "beyond the forecast horizon"),
    ]
    for (start, end), message in cases:
        with pytest.raises(ForecastRequestError, match=message):
            forecaster.forecast(start, end)
    with pytest.raises(ForecastRequestError, match=r"only 0 events of incursion up to the data cutoff .* at least 15"):
        forecaster.forecast(cutoff + timedelta(days=5), cutoff + timedelta(days=30), ["incursion"])
    with pytest.raises(ForecastRequestError, match="not available"):
        forecaster.forecast(cutoff + timedelta(days=5), cutoff + timedelta(days=30), ["nuclear"], model="hawkes")


def test_what_the_model_would_have_said_depends_only_on_the_past(shipped_history, model_set):
    cutoff = date(2024, 2, 9)
    honest = fit_at_cutoff(shipped_history, cutoff, "weapons", "hawkes", reference=model_set)
    tampered = fit_at_cutoff(
        with_events_changed_after(shipped_history, cutoff), cutoff, "weapons", "hawkes", reference=model_set
    )
    window = (date(2024, 3, 11), date(2024, 5, 10))
    a, b = Forecaster(honest).forecast(*window), Forecaster(tampered).forecast(*window)
    assert a.probability_any == b.probability_any and a.expected_count == pytest.approx(b.expected_count)
    assert history_hash(shipped_history, cutoff) == history_hash(
        with_events_changed_after(shipped_history, cutoff), cutoff
    )


def test_ensemble_at_a_past_cutoff_weighs_only_windows_closed_by_then(shipped_history, model_set):
    early = fit_at_cutoff(shipped_history, date(2016, 2, 1), "weapons", "ensemble", reference=model_set)
    weights = early.models["weapons"]["ensemble"].weights
    assert sum(weights.values()) == pytest.approx(1.0)
    later = fit_at_cutoff(shipped_history, date(2026, 1, 1), "weapons", "ensemble", reference=model_set)
    assert later.models["weapons"]["ensemble"].weights != weights


def test_a_past_forecast_by_a_model_without_election_terms_shows_the_reference_effect(shipped_history, model_set):
    cutoff = date(2024, 2, 9)
    then = fit_at_cutoff(shipped_history, cutoff, "weapons", "trailing_year", reference=model_set)
    assert then.default_model == "trailing_year" and then.effect_model == model_set.effect_model
    forecast = Forecaster(then).forecast(date(2024, 3, 11), date(2024, 5, 10))
    assert forecast.model == "trailing_year" and forecast.effect_model == model_set.effect_model
    assert forecast.election_effect.ratio is not None and forecast.election_effect.ratio > 0


def test_a_trained_set_stores_its_answers_and_an_older_artifact_without_them_still_forecasts(model_set, forecaster):
    assert model_set.answers is not None
    assert {g: set(ms) for g, ms in model_set.answers.items()} == {g: set(ms) for g, ms in model_set.models.items()}
    data = json.loads(dumps(model_set))
    assert data["format"] == "provocast.model_set/2"
    del data["answers"]
    data["format"] = "provocast.model_set/1"
    older = Forecaster(loads(json.dumps(data)), version="test")  # simulates once, with the same seeds
    window = (date(2028, 3, 13), date(2028, 5, 12))
    assert older.forecast(*window) == forecaster.forecast(*window)


def test_every_published_probability_passes_through_the_calibration(forecaster, model_set):
    window = (date(2028, 3, 13), date(2028, 5, 12))
    for name in ("direct_window_no_election", "negbin_glm", "trailing_year"):
        served = forecaster.forecast(*window, model=name)
        raw = forecaster._window_answer if name.startswith("direct") else forecaster._path_answer
        unpublished = raw(WindowQuery(DateWindow(*window), "weapons"), name).probability_any
        assert served.probability_any == pytest.approx(model_set.calibrations[name].apply_one(unpublished))


def test_window_models_answer_in_closed_form_and_unions_of_any_types(forecaster):
    window = (date(2028, 3, 13), date(2028, 5, 12))
    direct = forecaster.forecast(*window, model="direct_window")
    assert direct.samples == 0 and direct.election_effect.ratio is not None and len(direct.daily) == 61
    assert sum(d.expected_count for d in direct.daily) == pytest.approx(direct.expected_count)
    union = forecaster.forecast(*window, ["ballistic_missile", "satellite_launch"])
    assert union.event_group == "ballistic_missile+satellite_launch" and union.model == "direct_window_no_election"
    assert union.event_types == ("ballistic_missile", "satellite_launch") and union.skill is None
    alone = forecaster.forecast(*window, ["ballistic_missile"])
    assert union.probability_any >= alone.probability_any and union.expected_count >= alone.expected_count
    assert forecaster.forecast(*window, ["ballistic,satellite_launch"]).event_group.endswith("satellite_launch")
    with pytest.raises(ForecastRequestError, match="not available"):
        forecaster.forecast(*window, ["ballistic_missile", "satellite_launch"], model="hawkes")


def test_a_past_forecast_by_the_rules_window_model_depends_only_on_the_past(shipped_history, model_set):
    cutoff = date(2024, 2, 9)
    window = (date(2024, 3, 11), date(2024, 5, 10))
    for key in ("weapons", "ballistic_missile+satellite_launch"):
        honest = window_set_at_cutoff(shipped_history, cutoff, key, "direct_window_no_election", model_set)
        tampered = window_set_at_cutoff(
            with_events_changed_after(shipped_history, cutoff), cutoff, key, "direct_window_no_election", model_set
        )
        assert honest.calibrations == tampered.calibrations
        types = key.split("+") if "+" in key else None
        a, b = Forecaster(honest).forecast(*window, types), Forecaster(tampered).forecast(*window, types)
        assert a.probability_any == b.probability_any and a.expected_count == b.expected_count
