"""Answering forecast questions from a trained model set, fast enough to serve.

A fitted model's paths depend only on its cutoff, not on the window asked
about, so each (event group, model) was simulated once, at training, and the
version stores what any window needs (`forecasting.serving.stored_answers`).
Any window's forecast is then a few array reads: a millisecond, not a
simulation. Nothing is fitted or simulated here, except once on load for a
version stored before its answers were (or one fitted ad hoc by the CLI).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP, EventGroup, resolve_event_types
from forecasting.domain.window import DateWindow
from forecasting.models.base import ForecastRequestError
from forecasting.models.catalogue import BASELINE
from forecasting.models.window_summary import CountInterval, DailyIntensity, ElectionEffect
from forecasting.serving.answer_arrays import Floats
from forecasting.serving.model_set import BACKTESTED_GROUP, ModelSkill, TrainedModelSet
from forecasting.serving.stored_answers import DEFAULT_HORIZON_DAYS, StoredAnswers, WindowStats, simulate_answers

MAX_WINDOW_DAYS = 366

# Which end of a window a window problem is about.
Bound = Literal["start", "end"]


class ForecastRejected(ForecastRequestError):
    """A forecast request the served version cannot answer, naming the request field at fault.

    `seen_election` is set when the window is around an election and had opened
    by the data cutoff: the models saw those days, the backtests say what they
    forecast beforehand.
    """

    def __init__(self, message: str, field: str, seen_election: str | None = None):
        super().__init__(message)
        self.field = field
        self.seen_election = seen_election


@dataclass(frozen=True)
class ElectionAnchor:
    """The election a window was built around; a rejected window is then blamed on the election's fields."""

    election_id: str
    day: date


@dataclass(frozen=True)
class WindowQuery:
    """One forecast question: a window, the event group, and a model (None: the version's default)."""

    window: DateWindow
    group: EventGroup
    # Any name a client sends; the version says which it holds (and lists them when this one is not).
    model: str | None = None
    election: ElectionAnchor | None = None


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


