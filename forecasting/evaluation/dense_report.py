"""The dense backtest's report: its rows (what the rule and calibration are fitted from) and its summaries,
as plain JSON data (`to_dict`/`from_dict`), carried by every model set."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np

from forecasting.domain.history import History
from forecasting.evaluation.dense import DenseConfig, DenseRows, run_dense
from forecasting.evaluation.dense_rule import as_you_go
from forecasting.evaluation.dense_summary import (
    CalibrationCheck,
    DenseSkill,
    ElectionTermsCheck,
    calibration_checks,
    election_terms_check,
    skill_table,
)
from forecasting.evaluation.scoring import ReliabilityBin
from forecasting.models.window.features import Windows, day_number

HEADLINE_HORIZON = 30


@dataclass(frozen=True)
class DenseReport:
    since: date
    scored_since: date
    step_days: int
    runtime_seconds: float
    rows: DenseRows
    skill: tuple[DenseSkill, ...]
    calibration: tuple[CalibrationCheck, ...]
    election_terms: ElectionTermsCheck | None
    choices: dict[date, str]  # the default rule's model from each refit date on
    failures: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        rows = self.rows
        return {
            "since": self.since.isoformat(),
            "scored_since": self.scored_since.isoformat(),
            "step_days": self.step_days,
            "runtime_seconds": round(self.runtime_seconds, 3),
            "rows": {
                "origin": rows.windows.origin.tolist(),
                "start": rows.windows.start.tolist(),
                "end": rows.windows.end.tolist(),
                "label": list(rows.label),
                "election_id": list(rows.election_id),
                "observed": rows.observed.tolist(),
                "refit": rows.refit.tolist(),
                "probability": {n: np.round(v, 6).tolist() for n, v in rows.probability.items()},
                "expected": {n: np.round(v, 6).tolist() for n, v in rows.expected.items()},
                "dispersion": {n: np.round(v, 6).tolist() for n, v in rows.dispersion.items()},
            },
            "skill": [_plain(s) for s in self.skill],
            "calibration": [
                {
                    **{f.name: getattr(c, f.name) for f in fields(c) if not f.name.endswith("reliability")},
                    "raw_reliability": [_plain(b) for b in c.raw_reliability],
                    "calibrated_reliability": [_plain(b) for b in c.calibrated_reliability],
                }
                for c in self.calibration
            ],
            "election_terms": None if self.election_terms is None else _plain(self.election_terms),
            "choices": {d.isoformat(): m for d, m in self.choices.items()},
            "failures": list(self.failures),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenseReport:
        r = data["rows"]
        rows = DenseRows(
            Windows(np.asarray(r["origin"]), np.asarray(r["start"]), np.asarray(r["end"])),
            list(r["label"]),
            list(r["election_id"]),
            np.asarray(r["observed"], dtype=np.int64),
            np.asarray(r["refit"], dtype=np.int64),
            {n: np.asarray(v, dtype=float) for n, v in r["probability"].items()},
            {n: np.asarray(v, dtype=float) for n, v in r["expected"].items()},
            {n: np.asarray(v, dtype=float) for n, v in r["dispersion"].items()},
        )
        terms = data["election_terms"]
        return cls(
            since=date.fromisoformat(data["since"]),
            scored_since=date.fromisoformat(data["scored_since"]),
            step_days=int(data["step_days"]),
            runtime_seconds=float(data["runtime_seconds"]),
            rows=rows,
            skill=tuple(
                DenseSkill(
                    **{
                        **s,
                        "skill_vs_trailing_year_interval": tuple(s["skill_vs_trailing_year_interval"]),
                        "skill_vs_climatology_interval": tuple(s["skill_vs_climatology_interval"]),
                    }
                )
                for s in data["skill"]
            ),
            calibration=tuple(
                CalibrationCheck(
                    **{
                        **c,
                        "raw_reliability": tuple(ReliabilityBin(**b) for b in c["raw_reliability"]),
                        "calibrated_reliability": tuple(ReliabilityBin(**b) for b in c["calibrated_reliability"]),
                    }
                )
                for c in data["calibration"]
            ),
            election_terms=None
            if terms is None
            else ElectionTermsCheck(**{**terms, "interval": tuple(terms["interval"])}),
            choices={date.fromisoformat(d): m for d, m in data["choices"].items()},
            failures=tuple(data["failures"]),
        )

    def headline(self, subset: str, strategy: str, length: int | None = None) -> DenseSkill | None:
        for row in self.skill:
            if (row.subset, row.horizon, row.length, row.strategy) == (subset, HEADLINE_HORIZON, length, strategy):
                return row
        return None


def dense_report(history: History, config: DenseConfig, cutoff: date | None = None) -> DenseReport:
    started = time.perf_counter()
    rows = run_dense(history, config, cutoff)
    moves = as_you_go(rows)
    scored = day_number(config.scored_since)
    return DenseReport(
        since=config.since,
        scored_since=config.scored_since,
        step_days=config.step_days,
        runtime_seconds=time.perf_counter() - started,
        rows=rows,
        skill=tuple(skill_table(rows, moves, scored)),
        calibration=tuple(calibration_checks(rows, moves, scored, HEADLINE_HORIZON)),
        election_terms=election_terms_check(rows, HEADLINE_HORIZON),
        choices=dict(moves.choices),
        failures=tuple(rows.failures),
    )


def _plain(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(row):
        value = getattr(row, f.name)
        if isinstance(value, tuple):
            value = [round(v, 6) if isinstance(v, float) else v for v in value]
        elif isinstance(value, float):
            value = round(value, 6)
        out[f.name] = value
    return out


def format_dense_table(report: DenseReport) -> str:
    """The plain-text table `provocast backtest --dense` prints: Brier skill with 95% moving-block intervals."""
    lines = [
        f"dense backtest: origins every {report.step_days} days from {report.since} (scored from "
        f"{report.scored_since}); Brier skill with moving-block bootstrap 95% intervals",
        f"{'windows':<16}{'h':>4}{'len':>5}  {'strategy':<27}{'n':>5}{'hit':>5}{'Brier':>7}"
        f"{'vs trailing year':>27}{'vs climatology':>27}",
    ]
    for row in report.skill:
        ty_low, ty_high = row.skill_vs_trailing_year_interval
        cl_low, cl_high = row.skill_vs_climatology_interval
        lines.append(
            f"{row.subset:<16}{row.horizon:>4}{row.length or 'all':>5}  {row.strategy:<27}{row.windows:>5}"
            f"{row.with_event:>5}{row.brier:>7.3f}"
            f"{f'{row.skill_vs_trailing_year:+.3f} [{ty_low:+.2f}, {ty_high:+.2f}]':>27}"
            f"{f'{row.skill_vs_climatology:+.3f} [{cl_low:+.2f}, {cl_high:+.2f}]':>27}"
        )
    lines.append("")
    lines.append("calibration at 30 days (intercept, slope; 0 and 1 are calibrated): raw -> as published")
    for check in report.calibration:
        lines.append(
            f"  {check.strategy:<27}{check.raw_intercept:+.2f}, {check.raw_slope:.2f} -> "
            f"{check.calibrated_intercept:+.2f}, {check.calibrated_slope:.2f} ({check.windows} windows)"
        )
    terms = report.election_terms
    if terms is not None:
        lines.append(
            f"election indicators (direct_window vs direct_window_no_election) on {terms.windows} election windows: "
            f"log-loss gain {terms.gain:+.3f} [{terms.interval[0]:+.3f}, {terms.interval[1]:+.3f}]: {terms.verdict}"
        )
    return "\n".join(lines)
