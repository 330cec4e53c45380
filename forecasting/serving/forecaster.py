"""Answering forecast questions from a trained model set, fast enough to serve.

A fitted model's paths depend only on its cutoff, not on the window asked
about, so the forecaster simulates each (event group, model) once, from the
day after the cutoff to the end of the forecast horizon, and keeps running
sums over days. Any window's forecast is then a difference of two columns:
microseconds, not a simulation. Nothing is fitted here.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP, resolve_event_types
from forecasting.models.base import ForecastRequestError
from forecasting.models.catalogue import BASELINE
from forecasting.models.window_summary import (
    INTERVAL_LEVELS,
    CountInterval,
    DailyIntensity,
    ElectionEffect,
    WindowSamples,
)
from forecasting.serving.model_set import BACKTESTED_GROUP, ModelSkill, TrainedModelSet

DEFAULT_HORIZON_DAYS = 1100
MAX_WINDOW_DAYS = 366


@dataclass(frozen=True)
class ServedForecast:
    """A window forecast with everything a reader needs to weigh it."""

    version: str | None
    model: str
    data_cutoff: date
    event_group: str
    event_types: tuple[str, ...]
    start: date
    end: date
    horizon_days: int  # days from the cutoff to the window's first day
    probability_any: float
    expected_count: float
    intervals: list[CountInterval]
    daily: list[DailyIntensity]
    election_effect: ElectionEffect
    effect_model: str
    skill: ModelSkill | None
    baseline_probability_any: float  # climatology's probability for the same window
    samples: int
    notes: list[str] = field(default_factory=list)


class _PathSums:
    """Running sums over days of one model's simulated paths (int16/float32 to keep memory down)."""

    def __init__(
        self, days: pd.DatetimeIndex, paths, intensity, baseline_intensity, baseline_paths, effect_interval: bool
    ):
        self.first_day = days[0].date()
        self.length = len(days)
        self.counts = _running(paths, np.int16)
        self.intensity = _running(intensity, np.float32)
        self.baseline_intensity = None if baseline_intensity is None else _running(baseline_intensity, np.float32)
        self.baseline_counts = None if baseline_paths is None else _running(baseline_paths, np.int16)
        self.daily_expected = intensity.mean(axis=0)
        self.daily_probability = (paths > 0).mean(axis=0)
        self.effect_interval = effect_interval

    def window(self, start: date, end: date) -> tuple[WindowSamples, slice]:
        a, b = (start - self.first_day).days, (end - self.first_day).days + 1
        take = lambda sums: None if sums is None else (sums[:, b] - sums[:, a]).astype(np.float64)  # noqa: E731
        samples = WindowSamples(
            totals=take(self.counts).astype(np.int32),
            intensity_sums=take(self.intensity),
            baseline_sums=take(self.baseline_intensity),
            baseline_totals=None if self.baseline_counts is None else take(self.baseline_counts).astype(np.int32),
            effect_interval=self.effect_interval,
        )
        return samples, slice(a, b)


def _running(values: np.ndarray, dtype) -> np.ndarray:
    out = np.zeros((values.shape[0], values.shape[1] + 1), dtype=dtype)
    np.cumsum(values, axis=1, out=out[:, 1:], dtype=dtype)
    return out


