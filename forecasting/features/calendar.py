"""Covariates that come from calendars alone, so they exist for any past or future date.

Elections (a window around each, by kind), combined
US-ROK exercises, season and leadership era. Nothing here reads events, so a
forecast's covariates can never leak what happened after its cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.window import WindowSpec

# The days around an election that the models' election covariates mark (not the API's default forecast window,
# which is a setting): fixed, because a fitted model's coefficients are only meaningful for the window it was fitted on.
ELECTION_COVARIATE_WINDOW = WindowSpec(days_before=30, days_after=30)

# Dates leadership passed: Kim Il Sung died 1994-07-08; Kim Jong Il died
# 2011-12-17 (both announced by KCNA within days). The era before 1994 is
# the baseline level.
LEADERSHIP_ERAS: tuple[tuple[str, date], ...] = (
    ("kim_jong_il", date(1994, 7, 8)),
    ("kim_jong_un", date(2011, 12, 17)),
)

ELECTION_KINDS: tuple[str, ...] = (
    "kr_legislative",
    "kr_presidential",
    "kr_local",
    "us_presidential",
    "us_midterm",
)


@dataclass(frozen=True)
class Calendars:
    """The calendars as known on some day: elections and exercises, as plain DataFrames."""

    elections: pd.DataFrame  # id, date, country, kind, ...
    exercises: pd.DataFrame  # id, name, start_date, end_date, ...
    known_on: date

    @property
    def election_kind_keys(self) -> pd.Series:
        return self.elections["country"].str.lower() + "_" + self.elections["kind"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "known_on": self.known_on.isoformat(),
            "elections": [
                {"id": r.id, "date": r.date.date().isoformat(), "country": r.country, "kind": r.kind}
                for r in self.elections.itertuples()
            ],
            "exercises": [
                {"id": r.id, "start_date": r.start_date.date().isoformat(), "end_date": r.end_date.date().isoformat()}
                for r in self.exercises.itertuples()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calendars:
        elections = pd.DataFrame(data["elections"], columns=["id", "date", "country", "kind"])
        elections["date"] = pd.to_datetime(elections["date"]).astype("datetime64[ns]")
        exercises = pd.DataFrame(data["exercises"], columns=["id", "start_date", "end_date"])
        for column in ("start_date", "end_date"):
            exercises[column] = pd.to_datetime(exercises[column]).astype("datetime64[ns]")
        return cls(elections, exercises, date.fromisoformat(data["known_on"]))


def day_index(start: date, end: date) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")


def election_window_features(days: pd.DatetimeIndex, calendars: Calendars, window: WindowSpec) -> pd.DataFrame:
    """One 0/1 column per election kind: is the day inside some election's window?"""
    out = pd.DataFrame(0.0, index=days, columns=[f"election_{kind}" for kind in ELECTION_KINDS])
    day_values = days.values.astype("datetime64[D]")
    kinds = calendars.election_kind_keys
    for kind in ELECTION_KINDS:
        election_days = np.sort(calendars.elections.loc[kinds == kind, "date"].values.astype("datetime64[D]"))
        if len(election_days) == 0:
            continue
        # The nearest election on either side decides: windows of one kind never
        # overlap unless they are longer than the gap between elections.
        following = np.searchsorted(election_days, day_values, side="left")
        previous = following - 1
        inside = np.zeros(len(days), dtype=bool)
        has_next = following < len(election_days)
        days_before = (election_days[np.minimum(following, len(election_days) - 1)] - day_values).astype(int)
        inside |= has_next & (days_before <= window.days_before)
        has_prev = previous >= 0
        days_after = (day_values - election_days[np.maximum(previous, 0)]).astype(int)
        inside |= has_prev & (days_after <= window.days_after)
        out[f"election_{kind}"] = inside.astype(float)
    return out


def exercise_feature(days: pd.DatetimeIndex, calendars: Calendars) -> pd.Series:
    """1.0 on days a combined US-ROK exercise is under way.

    An exercise that had started by `calendars.known_on` is known to run to its
    scheduled end. Later days have no schedule yet as far as the model knows, so
    they take the value of the same day in the latest year already observed:
    the exercises recur each spring and August.
    """
    known = pd.Timestamp(calendars.known_on)
    spans = calendars.exercises[["start_date", "end_date"]].values.astype("datetime64[D]")
    actual = days.values.astype("datetime64[D]")
    under_way = _inside_any_span(actual, spans)
    future = np.flatnonzero(days > known)
    if len(future):
        projected = days[future]
        for _ in range(200):  # years back until every projected day is observed
            late = projected > known
            if not late.any():
                break
            projected = projected.where(~late, projected - pd.DateOffset(years=1))
        under_way[future] |= _inside_any_span(projected.values.astype("datetime64[D]"), spans)
    return pd.Series(under_way.astype(float), index=days, name="exercise")


def _inside_any_span(days: np.ndarray, spans: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(days), dtype=bool)
    for start, end in spans:
        inside |= (days >= start) & (days <= end)
    return inside


def season_features(days: pd.DatetimeIndex, order: int = 2) -> pd.DataFrame:
    """Fourier terms of the day of the year."""
    phase = 2 * np.pi * (days.day_of_year.values - 1) / 365.25
    columns = {}
    for k in range(1, order + 1):
        columns[f"season_sin{k}"] = np.sin(k * phase)
        columns[f"season_cos{k}"] = np.cos(k * phase)
    return pd.DataFrame(columns, index=days)


def era_features(days: pd.DatetimeIndex) -> pd.DataFrame:
    """0/1 per leadership era after the first."""
    return pd.DataFrame(
        {f"era_{name}": (days >= pd.Timestamp(start)).astype(float) for name, start in LEADERSHIP_ERAS},
        index=days,
    )


def calendar_design(
    days: pd.DatetimeIndex, calendars: Calendars, window: WindowSpec, season_order: int = 2
) -> pd.DataFrame:
    """All calendar covariates the regression models use, one row per day."""
    return pd.concat(
        [
            season_features(days, season_order),
            era_features(days),
            exercise_feature(days, calendars).to_frame(),
            election_window_features(days, calendars, window),
        ],
        axis=1,
    )


def election_columns(columns: list[str] | pd.Index) -> list[str]:
    return [c for c in columns if c.startswith("election_")]
