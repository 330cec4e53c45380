"""What every servable forecast needs, computed once when a version is trained and stored in its artifact.

A fitted model's paths depend only on its cutoff, not on the window asked
about, so each (event group, model) is simulated once, at training, from the
day after the cutoff to the end of the forecast horizon. What is kept is
compact and enough for any window the API allows:

- the event days of every path as one sorted key array (day * paths + path,
  a day with two events listed twice), uint32: the paths are sparse (tens of
  event days in 1,100 days), so a window's events are one slice found by two
  binary searches, every path's total is a `bincount` of that slice, and
  P(any), the count intervals and P(any) without elections are exact;
- per day, the mean intensity across paths, with and without elections, and
  the 10th and 90th percentiles of the intensity (the charts' 80% band):
  expected counts and the election effect's ratio are sums of these, exact;
- for a model with an election term and parameter uncertainty, the election
  effect's 95% interval over paths for a window starting on any day and
  lasting one of EFFECT_LENGTHS days (61, the default election window, among
  them): exact on those lengths, interpolated linearly between them. It is the
  one approximate figure (by less than its own simulation noise); keeping every
  path's daily intensity instead would cost about 35 MB per model.

Loading a version is reading these arrays; nothing is simulated on a request,
so memory does not grow with the number of distinct questions asked.
Stored as plain JSON: each array is zlib-compressed little-endian bytes in
base64 (key arrays as differences, which compress well).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasting.models.base import CountModel
from forecasting.models.window_summary import (
    EFFECT_INTERVAL_NOTE,
    INTERVAL_LEVELS,
    NO_ELECTION_TERM_NOTE,
    POINT_ESTIMATE_NOTE,
    CountInterval,
    ElectionEffect,
)
from forecasting.serving.answer_arrays import (
    EffectGrid,
    Floats,
    Keys,
    effect_grid,
    pack,
    pack_keys,
    unpack,
    unpack_keys,
)
from forecasting.serving.lazy_parts import LazyParts, write_parts

ANSWERS_FORMAT = "provocast.stored_answers/1"
BAND_LEVEL = 0.8


@dataclass(frozen=True)
class WindowStats:
    """What a forecast reads for one window of one (group, model): exact except the effect interval."""

    samples: int
    probability_any: float
    expected_count: float
    intervals: list[CountInterval]
    expected_without: float | None  # None: the model has no election term
    probability_any_without: float | None
    effect_lower: float | None  # None: no election term, or no parameter uncertainty for it
    effect_upper: float | None
    effect_interval: bool

    @property
    def has_effect(self) -> bool:
        return self.expected_without is not None

    def election_effect(self) -> ElectionEffect:
        """The same figures and notes as `WindowSamples.election_effect`, read from stored answers."""
        without = self.expected_without
        if without is None:
            return ElectionEffect(None, None, None, None, None, NO_ELECTION_TERM_NOTE)
        ratio = self.expected_count / without
        if not self.effect_interval or self.effect_lower is None or self.effect_upper is None:
            return ElectionEffect(ratio, None, None, without, self.probability_any_without, POINT_ESTIMATE_NOTE)
        return ElectionEffect(
            ratio, self.effect_lower, self.effect_upper, without, self.probability_any_without, EFFECT_INTERVAL_NOTE
        )


class PathAnswers:
    """The stored answers of one (event group, model); see the module docstring."""

    def __init__(
        self,
        samples: int,
        horizon: int,
        keys: Keys,
        baseline_keys: Keys | None,
        daily_expected: Floats,
        daily_expected_without: Floats | None,
        daily_probability: Floats,
        band_low: Floats,
        band_high: Floats,
        effect: EffectGrid | None,
        effect_interval: bool,
    ):
        self.samples = samples
        self.horizon = horizon
        self.keys = keys
        self.baseline_keys = baseline_keys
        self.daily_expected = daily_expected
        self.daily_expected_without = daily_expected_without
        self.daily_probability = daily_probability  # each day's share of paths with an event
        self.band_low = band_low
        self.band_high = band_high
        self.effect = effect
        self.effect_interval = effect_interval
        # Derived on load (microseconds): running sums of the daily means.
        self._expected_sums = _running(daily_expected)
        self._without_sums = None if daily_expected_without is None else _running(daily_expected_without)

    @property
    def nbytes(self) -> int:
        arrays = (self.keys, self.baseline_keys, self.daily_expected, self.daily_expected_without, self.band_low)
        grid = 0 if self.effect is None else self.effect.lower.nbytes * 2
        return sum(a.nbytes for a in arrays if a is not None) * 2 + grid

    def totals(self, first: int, stop: int, baseline: bool = False) -> npt.NDArray[np.int64]:
        """Each path's count over day offsets first..stop-1."""
        keys = self.baseline_keys if baseline else self.keys
        assert keys is not None
        # Keys are day-major: the window's events are one slice, whatever the number of paths.
        lower, upper = np.searchsorted(keys, np.array([first, stop], dtype=np.uint32) * np.uint32(self.samples))
        return np.bincount(keys[lower:upper] % np.uint32(self.samples), minlength=self.samples)

    def window(self, first: int, stop: int, intervals: bool = True, effect: bool = True) -> WindowStats:
        """The window's figures; `intervals` and `effect` False leave out what a caller does not read (cheaper)."""
        totals = self.totals(first, stop)
        expected = float(self._expected_sums[stop] - self._expected_sums[first])
        without = None if self._without_sums is None else float(self._without_sums[stop] - self._without_sums[first])
        p_without = lower = upper = None
        if effect and self.baseline_keys is not None:
            p_without = float(np.mean(self.totals(first, stop, baseline=True) > 0))
        if effect and self.effect is not None:
            lower, upper = self.effect.at(first, stop - first)
        return WindowStats(
            samples=self.samples,
            probability_any=float(np.mean(totals > 0)),
            expected_count=expected,
            intervals=_intervals(totals) if intervals else [],
            expected_without=without,
            probability_any_without=p_without,
            effect_lower=lower,
            effect_upper=upper,
            effect_interval=self.effect_interval,
        )

    def daily(self, first: int, stop: int) -> tuple[Floats, Floats]:
        """Per day: the expected count and the share of paths with an event."""
        return self.daily_expected[first:stop], self.daily_probability[first:stop]

    def band(self, first: int, stop: int, level: float) -> tuple[Floats, Floats]:
        if abs(level - BAND_LEVEL) > 1e-9:
            raise ValueError(f"only the {BAND_LEVEL:.0%} band is stored, not {level}")
        return self.band_low[first:stop], self.band_high[first:stop]

    # --- from a simulation (at training) and to/from the artifact ---------------------------

    @classmethod
    def simulate(cls, model: CountModel, horizon: int, seed: int) -> PathAnswers:
        """Simulate the model's paths over the horizon once and keep what every window needs."""
        _, simulated = model.simulate_from_cutoff(horizon, seed)
        intensity = simulated.intensity
        effect_interval = model.election_effect_interval  # an ensemble knows it once it has simulated
        baseline = simulated.baseline_intensity
        tail = (1 - BAND_LEVEL) / 2
        effect = None
        if baseline is not None and effect_interval:
            effect = effect_grid(intensity, baseline, horizon)
        return cls(
            samples=intensity.shape[0],
            horizon=horizon,
            keys=_event_keys(simulated.paths),
            baseline_keys=None if simulated.baseline_paths is None else _event_keys(simulated.baseline_paths),
            daily_expected=intensity.mean(axis=0),
            daily_expected_without=None if baseline is None else baseline.mean(axis=0),
            daily_probability=(simulated.paths > 0).mean(axis=0),
            band_low=np.quantile(intensity, tail, axis=0).clip(min=0),
            band_high=np.quantile(intensity, 1 - tail, axis=0),
            effect=effect,
            effect_interval=effect_interval,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "samples": self.samples,
            "horizon": self.horizon,
            "effect_interval": self.effect_interval,
            "keys": pack_keys(self.keys),
            "daily_expected": pack(self.daily_expected),
            "daily_probability": pack(self.daily_probability),
            "band_low": pack(self.band_low),
            "band_high": pack(self.band_high),
        }
        if self.baseline_keys is not None:
            data["baseline_keys"] = pack_keys(self.baseline_keys)
        if self.daily_expected_without is not None:
            data["daily_expected_without"] = pack(self.daily_expected_without)
        if self.effect is not None:
            data["effect"] = {
                "starts": pack(self.effect.starts),
                "lengths": pack(self.effect.lengths),
                "lower": pack(self.effect.lower),
                "upper": pack(self.effect.upper),
            }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PathAnswers:
        samples, horizon = int(data["samples"]), int(data["horizon"])
        shape = None
        effect = None
        if "effect" in data:
            starts, lengths = (
                unpack(data["effect"]["starts"], np.float64),
                unpack(data["effect"]["lengths"], np.float64),
            )
            shape = (len(starts), len(lengths))
            effect = EffectGrid(
                starts,
                lengths,
                unpack(data["effect"]["lower"], np.float32).reshape(shape),
                unpack(data["effect"]["upper"], np.float32).reshape(shape),
            )
        answers = cls(
            samples=samples,
            horizon=horizon,
            keys=unpack_keys(data["keys"]),
            baseline_keys=unpack_keys(data["baseline_keys"]) if "baseline_keys" in data else None,
            daily_expected=unpack(data["daily_expected"], np.float64),
            daily_expected_without=(
                unpack(data["daily_expected_without"], np.float64) if "daily_expected_without" in data else None
            ),
            daily_probability=unpack(data["daily_probability"], np.float64),
            band_low=unpack(data["band_low"], np.float64),
            band_high=unpack(data["band_high"], np.float64),
            effect=effect,
            effect_interval=bool(data["effect_interval"]),
        )
        answers._check()
        return answers

    def _check(self) -> None:
        """Refuse arrays that do not fit together (a damaged artifact), rather than answer wrongly later."""
        limit = self.samples * self.horizon
        for keys in (self.keys, self.baseline_keys):  # sorted by construction (a running sum that cannot wrap)
            if keys is not None and len(keys) and int(keys[-1]) >= limit:
                raise ValueError("stored event keys are out of range")
        dailies = (
            self.daily_expected,
            self.daily_expected_without,
            self.daily_probability,
            self.band_low,
            self.band_high,
        )
        for daily in dailies:
            if daily is not None and len(daily) != self.horizon:
                raise ValueError(f"a stored daily array has {len(daily)} days, not {self.horizon}")


