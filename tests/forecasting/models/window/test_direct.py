"""The direct window models: fitted on the shipped history, answering in closed form, blind to the future."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP
from forecasting.models.base import ModelFitError
from forecasting.models.window.direct import (
    DirectWindowModel,
    DirectWindowNoElectionModel,
    _negative_binomial,
    window_model_from_dict,
)
from forecasting.models.window.distribution import central_interval, count_pmf
from tests.forecasting.conftest import with_events_changed_after

WEAPONS = EVENT_GROUPS[WEAPONS_GROUP]
CUTOFF = date(2024, 2, 9)
WINDOW = (date(2024, 3, 11), date(2024, 5, 10))  # around the KR legislative election of 2024-04-10


@pytest.fixture(scope="module")
def fitted(shipped_history):
    return DirectWindowModel(WEAPONS).fit(shipped_history, CUTOFF)


def test_it_answers_a_window_with_a_probability_a_count_and_an_election_effect(shipped_history, fitted):
    answer = fitted.answer(*WINDOW)
    assert 0 < answer.probability_any < 1 and answer.expected_count > 0 and answer.alpha > 0
    assert answer.effect is not None
    ratio, lower, upper = answer.effect
    assert lower < ratio < upper
    assert answer.probability_any_without_election is not None
    control = DirectWindowNoElectionModel(WEAPONS).fit(shipped_history, CUTOFF)
    assert control.answer(*WINDOW).effect is None and control.answer(*WINDOW).probability_any_without_election is None


def test_nothing_after_the_cutoff_reaches_the_fit_or_the_answer(shipped_history, fitted):
    tampered = DirectWindowModel(WEAPONS).fit(with_events_changed_after(shipped_history, CUTOFF), CUTOFF)
    np.testing.assert_array_equal(tampered.logistic, fitted.logistic)
    np.testing.assert_array_equal(tampered.count_coef, fitted.count_coef)
    assert tampered.answer(*WINDOW) == fitted.answer(*WINDOW)


def test_stored_parameters_are_plain_json_and_answer_the_same(fitted):
    text = json.dumps(fitted.to_dict(), allow_nan=False)
    restored = window_model_from_dict(json.loads(text))
    assert restored.answer(*WINDOW) == pytest.approx(fitted.answer(*WINDOW))


def test_too_few_events_is_refused_naming_the_count(shipped_history):
    with pytest.raises(ModelFitError, match=r"only \d+ events of incursion up to 2024-02-09; needs 15"):
        DirectWindowNoElectionModel(("incursion",)).fit(shipped_history, CUTOFF)


def test_the_numpy_count_glm_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    n = 3000
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 3)), np.zeros(n)])
    lengths = rng.choice([30, 61, 122], n).astype(float)
    mu = np.exp(x[:, :4] @ np.array([-3.0, 0.5, -0.2, 0.1])) * lengths
    y = rng.negative_binomial(2.0, 1 / (1 + 0.5 * mu)).astype(float)
    groups = np.arange(n) // 50
    params, cov, alpha = _negative_binomial("test", x, y, lengths, groups)
    poisson = sm.GLM(y, x[:, :4], family=sm.families.Poisson(), exposure=lengths).fit()
    fitted_mu = poisson.fittedvalues
    expected_alpha = max(
        float(np.sum((((y - fitted_mu) ** 2 - y) / fitted_mu) * fitted_mu) / np.sum(fitted_mu**2)), 1e-3
    )
    reference = sm.GLM(y, x[:, :4], family=sm.families.NegativeBinomial(alpha=expected_alpha), exposure=lengths).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    assert alpha == pytest.approx(expected_alpha, rel=1e-9)
    np.testing.assert_allclose(params[:4], reference.params, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(cov))[:4], reference.bse, rtol=0.05)
    assert params[4] == 0 and cov[4, 4] == 0  # a constant column is left at zero


def test_count_distribution_sums_to_one_and_its_intervals_nest():
    for mu, alpha in ((0.3, 0.0), (6.0, 0.5), (40.0, 1.2)):
        assert count_pmf(mu, alpha).sum() == pytest.approx(1.0, abs=1e-6)
        low80, high80 = central_interval(mu, alpha, 0.8)
        low95, high95 = central_interval(mu, alpha, 0.95)
        assert low95 <= low80 <= high80 <= high95
