"""The backtest report: what a backtest found, as a tree of frozen dataclasses.

It is the JSON `provocast backtest` writes and every model set carries
(`TrainedModelSet.backtest`). `to_dict`/`from_dict` write and read that JSON
exactly: keys in the same order, values of the same types, so a stored report
reads back to the same text. The numbers are computed in
`forecasting.evaluation.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from forecasting.domain.window import WindowSpec
from forecasting.evaluation.backtest import BacktestConfig, BacktestFailure, BacktestWindow
from forecasting.evaluation.scoring import ReliabilityBin

# The report's window group of every election window together (the others are election kinds and "control").
ALL_ELECTIONS = "elections"


@dataclass(frozen=True)
class SummaryRow:
    """Mean scores of one model on one group of windows at one horizon (rounded to 6 places)."""

    horizon: int
    group: str
    model: str
    windows: int
    with_event: int
    mean_probability: float
    brier: float
    log_loss: float
    brier_skill_vs_climatology: float | None
    brier_skill_vs_trailing_year: float | None
    rps: float
    count_log_loss: float
    coverage_80: float
    coverage_95: float
    replaced_by_climatology: int

    def to_dict(self) -> dict[str, Any]:
        return _flat_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SummaryRow:
        return cls(**data)


@dataclass(frozen=True)
class ForecastRow:
    """One strategy's forecast of one backtest window, its outcome and scores (rounded to 6 places)."""

    window_id: str
    group: str
    horizon: int
    model: str
    cutoff: date
    probability_any: float
    expected_count: float
    observed_count: int
    observed_any: bool
    brier: float
    log_loss: float
    rps: float
    count_log_loss: float
    replaced: bool
    election_effect: float | None
    # For the ensemble and best_so_far: how many closed windows chose their weights or model
    # (a float in the JSON: the column also holds None for the other models).
    chosen_on_windows: float | None

    def to_dict(self) -> dict[str, Any]:
        return _flat_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ForecastRow:
        return cls(**{**data, "cutoff": date.fromisoformat(data["cutoff"])})


@dataclass(frozen=True)
class ElectionTermsGain:
    """Mean log-loss gain on election windows from the GLM's election terms, with a paired 95% interval."""

    gain: float
    interval: tuple[float, float]
    verdict: str


@dataclass(frozen=True)
class ElectionEffectRow:
    """What one horizon of the backtest says about elections (see `summary.election_effect_evidence`)."""

    horizon: int
    elections_observed: float
    elections_expected_by_trailing_year: float
    elections_observed_over_expected: float | None
    control_observed: float
    control_expected_by_trailing_year: float
    control_observed_over_expected: float | None
    election_over_control_rate_ratio: float | None
    rate_ratio_interval: tuple[float, float] | None
    # None when fewer than two election windows have both GLMs' forecasts.
    election_terms: ElectionTermsGain | None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "horizon": self.horizon,
            "elections_observed": self.elections_observed,
            "elections_expected_by_trailing_year": self.elections_expected_by_trailing_year,
            "elections_observed_over_expected": self.elections_observed_over_expected,
            "control_observed": self.control_observed,
            "control_expected_by_trailing_year": self.control_expected_by_trailing_year,
            "control_observed_over_expected": self.control_observed_over_expected,
            "election_over_control_rate_ratio": self.election_over_control_rate_ratio,
            "rate_ratio_interval": None if self.rate_ratio_interval is None else list(self.rate_ratio_interval),
        }
        if self.election_terms is not None:
            data["log_loss_gain_from_election_terms"] = self.election_terms.gain
            data["log_loss_gain_interval"] = list(self.election_terms.interval)
            data["verdict"] = self.election_terms.verdict
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ElectionEffectRow:
        terms = None
        if "verdict" in data:
            low, high = data["log_loss_gain_interval"]
            terms = ElectionTermsGain(data["log_loss_gain_from_election_terms"], (low, high), data["verdict"])
        interval = data["rate_ratio_interval"]
        return cls(
            horizon=data["horizon"],
            elections_observed=data["elections_observed"],
            elections_expected_by_trailing_year=data["elections_expected_by_trailing_year"],
            elections_observed_over_expected=data["elections_observed_over_expected"],
            control_observed=data["control_observed"],
            control_expected_by_trailing_year=data["control_expected_by_trailing_year"],
            control_observed_over_expected=data["control_observed_over_expected"],
            election_over_control_rate_ratio=data["election_over_control_rate_ratio"],
            rate_ratio_interval=None if interval is None else (interval[0], interval[1]),
            election_terms=terms,
        )