class WindowSource(Protocol):
    """Where one (group, model)'s answers come from: stored path answers (`PathAnswers`), or a model answered
    in closed form, which implements the same three reads. Day offsets count from the day after the cutoff."""

    def window(self, first: int, stop: int, intervals: bool = True, effect: bool = True) -> WindowStats: ...

    def daily(self, first: int, stop: int) -> tuple[Floats, Floats]: ...

    def band(self, first: int, stop: int, level: float) -> tuple[Floats, Floats]: ...


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
        if model_set.answers is None:  # a version stored before its answers were, or a CLI one-off fit
            model_set.answers = simulate_answers(model_set.models, horizon_days, seed)
        self._answers: StoredAnswers = model_set.answers
        self.horizon_days = _stored_horizon(self._answers, horizon_days)
        for group, models in model_set.models.items():
            missing = set(models) - set(self._answers.get(group, {}))
            if missing:
                raise ValueError(f"the version stores no answers for {group}: {', '.join(sorted(missing))}")

    @property
    def cutoff(self) -> date:
        return self.model_set.cutoff

    @property
    def last_forecast_day(self) -> date:
        return self.cutoff + timedelta(days=self.horizon_days)

    def available_models(self, group: str = WEAPONS_GROUP) -> list[str]:
        return list(self.model_set.group_models(group))

    def forecast(
        self, start: date, end: date, event_types: list[str] | tuple[str, ...] | None = None, model: str | None = None
    ) -> ServedForecast:
        return self.answer(WindowQuery(DateWindow(start, end), self.group_for(event_types), model))

    def answer(self, query: WindowQuery) -> ServedForecast:
        """The forecast for one question, checked against this version first (see `check`)."""
        self.check(query)
        group, start, end = query.group, query.window.start, query.window.end
        name = query.model or self._default_for(group)
        first, stop = self._offsets(start, end)
        source = self._source(group, name)
        stats = source.window(first, stop)
        effect_name = name if stats.has_effect else self._effect_model_for(group)
        effect_stats = (
            stats if effect_name == name else self._source(group, effect_name).window(first, stop, intervals=False)
        )
        baseline = self._source(group, BASELINE).window(first, stop, intervals=False, effect=False)
        expected, probability = source.daily(first, stop)
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
            probability_any=stats.probability_any,
            expected_count=stats.expected_count,
            intervals=stats.intervals,
            daily=[
                DailyIntensity(start + timedelta(days=i), float(e), float(p))
                for i, (e, p) in enumerate(zip(expected, probability, strict=True))
            ],
            election_effect=effect_stats.election_effect(),
            effect_model=effect_name,
            skill=self.model_set.skill.get(name) if group == BACKTESTED_GROUP else None,
            baseline_probability_any=baseline.probability_any,
            samples=stats.samples,
            notes=notes,
        )

    def daily_band(
        self,
        start: date,
        end: date,
        event_types: list[str] | tuple[str, ...] | None = None,
        model: str | None = None,
        level: float = 0.8,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per day of the window, the central `level` interval of the expected count across simulated paths."""
        query = WindowQuery(DateWindow(start, end), self.group_for(event_types), model)
        self._check_window(query)
        first, stop = self._offsets(start, end)
        return self._source(query.group, model or self._default_for(query.group)).band(first, stop, level)

    # --- validation: every check of a question against this version --------------------------

    def group_for(self, event_types: list[str] | tuple[str, ...] | None) -> EventGroup:
        """The fitted event group whose types are exactly the ones asked for."""
        wanted = resolve_event_types(event_types)
        for group, types in EVENT_GROUPS.items():
            if tuple(sorted(types)) == wanted and group in self.model_set.models:
                return EventGroup(group)
        raise ForecastRejected(
            f"no model is fitted for event types {', '.join(wanted)}; ask for one of the groups "
            + "; ".join(f"{g} ({', '.join(t)})" for g, t in EVENT_GROUPS.items()),
            field="event_types",
        )

    def check(self, query: WindowQuery) -> None:
        """Raise ForecastRejected, naming the field at fault, unless this version can answer the question."""
        self._check_window(query)
        self.check_model(query.group, query.model)

    def check_model(self, group: str, model: str | None) -> None:
        available = self.model_set.group_models(group)
        if model is not None and model not in available:
            raise ForecastRejected(
                f"model {model!r} is not available for {group}; available: {', '.join(available)}", field="model"
            )

    def _check_window(self, query: WindowQuery) -> None:
        problem = self._window_problem(query.window)
        if problem is None:
            return
        message, bound = problem
        election = query.election
        if election is None:
            raise ForecastRejected(message, field=bound)
        if query.window.start <= self.cutoff:
            # The window had opened by the data cutoff: the models saw those days.
            field = "election_id" if election.day <= self.cutoff else "days_before"
            raise ForecastRejected(message, field=field, seen_election=election.election_id)
        raise ForecastRejected(message, field="days_before" if bound == "start" else "days_after")

    def _window_problem(self, window: DateWindow) -> tuple[str, Bound] | None:
        start, end = window.start, window.end
        if end < start:
            return f"window end {end} is before its start {start}", "end"
        if window.days > MAX_WINDOW_DAYS:
            return f"window is {window.days} days long; at most {MAX_WINDOW_DAYS}", "end"
        if start <= self.cutoff:
            return (
                f"window starts on {start}, not after the data cutoff {self.cutoff}: the model has already seen "
                "those days; see the backtests for what it said before past elections"
            ), "start"
        if end > self.last_forecast_day:
            return (
                f"window ends on {end}, beyond the forecast horizon ({self.last_forecast_day}, "
                f"{self.horizon_days} days after the data cutoff)"
            ), "end"
        return None

    # --- what a forecast is computed from ------------------------------------------------------

    def _default_for(self, group: str) -> str:
        available = self.model_set.group_models(group)
        for name in (self.model_set.default_model, "ensemble", "climatology"):
            if name in available:
                return name
        return next(iter(available))

    def _effect_model_for(self, group: str) -> str:
        available = self.model_set.group_models(group)
        return self.model_set.effect_model if self.model_set.effect_model in available else self._default_for(group)

    def _source(self, group: str, name: str) -> WindowSource:
        # Every fitted (group, model) has stored answers (checked on construction); a closed-form model
        # would be dispatched here to its own WindowSource.
        return self._answers[group][name]

    def _offsets(self, start: date, end: date) -> tuple[int, int]:
        """The window as day offsets from the day after the cutoff: first and one past the last."""
        first = (start - self.cutoff).days - 1
        return first, first + (end - start).days + 1

    def _notes(self, group: str, name: str, start: date) -> Iterator[str]:
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


def _stored_horizon(answers: StoredAnswers, default: int) -> int:
    horizons = {a.horizon for models in answers.values() for a in models.values()}
    if len(horizons) > 1:
        raise ValueError(f"stored answers disagree on the forecast horizon: {sorted(horizons)}")
    return horizons.pop() if horizons else default
