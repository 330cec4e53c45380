"""The baselines in closed form: the same fits as the path models, and the same probabilities they simulate."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP
from forecasting.features.series import daily_counts
from forecasting.models.trailing_rate import ClimatologyModel, TrailingYearModel
from forecasting.models.window.baselines import fit_at, trailing_rate_probabilities
from forecasting.models.window.direct import SERIES_START
from forecasting.models.window.features import CountSeries, Windows, day_number

WEAPONS = EVENT_GROUPS[WEAPONS_GROUP]


@pytest.mark.parametrize("cls", [ClimatologyModel, TrailingYearModel])
@pytest.mark.parametrize("cutoff", [date(1995, 3, 3), date(2010, 7, 1), date(2024, 1, 31)])
def test_vectorised_fit_equals_the_path_model_fit(shipped_history, cls, cutoff):
    series = CountSeries.from_counts(daily_counts(shipped_history.events, WEAPONS, SERIES_START, cutoff))
    model = cls(WEAPONS).fit(shipped_history, cutoff)
    fitted = fit_at(series, day_number(cutoff), cls.name)
    np.testing.assert_allclose(fitted.monthly, model.monthly_rate, rtol=1e-12)
    assert fitted.alpha == pytest.approx(model.alpha, rel=1e-9)


def test_closed_form_probability_matches_the_simulated_one(shipped_history):
    cutoff, start, end = date(2019, 12, 31), date(2020, 3, 1), date(2020, 4, 30)
    model = ClimatologyModel(WEAPONS, samples=20000).fit(shipped_history, cutoff)
    simulated = float(np.mean(model.predict(start, end, seed=3).window_totals > 0))
    series = CountSeries.from_counts(daily_counts(shipped_history.events, WEAPONS, SERIES_START, cutoff))
    p, mu, _ = trailing_rate_probabilities(series, Windows.of(cutoff, start, end), "climatology")
    assert p[0] == pytest.approx(simulated, abs=0.015)
    assert mu[0] == pytest.approx(model.predict(start, end).intensity.mean(axis=0).sum(), rel=0.05)


def test_a_baseline_reads_nothing_after_its_origin(shipped_history):
    cutoff = date(2016, 6, 30)
    full = CountSeries.from_counts(daily_counts(shipped_history.events, WEAPONS, SERIES_START, date(2026, 1, 1)))
    cut = CountSeries.from_counts(daily_counts(shipped_history.events, WEAPONS, SERIES_START, cutoff))
    windows = Windows.of(cutoff, date(2016, 8, 1), date(2016, 9, 30))
    for name in ("climatology", "trailing_year"):
        assert (
            trailing_rate_probabilities(full, windows, name)[0][0]
            == trailing_rate_probabilities(cut, windows, name)[0][0]
        )
