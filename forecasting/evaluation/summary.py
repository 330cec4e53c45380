"""Summaries of a backtest: scores per model and window group, skill against both baselines,
reliability, the election-effect evidence, gathered into the report `provocast backtest` writes."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.vocabulary import ModelName
from forecasting.evaluation.backtest import BEST_SO_FAR, CONTROL_GROUP, ELECTION_GROUPS, BacktestResult
from forecasting.evaluation.report import (
    ALL_ELECTIONS,
    BacktestReport,
    ElectionEffectRow,
    ElectionTermsGain,
    ForecastRow,
    Reliability,
    SummaryRow,
)
from forecasting.evaluation.scoring import reliability_table, skill_score
from forecasting.models.catalogue import BASELINE, PERSISTENCE

REPORT_GROUPS = (*ELECTION_GROUPS, ALL_ELECTIONS, CONTROL_GROUP)
# The election effect compares the full GLM with the one that exists only as its control.
WITH_ELECTION = ModelName.NEGBIN_GLM
NO_ELECTION_CONTROL = ModelName.NEGBIN_GLM_NO_ELECTION


def _select(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    if group == ALL_ELECTIONS:
        return frame[frame["group"] != CONTROL_GROUP]
    return frame[frame["group"] == group]


def summary_table(result: BacktestResult) -> pd.DataFrame:
    """One row per horizon, window group and model: mean scores, skill scores, coverage."""
    frame = result.frame()
    rows = []
    for (horizon, model), by_model in frame.groupby(["horizon", "model"], sort=False):
        for group in REPORT_GROUPS:
            chosen = _select(by_model, group)
            if chosen.empty:
                continue
            reference = _select(frame[(frame["horizon"] == horizon) & (frame["model"] == BASELINE)], group)
            persistence = _select(frame[(frame["horizon"] == horizon) & (frame["model"] == PERSISTENCE)], group)
            rows.append(
                {
                    "horizon": int(horizon),
                    "group": group,
                    "model": model,
                    "windows": len(chosen),
                    "with_event": int(chosen["observed_any"].sum()),
                    "mean_probability": float(chosen["probability_any"].mean()),
                    "brier": float(chosen["brier"].mean()),
                    "log_loss": float(chosen["log_loss"].mean()),
                    "brier_skill_vs_climatology": skill_score(chosen["brier"].mean(), reference["brier"].mean()),
                    "brier_skill_vs_trailing_year": (
                        skill_score(chosen["brier"].mean(), persistence["brier"].mean())
                        if not persistence.empty
                        else None
                    ),
                    "rps": float(chosen["rps"].mean()),
                    "count_log_loss": float(chosen["count_log_loss"].mean()),
                    "coverage_80": float(chosen["in_80"].mean()),
                    "coverage_95": float(chosen["in_95"].mean()),
                    "replaced_by_climatology": int(chosen["replaced"].sum()),
                }
            )
    return pd.DataFrame(rows)


def best_model(table: pd.DataFrame, horizon: int, candidates: list[str]) -> str:
    """The candidate with the lowest mean log loss on the election windows at this horizon."""
    chosen = table[(table["horizon"] == horizon) & (table["group"] == ALL_ELECTIONS) & table["model"].isin(candidates)]
    if chosen.empty:
        return BASELINE
    return str(chosen.sort_values(["log_loss", "model"]).iloc[0]["model"])


def reliability(result: BacktestResult) -> Reliability:
    frame = result.frame()
    out: Reliability = {}
    for (model, horizon), chosen in frame.groupby(["model", "horizon"], sort=False):
        table = reliability_table(chosen["probability_any"].to_numpy(), chosen["observed_any"].to_numpy())
        out.setdefault(model, {})[int(horizon)] = tuple(table)
    return out


def election_effect_evidence(result: BacktestResult) -> list[ElectionEffectRow]:
    """What the backtest says about elections, per horizon.

    1. Observed over expected: events in election windows against the count
       the trailing-year model expected for them (out of sample), beside the
       same ratio for the control windows.
    2. Does knowing the election calendar help? Mean log-loss difference on
       election windows between the GLM without and with election terms
       (positive: the election terms help), with a paired 95% interval.
    """
    frame = result.frame()
    out = []
    for horizon, at_horizon in frame.groupby("horizon"):
        persistence = at_horizon[at_horizon["model"] == PERSISTENCE]
        elections = _observed_and_expected(_select(persistence, ALL_ELECTIONS))
        control = _observed_and_expected(_select(persistence, CONTROL_GROUP))
        ratio, ratio_interval = _relative_rate(elections, control)
        out.append(
            ElectionEffectRow(
                horizon=int(horizon),
                elections_observed=elections[0],
                elections_expected_by_trailing_year=elections[1],
                elections_observed_over_expected=_over(elections),
                control_observed=control[0],
                control_expected_by_trailing_year=control[1],
                control_observed_over_expected=_over(control),
                election_over_control_rate_ratio=ratio,
                rate_ratio_interval=ratio_interval,
                election_terms=_election_terms_gain(at_horizon),
            )
        )
    return out


def _observed_and_expected(chosen: pd.DataFrame) -> tuple[float, float]:
    return float(chosen["observed_count"].sum()), float(chosen["expected_count"].sum())


def _over(observed_and_expected: tuple[float, float]) -> float | None:
    observed, expected = observed_and_expected
    return observed / expected if expected > 0 else None


def _election_terms_gain(at_horizon: pd.DataFrame) -> ElectionTermsGain | None:
    with_terms = _select(at_horizon[at_horizon["model"] == WITH_ELECTION], ALL_ELECTIONS).set_index("window_id")
    without = _select(at_horizon[at_horizon["model"] == NO_ELECTION_CONTROL], ALL_ELECTIONS).set_index("window_id")
    common = with_terms.index.intersection(without.index)
    if len(common) <= 1:
        return None
    difference = (without.loc[common, "log_loss"] - with_terms.loc[common, "log_loss"]).to_numpy()
    half_width = 1.96 * difference.std(ddof=1) / np.sqrt(len(difference))
    return ElectionTermsGain(
        gain=float(difference.mean()),
        interval=(float(difference.mean() - half_width), float(difference.mean() + half_width)),
        verdict=_verdict(difference.mean(), half_width),
    )


def _relative_rate(
    elections: tuple[float, float], control: tuple[float, float]
) -> tuple[float | None, tuple[float, float] | None]:
    """Election windows' observed/expected over the control windows', with a Poisson 95% interval.

    The interval treats events as independent, which they are not (they come in
    campaigns), so it is too narrow; read it as a lower bound on the uncertainty.
    """
    (observed_e, expected_e), (observed_c, expected_c) = elections, control
    if min(observed_e, observed_c, expected_e, expected_c) <= 0:
        return None, None
    ratio = (observed_e / expected_e) / (observed_c / expected_c)
    spread = 1.96 * np.sqrt(1 / observed_e + 1 / observed_c)
    return float(ratio), (float(ratio * np.exp(-spread)), float(ratio * np.exp(spread)))


def _verdict(gain: float, half_width: float) -> str:
    if gain - half_width > 0:
        return "election terms improve out-of-sample forecasts of election windows"
    if gain + half_width < 0:
        return "election terms make out-of-sample forecasts of election windows worse"
    return "no detectable election effect: adding election terms neither helps nor hurts beyond noise"


def backtest_report(result: BacktestResult, runtime_seconds: float | None = None) -> BacktestReport:
    table = summary_table(result)
    candidates = [str(m) for m in table["model"].unique() if m != BEST_SO_FAR]
    return BacktestReport(
        config=result.config,
        data_end=result.data_end,
        runtime_seconds=runtime_seconds,
        windows=tuple(result.windows),
        summary=tuple(SummaryRow(**row) for row in _records(table)),
        best_model_by_horizon={int(h): best_model(table, int(h), candidates) for h in result.config.horizons},
        election_effect=tuple(election_effect_evidence(result)),
        reliability=reliability(result),
        forecasts=tuple(
            ForecastRow(**{**row, "cutoff": date.fromisoformat(row["cutoff"])})
            for row in _records(result.frame().drop(columns=["in_80", "in_95"]))
        ),
        failures=tuple(result.failures),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    """A DataFrame cell as JSON data: ISO dates, Python numbers rounded to 6 places, None for NaN."""
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()[:10]
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else round(float(value), 6)
    return value


def format_table(table: pd.DataFrame, horizon: int) -> str:
    """The plain-text table `provocast backtest` prints for one horizon."""
    chosen = table[table["horizon"] == horizon]
    lines = [f"horizon {horizon} days (forecast made {horizon} days before the window opens)"]
    header = f"{'group':<16}{'model':<24}{'n':>4}{'hit':>5}{'p̄':>7}{'Brier':>8}{'BSS clim':>10}{'BSS ty':>9}{'logloss':>9}{'RPS':>8}{'cov80':>7}{'cov95':>7}{'repl':>6}"
    lines.append(header)
    for group in REPORT_GROUPS:
        for row in chosen[chosen["group"] == group].itertuples():
            lines.append(
                f"{group:<16}{row.model:<24}{row.windows:>4}{row.with_event:>5}{row.mean_probability:>7.2f}{row.brier:>8.3f}"
                f"{_fmt(row.brier_skill_vs_climatology):>10}{_fmt(row.brier_skill_vs_trailing_year):>9}"
                f"{row.log_loss:>9.3f}{row.rps:>8.2f}{row.coverage_80:>7.2f}{row.coverage_95:>7.2f}{row.replaced_by_climatology:>6}"
            )
        lines.append("")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:+.2f}"