class Forecaster:
    def __init__(
        self,
        model_set: TrainedModelSet,
        version: str | None = None,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        seed: int = 0,
    ):
        self.model_set = model_set
        self.version = version
        self.horizon_days = horizon_days
        self.seed = seed
        self._sums: dict[tuple[str, str], _PathSums] = {}
        self._lock = threading.Lock()

    @property
    def cutoff(self) -> date:
        return self.model_set.cutoff

    @property
    def last_forecast_day(self) -> date:
        return self.cutoff + timedelta(days=self.horizon_days)

    def available_models(self, group: str = WEAPONS_GROUP) -> list[str]:
        return list(self.model_set.group_models(group))

    def warm(self, groups: tuple[str, ...] = (WEAPONS_GROUP,)) -> None:
        """Simulate what every default forecast needs ahead of the first request."""
        for group in groups:
            for name in dict.fromkeys((self._default_for(group), self._effect_model_for(group), BASELINE)):
                self._path_sums(group, name)

    def forecast(
        self, start: date, end: date, event_types: list[str] | tuple[str, ...] | None = None, model: str | None = None
    ) -> ServedForecast:
        group = self.group_for(event_types)
        self.check_window(start, end)
        name = model or self._default_for(group)
        if name not in self.model_set.group_models(group):
            raise ForecastRequestError(
                f"model {name!r} is not available for {group}; available: {', '.join(self.model_set.group_models(group))}"
            )
        sums = self._path_sums(group, name)
        samples, days = sums.window(start, end)
        effect_name = self._effect_model_for(group) if not _has_effect(samples) else name
        effect = (
            samples.election_effect()
            if effect_name == name
            else self._path_sums(group, effect_name).window(start, end)[0].election_effect()
        )
        baseline = self._path_sums(group, BASELINE).window(start, end)[0]
        notes = list(self._notes(group, name, start)) + self._effect_notes(group, effect_name)
        return ServedForecast(
            version=self.version,
            model=name,
            data_cutoff=self.cutoff,
            event_group=group,
            event_types=EVENT_GROUPS[group],
            start=start,
            end=end,
            horizon_days=(start - self.cutoff).days,
            probability_any=samples.probability_any,
            expected_count=samples.expected_count,
            intervals=[samples.interval(level) for level in INTERVAL_LEVELS],
            daily=[
                DailyIntensity(start + timedelta(days=i), float(e), float(p))
                for i, (e, p) in enumerate(zip(sums.daily_expected[days], sums.daily_probability[days]))
            ],
            election_effect=effect,
            effect_model=effect_name,
            skill=self.model_set.skill.get(name) if group == BACKTESTED_GROUP else None,
            baseline_probability_any=baseline.probability_any,
            samples=len(samples.totals),
            notes=notes,
        )

    def daily_band(
        self,
        start: date,
        end: date,
        event_types: list[str] | tuple[str, ...] | None = None,
        model: str | None = None,
        level: float = 0.8,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per day of the window, the central `level` interval of the expected count across simulated paths."""
        group = self.group_for(event_types)
        self.check_window(start, end)
        sums = self._path_sums(group, model or self._default_for(group))
        _, days = sums.window(start, end)
        daily = np.diff(sums.intensity[:, days.start : days.stop + 1].astype(np.float64), axis=1)
        tail = (1 - level) / 2
        return np.quantile(daily, tail, axis=0).clip(min=0), np.quantile(daily, 1 - tail, axis=0)

    def group_for(self, event_types: list[str] | tuple[str, ...] | None) -> str:
        """The fitted event group whose types are exactly the ones asked for."""
        wanted = resolve_event_types(event_types)
        for group, types in EVENT_GROUPS.items():
            if tuple(sorted(types)) == wanted and group in self.model_set.models:
                return group
        raise ForecastRequestError(
            f"no model is fitted for event types {', '.join(wanted)}; ask for one of the groups "
            + "; ".join(f"{g} ({', '.join(t)})" for g, t in EVENT_GROUPS.items())
        )

    def check_window(self, start: date, end: date) -> None:
        if end < start:
            raise ForecastRequestError(f"window end {end} is before its start {start}")
        if (end - start).days + 1 > MAX_WINDOW_DAYS:
            raise ForecastRequestError(f"window is {(end - start).days + 1} days long; at most {MAX_WINDOW_DAYS}")
        if start <= self.cutoff:
            raise ForecastRequestError(
                f"window starts on {start}, not after the data cutoff {self.cutoff}: the model has already seen "
                "those days; see the backtests for what it said before past elections"
            )
        if end > self.last_forecast_day:
            raise ForecastRequestError(
                f"window ends on {end}, beyond the forecast horizon ({self.last_forecast_day}, "
                f"{self.horizon_days} days after the data cutoff)"
            )

    def _default_for(self, group: str) -> str:
        available = self.model_set.group_models(group)
        for name in (self.model_set.default_model, "ensemble", "climatology"):
            if name in available:
                return name
        return next(iter(available))

    def _effect_model_for(self, group: str) -> str:
        available = self.model_set.group_models(group)
        return self.model_set.effect_model if self.model_set.effect_model in available else self._default_for(group)

    def _path_sums(self, group: str, name: str) -> _PathSums:
        key = (group, name)
        with self._lock:
            if key not in self._sums:
                model = self.model_set.group_models(group)[name]
                seed = zlib.crc32(f"{self.seed}/{group}/{name}".encode())
                days, simulated = model.simulate_from_cutoff(self.horizon_days, seed)
                self._sums[key] = _PathSums(
                    days,
                    simulated.paths,
                    simulated.intensity,
                    simulated.baseline_intensity,
                    simulated.baseline_paths,
                    model.election_effect_interval,
                )
            return self._sums[key]

    def _notes(self, group: str, name: str, start: date):
        skill = self.model_set.skill.get(name)
        if group != BACKTESTED_GROUP:
            yield f"skill is measured on the {BACKTESTED_GROUP} group only; this group ({group}) is not backtested"
        elif skill and (start - self.cutoff).days > skill.horizon_days + 60:
            yield (
                f"this window opens {(start - self.cutoff).days} days after the data cutoff; the backtest skill "
                f"was measured {skill.horizon_days} days ahead and is likely lower this far out"
            )
        for failure in self.model_set.failures:
            if failure.group == group:
                yield f"{failure.model} could not be fitted and is left out: {failure.reason}"

    def _effect_notes(self, group: str, effect_name: str) -> list[str]:
        model = self.model_set.group_models(group)[effect_name]
        return [
            f"{effect_name}: {note}; an election of that kind shows no effect in this model"
            for note in model.fit_notes
            if "election_" in note and "left out" in note
        ]


def _has_effect(samples: WindowSamples) -> bool:
    return samples.baseline_sums is not None
