"""PNG charts (matplotlib, no display): reliability diagrams, backtests per election, forecast windows."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forecasting.backtest import CONTROL_GROUP  # noqa: E402

GROUP_LABELS = {
    "kr_legislative": "South Korea, legislative",
    "kr_presidential": "South Korea, presidential",
    "us_presidential": "US, presidential",
    "us_midterm": "US, midterm",
    CONTROL_GROUP: "ordinary windows",
}


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def reliability_png(report: dict[str, Any], horizon: int, models: list[str] | None = None) -> bytes:
    """Forecast probability against observed frequency, per model, from a backtest report."""
    reliability = report["reliability"]
    models = models or [m for m in reliability if m in ("climatology", "trailing_year", report.get("default_model", ""), "ensemble", "hawkes")]
    figure, axis = plt.subplots(figsize=(6.4, 5.6))
    axis.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfectly calibrated")
    for model in models:
        rows = reliability.get(model, {}).get(str(horizon)) or reliability.get(model, {}).get(horizon) or []
        points = [(r["mean_probability"], r["observed_frequency"], r["forecasts"]) for r in rows if r["forecasts"]]
        if not points:
            continue
        x, y, n = (np.array(v, dtype=float) for v in zip(*points))
        axis.plot(x, y, marker="o", linewidth=1.2, label=model)
        axis.scatter(x, y, s=12 + 6 * n, alpha=0.25)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("forecast probability of at least one weapons test in the window")
    axis.set_ylabel("share of windows that had one")
    axis.set_title(f"Reliability of backtest forecasts ({horizon} days ahead)\nmarker area: number of windows")
    axis.legend(loc="upper left", fontsize=8)
    axis.grid(alpha=0.3)
    return _png(figure)


def backtest_elections_png(report: dict[str, Any], horizon: int, model: str) -> bytes:
    """Per election window: the model's and climatology's probability, and whether a test happened."""
    rows = [r for r in report["forecasts"] if r["horizon"] == horizon and r["group"] != CONTROL_GROUP]
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise ValueError("the backtest has no election windows at this horizon")
    windows = {w["id"]: w for w in report["windows"]}
    chosen = frame[frame["model"] == model].copy()
    reference = frame[frame["model"] == "climatology"].set_index("window_id")["probability_any"]
    chosen["election_date"] = chosen["window_id"].map(lambda i: windows[i]["election_date"])
    chosen = chosen.sort_values("election_date")
    figure, axis = plt.subplots(figsize=(11, 4.8))
    x = np.arange(len(chosen))
    axis.bar(x - 0.2, chosen["probability_any"], width=0.4, label=f"{model}: P(at least one test)")
    axis.bar(x + 0.2, chosen["window_id"].map(reference), width=0.4, color="0.75", label="climatology")
    happened = chosen["observed_any"].astype(bool).to_numpy()
    axis.scatter(x[happened], np.full(happened.sum(), 1.03), marker="v", color="crimson", label="a test happened")
    axis.set_xticks(x, [f"{windows[i]['election_date'][:4]} {GROUP_LABELS.get(g, g)}" for i, g in zip(chosen["window_id"], chosen["group"])],
                    rotation=70, ha="right", fontsize=7)
    axis.set_ylim(0, 1.08)
    axis.set_ylabel("probability")
    axis.set_title(f"Backtest: forecasts {horizon} days before each election window opened")
    axis.legend(fontsize=8, loc="upper left")
    axis.grid(axis="y", alpha=0.3)
    return _png(figure)


def forecast_png(forecast, election_day: date | None, recent_events: pd.Series | None = None, title: str | None = None) -> bytes:
    """Daily intensity of a window forecast with its band; the election marked; recent events beneath.

    `forecast` is a ServedForecast; `recent_events` a daily count series before the cutoff.
    """
    days = pd.to_datetime([d.day for d in forecast.daily])
    expected = np.array([d.expected_count for d in forecast.daily])
    p_any = np.array([d.probability_any for d in forecast.daily])
    rows = 2 if recent_events is not None else 1
    figure, axes = plt.subplots(rows, 1, figsize=(9, 5.5 if rows == 2 else 3.6), squeeze=False)
    top = axes[0][0]
    top.fill_between(days, 0, p_any, alpha=0.25, label="chance of a test that day")
    top.plot(days, expected, linewidth=1.6, label="expected tests per day")
    if election_day is not None:
        top.axvline(pd.Timestamp(election_day), color="crimson", linestyle="--", linewidth=1.2, label="election day")
    low, high = forecast.intervals[0].lower, forecast.intervals[0].upper
    top.set_title(title or (
        f"{forecast.start} to {forecast.end}: {forecast.probability_any:.0%} chance of at least one weapons test, "
        f"{forecast.expected_count:.1f} expected (80%: {low}-{high})"
    ), fontsize=9)
    top.set_ylim(bottom=0)
    top.legend(fontsize=8, loc="upper left")
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    top.xaxis.set_major_locator(locator)
    top.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    top.grid(alpha=0.3)
    if recent_events is not None:
        bottom = axes[1][0]
        weekly = recent_events.resample("W").sum()
        bottom.bar(weekly.index, weekly.to_numpy(), width=6, color="0.35")
        bottom.set_title(f"weapons tests per week up to the data cutoff ({forecast.data_cutoff})", fontsize=9)
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        bottom.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def write_png(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
