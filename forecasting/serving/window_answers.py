"""Answers from the direct window models: closed form from stored coefficients, numpy only, nothing simulated.

A group's window models answer for it directly. A union of event types that
is not a group is answered from one model per event type (the control model,
fitted for every type with enough events) and, for rarer types, their
climatology, taking the types as independent within the window: P(any) is
1 - prod(1 - p_type) and the expected count is the sum. The daily profile a
chart draws is the window's climatology (rate per calendar month) rescaled to
the window's expected count.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasting.domain.vocabulary import EVENT_GROUPS, EventGroup, ModelName
from forecasting.models.base import ForecastRequestError
from forecasting.models.window.baselines import TrailingRate
from forecasting.models.window.direct import MIN_EVENTS_TO_FIT, WindowAnswer
from forecasting.models.window.distribution import central_interval
from forecasting.models.window.features import day_number
from forecasting.models.window_summary import INTERVAL_LEVELS, CountInterval, DailyIntensity, ElectionEffect
from forecasting.serving.model_set import TrainedModelSet

UNION_SEPARATOR = "+"
UNION_MODEL = ModelName.DIRECT_WINDOW_NO_ELECTION
EFFECT_MODEL = ModelName.DIRECT_WINDOW
NO_EFFECT_NOTE = "this model has no election term, so it shows no election effect"


class TooFewEvents(ForecastRequestError):
    """The version holds too few events of the asked types to forecast them with any model."""


@dataclass(frozen=True)
class WindowParts:
    """A window model's forecast, before calibration: what the forecaster turns into a ServedForecast."""

    event_group: str
    event_types: tuple[str, ...]
    start: date
    end: date
    alpha: float
    probability_any: float
    expected_count: float
    intervals: list[CountInterval]
    daily: list[DailyIntensity]
    election_effect: ElectionEffect
    effect_model: str
    baseline_probability_any: float
    notes: list[str]

    def served_fields(self, notes: list[str]) -> dict[str, Any]:
        """The fields of a `ServedForecast` this answer fills, with the forecaster's notes first."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "alpha"}
        return {**fields, "notes": notes}


def union_key(event_types: tuple[str, ...]) -> str:
    return UNION_SEPARATOR.join(event_types)


def types_of(key: str) -> tuple[str, ...]:
    return EVENT_GROUPS[EventGroup(key)] if key in EVENT_GROUPS else tuple(key.split(UNION_SEPARATOR))


def window_band(
    model_set: TrainedModelSet, key: str, name: str, start: date, end: date, level: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per day, the daily profile scaled by the window count's central interval (lower and upper over the mean)."""
    parts = window_parts(model_set, key, name, start, end)
    lower, upper = central_interval(parts.expected_count, parts.alpha, level)
    daily = np.array([d.expected_count for d in parts.daily])
    scale = 1.0 / parts.expected_count if parts.expected_count > 0 else 0.0
    return daily * lower * scale, daily * upper * scale


def check_union(model_set: TrainedModelSet, event_types: tuple[str, ...]) -> None:
    """Raise TooFewEvents, naming the count, unless the version can answer this union."""
    if not model_set.type_events:
        raise TooFewEvents(
            f"this version holds no per-type models; event types {', '.join(event_types)} need a retrain"
        )
    total = sum(model_set.type_events.get(t, 0) for t in event_types)
    if total < MIN_EVENTS_TO_FIT:
        counts = ", ".join(f"{t} {model_set.type_events.get(t, 0)}" for t in event_types)
        raise TooFewEvents(
            f"only {total} events of {', '.join(event_types)} up to the data cutoff {model_set.cutoff} ({counts}); "
            f"a forecast needs at least {MIN_EVENTS_TO_FIT}"
        )


def window_parts(model_set: TrainedModelSet, key: str, name: str, start: date, end: date) -> WindowParts:
    models = model_set.window_models.get(key, {})
    if name in models:
        answer = models[name].answer(start, end)
        effect_source = answer if answer.effect is not None else _effect_answer(model_set, key, start, end)
        climatology = models[name].baselines[ModelName.CLIMATOLOGY]
        return _parts(key, answer, effect_source, [climatology], start, end, [])
    types = tuple(key.split(UNION_SEPARATOR))
    answers, rates, notes = [], [], []
    for event_type in types:
        fitted = model_set.window_models.get(event_type, {})
        rate = model_set.type_rates[event_type]
        rates.append(rate)
        if UNION_MODEL in fitted:
            answers.append(fitted[UNION_MODEL].answer(start, end))
        elif model_set.type_events.get(event_type, 0) > 0:
            p, mu = rate.probability_any(day_number(start), day_number(end))
            answers.append(WindowAnswer(p, mu, rate.alpha, None, None))
            notes.append(f"{event_type}: too few events for a window model; its climatology is used")
    notes.append(
        "a union of event types that is not a group: the types' forecasts are combined as if independent "
        "within the window"
    )
    p_none = float(np.prod([1.0 - a.probability_any for a in answers]))
    mu = float(sum(a.expected_count for a in answers))
    alpha = max((a.alpha for a in answers), default=0.0)
    combined = WindowAnswer(1.0 - p_none, mu, alpha, None, None)
    return _parts(key, combined, None, rates, start, end, notes)


def _effect_answer(model_set: TrainedModelSet, key: str, start: date, end: date) -> WindowAnswer | None:
    model = model_set.window_models.get(key, {}).get(EFFECT_MODEL)
    return None if model is None else model.answer(start, end)


def _parts(
    key: str,
    answer: WindowAnswer,
    effect_source: WindowAnswer | None,
    rates: list[TrailingRate],
    start: date,
    end: date,
    notes: list[str],
) -> WindowParts:
    a, b = day_number(start), day_number(end)
    intervals = [
        CountInterval(level, *central_interval(answer.expected_count, answer.alpha, level)) for level in INTERVAL_LEVELS
    ]
    p_none = float(np.prod([1.0 - r.probability_any(a, b)[0] for r in rates]))
    return WindowParts(
        event_group=key,
        event_types=types_of(key),
        start=start,
        end=end,
        alpha=answer.alpha,
        probability_any=answer.probability_any,
        expected_count=answer.expected_count,
        intervals=intervals,
        daily=_daily(rates, answer.expected_count, start, end),
        election_effect=_effect(effect_source),
        effect_model=str(EFFECT_MODEL) if effect_source is not None else str(UNION_MODEL),
        baseline_probability_any=1.0 - p_none,
        notes=notes,
    )


def _effect(source: WindowAnswer | None) -> ElectionEffect:
    if source is None or source.effect is None:
        return ElectionEffect(None, None, None, None, None, NO_EFFECT_NOTE)
    ratio, lower, upper = source.effect
    detectable = lower > 1.0 or upper < 1.0
    note = "95% interval from the count model's election terms (covariance clustered by year)" + (
        "" if detectable else "; not detectable: the interval includes no effect (x1)"
    )
    return ElectionEffect(
        ratio, lower, upper, source.expected_count / ratio, source.probability_any_without_election, note
    )


def _daily(rates: list[TrailingRate], expected: float, start: date, end: date) -> list[DailyIntensity]:
    days = np.arange(day_number(start), day_number(end) + 1)
    shape = np.zeros(len(days))
    for rate in rates:
        shape += np.array([rate.expected(int(d), int(d)) for d in days])
    scale = expected / shape.sum() if shape.sum() > 0 else 0.0
    values = shape * scale
    return [DailyIntensity(start + timedelta(days=i), float(v), float(1.0 - np.exp(-v))) for i, v in enumerate(values)]
