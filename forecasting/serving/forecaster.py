"""Answering forecast questions from a trained model set, fast enough to serve.

A fitted model's paths depend only on its cutoff, not on the window asked
about, so each (event group, model) was simulated once, at training, and the
version stores what any window needs (`forecasting.serving.stored_answers`).
Any window's forecast is then a few array reads: a millisecond, not a
simulation. The direct window models are answered in closed form from their
stored coefficients (`forecasting.serving.window_answers`). Nothing is fitted
or simulated here, except once on load for a version stored before its answers
were (or one fitted ad hoc by the CLI).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP, EventGroup, resolve_event_types
from forecasting.domain.window import DateWindow
from forecasting.evaluation.dense_rule import DEFAULT_RULE
from forecasting.models.base import ForecastRequestError
from forecasting.models.catalogue import BASELINE
from forecasting.models.window.direct import WINDOW_MODELS
from forecasting.models.window_summary import CountInterval, DailyIntensity, ElectionEffect
from forecasting.serving import window_answers
from forecasting.serving.answer_arrays import Floats
from forecasting.serving.lazy_parts import DamagedPart
from forecasting.serving.model_set import BACKTESTED_GROUP, ModelSkill, TrainedModelSet
from forecasting.serving.stored_answers import (
    DEFAULT_HORIZON_DAYS,
    StoredAnswers,
    WindowStats,
    simulate_answers,
    stored_horizon,
)

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
    """One forecast question: a window, the event group (or union of types), and a model (None: the default)."""

    window: DateWindow
    group: str  # an event group, or a union of event types joined by "+" (see `Forecaster.group_for`)
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
        self.horizon_days = stored_horizon(self._answers, horizon_days)
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
        if group not in self.model_set.models:
            return [window_answers.UNION_MODEL]  # a union of types (see `group_for`)
        return list(self.model_set.group_models(group)) + list(self.model_set.window_models.get(group, {}))

    def check_default_parts(self, group: str = WEAPONS_GROUP) -> None:
        """Build what a default answer for `group` reads (the default and effect models, their stored answers and the
        baseline's), so that a damaged version is refused when it is loaded, not when first asked; DamagedPart if
        one cannot be built. The other parts are built, and checked, when first asked for."""
        default, effect = self._default_for(group), self._effect_model_for(group)
        for name in dict.fromkeys((default, effect, BASELINE)):
            if name in self.model_set.group_models(group):
                self.model_set.group_models(group)[name]
                self._answers[group][name]
        if default in self.model_set.window_models.get(group, {}):
            self.model_set.window_models[group][default]

    def build_every_part(self) -> list[str]:
        """Build every part of the version not built yet (run in the background once it is served, so that no
        request pays for a first build); returns why any part could not be built (it answers 503 when asked)."""
        damaged: list[str] = []
        parts: list[Mapping[str, object]] = [
            *self.model_set.models.values(),
            *self._answers.values(),
            *self.model_set.window_models.values(),
        ]
        for named in parts:
            for name in named:
                try:
                    named[name]
                except DamagedPart as error:
                    damaged.append(str(error))
        return damaged

    def forecast(
        self, start: date, end: date, event_types: list[str] | tuple[str, ...] | None = None, model: str | None = None
    ) -> ServedForecast:
        return self.answer(WindowQuery(DateWindow(start, end), self.group_for(event_types), model))

    def answer(self, query: WindowQuery) -> ServedForecast:
        """The forecast for one question, checked first (see `check`); probabilities are recalibrated here only."""
        self.check(query)
        name = query.model or self._default_for(query.group)
        raw = self._window_answer(query, name) if name in WINDOW_MODELS else self._path_answer(query, name)
        calibration = self.model_set.calibration(query.group, name)
        skill = self.model_set.skill.get(DEFAULT_RULE if query.model is None else name) or self.model_set.skill.get(
            name
        )
        return dataclasses.replace(
            raw,
            probability_any=calibration.apply_one(raw.probability_any),
            election_effect=calibration.apply_to_effect(raw.election_effect),
            skill=skill if query.group == BACKTESTED_GROUP else None,
        )

    def _window_answer(self, query: WindowQuery, name: str) -> ServedForecast:
        start = query.window.start
        parts = window_answers.window_parts(self.model_set, query.group, name, start, query.window.end)
        notes = list(self._notes(query.group, name, start)) + parts.notes
        return ServedForecast(
            version=self.version,
            model=name,
            data_cutoff=self.cutoff,
            horizon_days=(start - self.cutoff).days,
            skill=None,
            samples=0,
            **parts.served_fields(notes),
        )

    def _path_answer(self, query: WindowQuery, name: str) -> ServedForecast:
        group, start, end = query.group, query.window.start, query.window.end
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
            event_types=EVENT_GROUPS[EventGroup(group)],
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
            skill=None,
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
        name = model or self._default_for(query.group)
        if name in WINDOW_MODELS:
            # A direct window model has no paths: its daily profile scaled by the window count's own interval.
            return window_answers.window_band(self.model_set, query.group, name, start, end, level)
        first, stop = self._offsets(start, end)
        return self._source(query.group, name).band(first, stop, level)

    # --- validation: every check of a question against this version --------------------------

    def group_for(self, event_types: list[str] | tuple[str, ...] | None) -> str:
        """The fitted event group whose types are exactly the ones asked for, else their union (any types).

        A union is answered from per-type window models (see `forecasting.serving.window_answers`); one with
        too few events for any model is refused, naming the count.
        """
        wanted = resolve_event_types(event_types)
        for group, types in EVENT_GROUPS.items():
            if tuple(sorted(types)) == wanted and group in self.model_set.models:
                return str(group)
        try:
            window_answers.check_union(self.model_set, wanted)
        except window_answers.TooFewEvents as error:
            raise ForecastRejected(str(error), field="event_types") from None
        return window_answers.union_key(wanted)

    def check(self, query: WindowQuery) -> None:
        """Raise ForecastRejected, naming the field at fault, unless this version can answer the question."""
        self._check_window(query)
        self.check_model(query.group, query.model)

    def check_model(self, group: str, model: str | None) -> None:
        available = self.available_models(group)
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
        available = self.available_models(group)
        for name in (self.model_set.default_model, "ensemble", "climatology"):
            if name in available:
                return name
        return next(iter(available))

    def _effect_model_for(self, group: str) -> str:
        available = self.model_set.group_models(group)
        if self.model_set.effect_model in available:
            return self.model_set.effect_model
        default = self._default_for(group)
        return default if default in available else next(iter(available))

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
