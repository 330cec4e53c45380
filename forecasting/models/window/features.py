"""What a direct window model reads: features of a window known at its cutoff, for many windows at once.

A window is (origin, horizon, length): the origin is the last day of data, the
window opens `horizon + 1` days later and lasts `length` days. Recency features
(trailing counts, days since the last event) read only the daily series up to
the origin; calendar features (season, exercise days, era, elections) read only
the calendars, as known at the origin. Everything is numpy: serving computes
the same features for one window in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.features.calendar import LEADERSHIP_ERAS, Calendars, day_index, exercise_feature

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TRAILING_SCALES: tuple[int, ...] = (30, 90, 365, 1095)
# Horizons and lengths beyond these are read as these (the training grid goes no further).
MAX_HORIZON = 365
MAX_LENGTH = 366
# Which election kinds count as an election of each country inside a window.
ELECTION_COUNTRIES: tuple[str, ...] = ("kr", "us")
ELECTION_KINDS_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "kr": ("legislative", "presidential"),
    "us": ("presidential", "midterm"),
}
RECENCY_COLUMNS = tuple(f"log_count_{k}d" for k in TRAILING_SCALES) + ("log_days_since_last",)
# The two baselines' forecasts of the same window, as logits: the direct model learns how far to trust them.
BASELINE_COLUMNS = ("logit_climatology", "logit_trailing_year")
CALENDAR_COLUMNS = (
    "season_sin1",
    "season_cos1",
    "season_sin2",
    "season_cos2",
    "exercise_share",
    *(f"era_{name}" for name, _ in LEADERSHIP_ERAS),
    "horizon",
    "log_length",
)
# Recency fades with the horizon: each recency feature also enters multiplied by horizon / MAX_HORIZON.
INTERACTION_COLUMNS = tuple(f"{c}_x_horizon" for c in RECENCY_COLUMNS)
ELECTION_COLUMNS = tuple(f"election_{c}_in_window" for c in ELECTION_COUNTRIES)


def feature_columns(with_elections: bool) -> tuple[str, ...]:
    base = RECENCY_COLUMNS + BASELINE_COLUMNS + CALENDAR_COLUMNS + INTERACTION_COLUMNS
    return base + ELECTION_COLUMNS if with_elections else base


@dataclass(frozen=True)
class Windows:
    """Many windows as arrays of day numbers (days since 1970-01-01): origin, first and last day."""

    origin: IntArray
    start: IntArray
    end: IntArray

    @classmethod
    def grid(cls, origins: IntArray, horizons: tuple[int, ...], lengths: tuple[int, ...]) -> Windows:
        o, h, n = np.meshgrid(origins, np.asarray(horizons), np.asarray(lengths), indexing="ij")
        o, h, n = o.ravel(), h.ravel(), n.ravel()
        return cls(o, o + h + 1, o + h + n)

    @classmethod
    def rotating(cls, origins: IntArray, horizons: tuple[int, ...], lengths: tuple[int, ...]) -> Windows:
        """Every horizon from every origin, the length taking each value in turn from one origin to the next."""
        o, h = np.meshgrid(origins, np.asarray(horizons), indexing="ij")
        n = np.asarray(lengths)[np.arange(len(origins)) % len(lengths)][:, None] + 0 * h
        o, h, n = o.ravel(), h.ravel(), n.ravel()
        return cls(o, o + h + 1, o + h + n)

    @classmethod
    def of(cls, origin: date, start: date, end: date) -> Windows:
        return cls(np.array([day_number(origin)]), np.array([day_number(start)]), np.array([day_number(end)]))

    def __len__(self) -> int:
        return len(self.origin)

    def take(self, mask: npt.NDArray[np.bool_]) -> Windows:
        return Windows(self.origin[mask], self.start[mask], self.end[mask])

    @property
    def horizon(self) -> IntArray:
        return self.start - self.origin - 1

    @property
    def length(self) -> IntArray:
        return self.end - self.start + 1


def day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def from_day_number(number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(number))


@dataclass(frozen=True)
class CountSeries:
    """A daily count series from `first_day` (a day number) as cumulative sums, for trailing counts fast."""

    first_day: int
    cumulative: IntArray  # cumulative[i] = events on days first_day .. first_day + i - 1
    last_event: IntArray  # last_event[i] = day number of the last event on or before first_day + i, or -1e9

    @classmethod
    def from_counts(cls, counts: pd.Series) -> CountSeries:
        values = counts.to_numpy().astype(np.int64)
        first = day_number(counts.index[0].date())
        cumulative = np.concatenate([[0], np.cumsum(values)])
        days = np.arange(len(values)) + first
        marks = np.where(values > 0, days, -(10**9))
        return cls(first, cumulative, np.maximum.accumulate(marks))

    @property
    def last_day(self) -> int:
        return self.first_day + len(self.cumulative) - 2

    def total(self, first: IntArray, last: IntArray) -> IntArray:
        """Events on days first..last (day numbers, inclusive), zero outside the series."""
        a = np.clip(first - self.first_day, 0, len(self.cumulative) - 1)
        b = np.clip(last - self.first_day + 1, 0, len(self.cumulative) - 1)
        out: IntArray = self.cumulative[b] - self.cumulative[a]
        return out

    def recency(self, origins: IntArray) -> FloatArray:
        """Trailing counts (log 1 + n) at each scale and log days since the last event, at each origin."""
        if np.any(origins > self.last_day):
            raise ValueError("an origin lies after the end of the series: its recency is not known")
        columns = [np.log1p(self.total(origins - k + 1, origins)) for k in TRAILING_SCALES]
        index = np.clip(origins - self.first_day, 0, len(self.last_event) - 1)
        last = self.last_event[index]
        since = np.where(last < 0, origins - self.first_day + 3650, origins - last)
        columns.append(np.log1p(since.astype(np.float64)))
        return np.column_stack(columns).astype(np.float64)


@dataclass(frozen=True)
class CalendarTable:
    """Per day, from `first_day`: the exercise indicator as known at `known_on` (projected after it)."""

    first_day: int
    exercise_cumulative: FloatArray
    elections: pd.DataFrame  # date (day number), country key, announced (day number, -1 when regular)

    @classmethod
    def build(cls, calendars: Calendars, first: date, last: date, elections: pd.DataFrame) -> CalendarTable:
        days = day_index(first, last)
        exercise = exercise_feature(days, calendars).to_numpy()
        return cls(day_number(first), np.concatenate([[0.0], np.cumsum(exercise)]), election_table(elections))

    def exercise_share(self, start: IntArray, end: IntArray) -> FloatArray:
        a = np.clip(start - self.first_day, 0, len(self.exercise_cumulative) - 1)
        b = np.clip(end - self.first_day + 1, 0, len(self.exercise_cumulative) - 1)
        out: FloatArray = (self.exercise_cumulative[b] - self.exercise_cumulative[a]) / (end - start + 1)
        return out

    def elections_in(self, windows: Windows) -> FloatArray:
        """Per country: 1.0 when an election of its kinds falls inside the window and was known at the origin."""
        columns = []
        for country in ELECTION_COUNTRIES:
            chosen = self.elections[self.elections["country"] == country]
            days = chosen["day"].to_numpy()
            announced = chosen["announced"].to_numpy()
            inside = (
                (days[None, :] >= windows.start[:, None])
                & (days[None, :] <= windows.end[:, None])
                & (announced[None, :] <= windows.origin[:, None])
            )
            columns.append(inside.any(axis=1).astype(np.float64))
        return np.column_stack(columns)


def election_table(elections: pd.DataFrame) -> pd.DataFrame:
    """Elections of the counted kinds as day numbers; `announced` is -1e9 for regular (always known) ones."""
    country = elections["country"].str.lower()
    keep = np.zeros(len(elections), dtype=bool)
    for key, kinds in ELECTION_KINDS_BY_COUNTRY.items():
        keep |= ((country == key) & elections["kind"].isin(kinds)).to_numpy()
    chosen = elections[keep]
    epoch = np.datetime64("1970-01-01")
    days = (chosen["date"].to_numpy().astype("datetime64[D]") - epoch).astype(np.int64)
    if "announced" in chosen.columns:
        announced_raw = chosen["announced"].to_numpy().astype("datetime64[D]")
        announced = np.where(np.isnat(announced_raw), -(10**9), (announced_raw - epoch).astype(np.int64))
    else:
        announced = np.full(len(chosen), -(10**9))
    return pd.DataFrame({"day": days, "country": country[keep].to_numpy(), "announced": announced})


def calendar_features(windows: Windows, table: CalendarTable) -> FloatArray:
    middle = (windows.start + windows.end) / 2.0
    # Day of the year of the window's middle, as a phase (1970-01-01 is day 0 of a year).
    phase = 2 * np.pi * (((middle + 0.0) % 365.25) / 365.25)
    era_columns = [(windows.start >= day_number(start)).astype(np.float64) for _, start in LEADERSHIP_ERAS]
    horizon = np.minimum(windows.horizon, MAX_HORIZON) / MAX_HORIZON
    length = np.log(np.minimum(windows.length, MAX_LENGTH) / 30.0)
    return np.column_stack(
        [
            np.sin(phase),
            np.cos(phase),
            np.sin(2 * phase),
            np.cos(2 * phase),
            table.exercise_share(windows.start, windows.end),
            *era_columns,
            horizon,
            length,
        ]
    )


def design_matrix(
    windows: Windows, recency: FloatArray, baselines: FloatArray, table: CalendarTable, with_elections: bool
) -> FloatArray:
    """One row per window, in the order of `feature_columns(with_elections)`.

    `recency` holds one row per window (`CountSeries.recency` at its origin), `baselines` the two baselines'
    logits of P(any) for the window (`forecasting.models.window.baselines.baseline_logits`).
    """
    calendar = calendar_features(windows, table)
    horizon = (np.minimum(windows.horizon, MAX_HORIZON) / MAX_HORIZON)[:, None]
    parts = [recency, baselines, calendar, recency * horizon]
    if with_elections:
        parts.append(table.elections_in(windows))
    return np.hstack(parts)