def _event_keys(paths: npt.NDArray[Any]) -> Keys:
    """day * paths + path for every event, repeated as many times as the day's count; sorted by construction."""
    counts = np.asarray(paths)
    if counts.shape[0] * counts.shape[1] >= 2**32:
        raise ValueError("too many paths x days for 32-bit event keys")
    flat = counts.T.reshape(-1)  # day-major
    where = np.flatnonzero(flat)
    return np.repeat(where, flat[where].astype(np.int64)).astype(np.uint32)


def _intervals(totals: npt.NDArray[np.int64]) -> list[CountInterval]:
    """The central intervals of INTERVAL_LEVELS, all from one partial sort."""
    tails = [(1.0 - level) / 2 for level in INTERVAL_LEVELS]
    bounds = np.quantile(totals, [q for tail in tails for q in (tail, 1.0 - tail)], method="inverted_cdf")
    return [
        CountInterval(level=level, lower=int(bounds[2 * i]), upper=int(bounds[2 * i + 1]))
        for i, level in enumerate(INTERVAL_LEVELS)
    ]


def _running(values: Floats) -> Floats:
    out = np.zeros(len(values) + 1)
    np.cumsum(values, out=out[1:])
    return out


DEFAULT_HORIZON_DAYS = 1100

# event group -> model name -> answers; read from an artifact, each (group, model) is decoded on first use
StoredAnswers = Mapping[str, Mapping[str, PathAnswers]]