# model -> horizon -> the reliability table of its probabilities of at least one event
Reliability = dict[str, dict[int, tuple[ReliabilityBin, ...]]]


@dataclass(frozen=True)
class BacktestReport:
    config: BacktestConfig
    data_end: date | None
    runtime_seconds: float | None
    windows: tuple[BacktestWindow, ...]
    summary: tuple[SummaryRow, ...]
    best_model_by_horizon: dict[int, str]
    election_effect: tuple[ElectionEffectRow, ...]
    reliability: Reliability
    forecasts: tuple[ForecastRow, ...]
    failures: tuple[BacktestFailure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": config_to_dict(self.config),
            "data_end": None if self.data_end is None else self.data_end.isoformat(),
            "runtime_seconds": self.runtime_seconds,
            "windows": [_flat_dict(w) for w in self.windows],
            "summary": [row.to_dict() for row in self.summary],
            "best_model_by_horizon": dict(self.best_model_by_horizon),
            "election_effect": [row.to_dict() for row in self.election_effect],
            "reliability": {
                model: {horizon: [_flat_dict(b) for b in table] for horizon, table in by_horizon.items()}
                for model, by_horizon in self.reliability.items()
            },
            "forecasts": [row.to_dict() for row in self.forecasts],
            "failures": [_flat_dict(f) for f in self.failures],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestReport:
        """Read what `to_dict` wrote, after a JSON round trip (horizon keys come back as strings)."""
        data_end = data["data_end"]
        return cls(
            config=config_from_dict(data["config"]),
            data_end=None if data_end is None else date.fromisoformat(data_end),
            runtime_seconds=data["runtime_seconds"],
            windows=tuple(_window_from_dict(w) for w in data["windows"]),
            summary=tuple(SummaryRow.from_dict(row) for row in data["summary"]),
            best_model_by_horizon={int(h): m for h, m in data["best_model_by_horizon"].items()},
            election_effect=tuple(ElectionEffectRow.from_dict(row) for row in data["election_effect"]),
            reliability={
                model: {int(h): tuple(ReliabilityBin(**b) for b in table) for h, table in by_horizon.items()}
                for model, by_horizon in data["reliability"].items()
            },
            forecasts=tuple(ForecastRow.from_dict(row) for row in data["forecasts"]),
            failures=tuple(
                BacktestFailure(**{**f, "cutoff": date.fromisoformat(f["cutoff"])}) for f in data["failures"]
            ),
        )


def config_to_dict(config: BacktestConfig) -> dict[str, Any]:
    """The settings a backtest ran with (not its worker count, which changes no number)."""
    return {
        "models": list(config.models),
        "horizons": list(config.horizons),
        "window": config.window.to_dict(),
        "event_types": list(config.event_types),
        "since": config.since.isoformat(),
        "samples": config.samples,
    }


def config_from_dict(data: dict[str, Any]) -> BacktestConfig:
    return BacktestConfig(
        models=tuple(data["models"]),
        horizons=tuple(data["horizons"]),
        window=WindowSpec(**data["window"]),
        event_types=tuple(data["event_types"]),
        since=date.fromisoformat(data["since"]),
        samples=data["samples"],
    )


def _window_from_dict(data: dict[str, Any]) -> BacktestWindow:
    election_date = data["election_date"]
    return BacktestWindow(
        id=data["id"],
        group=data["group"],
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
        election_id=data["election_id"],
        election_date=None if election_date is None else date.fromisoformat(election_date),
    )


def _flat_dict(row: Any) -> dict[str, Any]:
    """A flat dataclass as JSON data, in field order: dates as ISO text, tuples as lists."""
    return {f.name: _json_value(getattr(row, f.name)) for f in fields(row)}


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
