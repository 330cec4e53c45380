from datetime import date

import pandas as pd
import pytest

from forecasting.domain.window import WindowSpec
from forecasting.features.calendar import (
    Calendars,
    day_index,
    election_window_features,
    era_features,
    exercise_feature,
    season_features,
)


def calendars(known_on=date(2024, 1, 1)) -> Calendars:
    elections = pd.DataFrame(
        {
            "id": ["kr-leg", "us-pres"],
            "date": pd.to_datetime(["2024-04-10", "2024-11-05"]).astype("datetime64[ns]"),
            "country": ["KR", "US"],
            "kind": ["legislative", "presidential"],
        }
    )
    exercises = pd.DataFrame(
        {
            "id": ["fs-2023", "ufs-2023"],
            "start_date": pd.to_datetime(["2023-03-13", "2023-08-21"]).astype("datetime64[ns]"),
            "end_date": pd.to_datetime(["2023-03-23", "2023-08-31"]).astype("datetime64[ns]"),
        }
    )
    return Calendars(elections, exercises, known_on)


def test_election_window_is_inclusive_and_asymmetric():
    days = day_index(date(2024, 3, 1), date(2024, 5, 31))
    window = election_window_features(days, calendars(), WindowSpec(days_before=10, days_after=5))[
        "election_kr_legislative"
    ]
    inside = window[window == 1.0].index
    assert inside[0] == pd.Timestamp("2024-03-31") and inside[-1] == pd.Timestamp("2024-04-15")
    assert len(inside) == 16


def test_future_exercises_are_projected_from_the_last_observed_year_only():
    days = day_index(date(2025, 3, 1), date(2025, 3, 31))
    projected = exercise_feature(days, calendars(known_on=date(2024, 1, 1)))
    assert projected["2025-03-13":"2025-03-23"].eq(1.0).all()
    assert projected["2025-03-01":"2025-03-12"].eq(0.0).all()


def test_exercise_known_at_the_cutoff_counts_as_under_way():
    days = day_index(date(2023, 3, 10), date(2023, 3, 25))
    feature = exercise_feature(days, calendars(known_on=date(2023, 3, 15)))
    assert feature["2023-03-13":"2023-03-23"].eq(1.0).all()


def test_season_and_era_terms():
    days = day_index(date(1994, 7, 7), date(2011, 12, 18))
    eras = era_features(days)
    assert eras.loc["1994-07-07"].tolist() == [0.0, 0.0]
    assert eras.loc["1994-07-08"].tolist() == [1.0, 0.0]
    assert eras.loc["2011-12-17"].tolist() == [1.0, 1.0]
    season = season_features(days, order=2)
    assert list(season.columns) == ["season_sin1", "season_cos1", "season_sin2", "season_cos2"]
    assert season.abs().max().max() <= 1.0


def test_window_spec_rejects_negative_days():
    with pytest.raises(ValueError):
        WindowSpec(days_before=-1, days_after=30)