def simulate_answers(
    models: Mapping[str, Mapping[str, CountModel]], horizon: int = DEFAULT_HORIZON_DAYS, seed: int = 0
) -> StoredAnswers:
    """Every (group, model)'s answers, each simulated with its own seed (the same paths as before they were stored)."""
    return {
        group: {
            name: PathAnswers.simulate(model, horizon, zlib.crc32(f"{seed}/{group}/{name}".encode()))
            for name, model in named.items()
        }
        for group, named in models.items()
    }


def answers_to_dict(answers: StoredAnswers) -> dict[str, Any]:
    return {
        "format": ANSWERS_FORMAT,
        "groups": {g: write_parts(ms, PathAnswers.to_dict) for g, ms in answers.items()},
    }


def answers_from_dict(data: dict[str, Any]) -> StoredAnswers:
    """The answers as stored, each (group, model) decoded and checked when first read; the horizon is checked now."""
    if data.get("format") != ANSWERS_FORMAT:
        raise ValueError(f"not Provocast stored answers (format {data.get('format')!r})")
    answers = {g: LazyParts(ms, PathAnswers.from_dict, f"answers of {g}") for g, ms in data["groups"].items()}
    stored_horizon(answers, DEFAULT_HORIZON_DAYS)
    return answers


def stored_horizon(answers: StoredAnswers, default: int) -> int:
    """The forecast horizon all the answers share (`default` when there are none), read without decoding any."""
    horizons = {int(a["horizon"]) for models in answers.values() for a in write_parts(models, _horizon_only).values()}
    if len(horizons) > 1:
        raise ValueError(f"stored answers disagree on the forecast horizon: {sorted(horizons)}")
    return horizons.pop() if horizons else default


def _horizon_only(answers: PathAnswers) -> dict[str, int]:
    return {"horizon": answers.horizon}
