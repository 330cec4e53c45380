"""PNG charts (matplotlib, no display): reliability diagrams, backtests per election, forecast windows.

Figures are built with matplotlib's object API (`Figure`, never pyplot's
global state) and rendered under one lock, so the service can draw them in
worker threads off its event loop. `window_chart_png` is the forecast chart
both `provocast forecast --plot` and `GET /v1/elections/{id}/forecast.png` draw.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.figure import Figure

from forecasting.evaluation.backtest import CONTROL_GROUP
from forecasting.evaluation.report import BacktestReport
from forecasting.features.series import daily_counts
from forecasting.models.base import ForecastRequestError
from forecasting.serving import plain_words

if TYPE_CHECKING:
    from forecasting.serving.forecaster import Forecaster, ServedForecast

# No display: importing these modules picks no backend, so this still comes first.
matplotlib.use("Agg")

# matplotlib is not guaranteed thread-safe (font cache, text layout): one figure is drawn at a time.
RENDER_LOCK = threading.Lock()
# Days drawn either side of the forecast window, when the model can forecast them.
CONTEXT_DAYS = 14
RECENT_HISTORY_DAYS = 730
P = ParamSpec("P")

GROUP_LABELS = {
    "kr_legislative": "South Korea, legislative",
    "kr_presidential": "South Korea, presidential",
    "us_presidential": "US, presidential",
    "us_midterm": "US, midterm",
    CONTROL_GROUP: "ordinary windows",
}


def _serialised(draw: Callable[P, bytes]) -> Callable[P, bytes]:
    """Build and render the figure under RENDER_LOCK."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> bytes:
        with RENDER_LOCK:
            return draw(*args, **kwargs)

    return wrapper


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


@_serialised
def reliability_png(report: BacktestReport, horizon: int, models: list[str] | None = None) -> bytes:
    """Forecast probability against observed frequency, per model, from a backtest report."""
    reliability = report.reliability
    if not models:
        wanted = ("climatology", "trailing_year", report.best_model_by_horizon.get(horizon), "ensemble")
        models = [m for m in dict.fromkeys(wanted) if m in reliability]
    figure = Figure(figsize=(6.4, 5.6))
    axis = figure.subplots()
    axis.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfectly calibrated")
    for model in models:
        rows = reliability.get(model, {}).get(horizon, ())
        points = [(r.mean_probability, r.observed_frequency, r.forecasts) for r in rows if r.forecasts]
        if not points:
            continue
        x, y, n = (np.array(v, dtype=float) for v in zip(*points, strict=True))
        axis.plot(x, y, marker="o", linewidth=1.2, label=model)
        axis.scatter(x, y, s=12 + 6 * n, alpha=0.25)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("forecast probability of at least one weapons test in the window")
    axis.set_ylabel("share of windows that had one")
    axis.set_title(f"Reliability of backtest forecasts ({horizon} days ahead)\nmarker area: number of windows")
    axis.legend(loc="upper left", fontsize=8)
    axis.grid(alpha=0.3)
    figure.text(
        0.01,
        -0.02,
        "Points on the dashed line: when the model said p%, a test happened in p% of windows.\n"
        "Above the line: tests happened more often than forecast (under-confident).",
        fontsize=7.5,
        color="0.3",
    )
    return _png(figure)


@_serialised
def backtest_elections_png(report: BacktestReport, horizon: int, model: str) -> bytes:
    """Per election window: the model's and climatology's probability, and whether a test happened."""
    rows = [asdict(r) for r in report.forecasts if r.horizon == horizon and r.group != CONTROL_GROUP]
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise ValueError("the backtest has no election windows at this horizon")
    windows = {w.id: w for w in report.windows}
    chosen = frame[frame["model"] == model].copy()
    reference = frame[frame["model"] == "climatology"].set_index("window_id")["probability_any"]
    chosen["election_date"] = chosen["window_id"].map(lambda i: windows[i].election_date)
    chosen = chosen.sort_values("election_date")
    figure = Figure(figsize=(11, 4.8))
    axis = figure.subplots()
    x = np.arange(len(chosen))
    axis.bar(x - 0.2, chosen["probability_any"], width=0.4, label=f"{model}: P(at least one test)")
    axis.bar(x + 0.2, chosen["window_id"].map(reference), width=0.4, color="0.75", label="climatology")
    happened = chosen["observed_any"].astype(bool).to_numpy()
    axis.scatter(x[happened], np.full(happened.sum(), 1.03), marker="v", color="crimson", label="a test happened")
    axis.set_xticks(
        x,
        [
            f"{windows[i].election_date:%Y} {GROUP_LABELS.get(g, g)}"
            for i, g in zip(chosen["window_id"], chosen["group"], strict=True)
        ],
        rotation=70,
        ha="right",
        fontsize=7,
    )
    axis.set_ylim(0, 1.08)
    axis.set_ylabel("probability")
    axis.set_title(f"Backtest: forecasts {horizon} days before each election window opened")
    axis.legend(fontsize=8, loc="upper left")
    axis.grid(axis="y", alpha=0.3)
    return _png(figure)


def window_chart_png(
    forecaster: Forecaster,
    forecast: ServedForecast,
    events: pd.DataFrame,
    election_day: date | None = None,
    title: str | None = None,
) -> bytes:
    """The forecast chart of a window: what `provocast forecast --plot` writes and the API serves.

    Draws the window and up to CONTEXT_DAYS either side (where the version
    can forecast them), the 80% band of each day's expected count across the
    simulated paths, and beneath it the weekly counts of the two years up to
    the data cutoff (from `events`, the store's history).
    """
    start = max(forecast.start - timedelta(days=CONTEXT_DAYS), forecast.data_cutoff + timedelta(days=1))
    end = min(forecast.end + timedelta(days=CONTEXT_DAYS), forecaster.last_forecast_day)
    try:
        context = forecaster.forecast(start, end, list(forecast.event_types), forecast.model)
        band = forecaster.daily_band(start, end, list(forecast.event_types), forecast.model)
    except ForecastRequestError:  # a window near the 366-day limit: draw the window alone
        context = forecast
        band = forecaster.daily_band(forecast.start, forecast.end, list(forecast.event_types), forecast.model)
    cutoff = forecast.data_cutoff
    recent = daily_counts(
        events[events["date"] <= pd.Timestamp(cutoff)],
        forecast.event_types,
        cutoff - timedelta(days=RECENT_HISTORY_DAYS),
        cutoff,
    )
    return forecast_png(forecast, election_day, recent, title=title, context=context, band=band)


@_serialised
def forecast_png(
    forecast: ServedForecast,
    election_day: date | None,
    recent_events: pd.Series | None = None,
    title: str | None = None,
    context: ServedForecast | None = None,
    band: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
) -> bytes:
    """Daily expected count with its 80% band; the window shaded, election day marked; recent events beneath.

    `forecast` is the window's ServedForecast; `context` the same model's
    forecast over the days drawn (the window and some days either side) and
    `band` its daily 80% band; `recent_events` a daily count series up to the cutoff.
    """
    drawn = context or forecast
    days = pd.to_datetime([d.day for d in drawn.daily])
    expected = np.array([d.expected_count for d in drawn.daily])
    rows = 2 if recent_events is not None else 1
    figure = Figure(figsize=(9, 6 if rows == 2 else 3.8))
    axes = figure.subplots(rows, 1, squeeze=False, gridspec_kw={"height_ratios": [3, 2][:rows]})
    top = axes[0][0]
    top.axvspan(
        pd.Timestamp(forecast.start),
        pd.Timestamp(forecast.end) + pd.Timedelta(hours=23),
        color="0.92",
        label=f"forecast window ({(forecast.end - forecast.start).days + 1} days)",
    )
    if band is not None:
        top.fill_between(
            days, band[0], band[1], alpha=0.3, color="tab:blue", linewidth=0, label="80% of simulated paths"
        )
    top.plot(days, expected, linewidth=1.8, color="tab:blue", label="expected weapons tests per day")
    if election_day is not None:
        top.axvline(
            pd.Timestamp(election_day),
            color="crimson",
            linestyle="--",
            linewidth=1.3,
            label=f"election day ({election_day})",
        )
    low, high = forecast.intervals[0].lower, forecast.intervals[0].upper
    top.set_title(
        title
        or (
            f"{forecast.start} to {forecast.end}: {plain_words.percent(forecast.probability_any)} chance "
            f"({plain_words.chance(forecast.probability_any)}) of at least one weapons test;\n"
            f"{forecast.expected_count:.1f} test days expected (80%: {low}-{high}); "
            f"climatology: {plain_words.percent(forecast.baseline_probability_any)}. Model {forecast.model}, data to {forecast.data_cutoff}"
        ),
        fontsize=9,
    )
    top.set_ylim(bottom=0)
    top.set_ylabel("tests per day", fontsize=8)
    top.legend(fontsize=7.5, loc="upper left")
    # matplotlib's stubs leave these constructors unannotated.
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    top.xaxis.set_major_locator(locator)
    top.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    top.grid(alpha=0.3)
    if recent_events is not None:
        bottom = axes[1][0]
        weekly = recent_events.resample("W").sum()
        bottom.bar(weekly.index, weekly.to_numpy(), width=6, color="0.35")
        bottom.set_title(
            f"What happened before: weapons-test days per week, the two years to the data cutoff ({forecast.data_cutoff})",
            fontsize=9,
        )
        bottom.set_ylabel("test days", fontsize=8)
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))  # type: ignore[no-untyped-call]
        bottom.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def write_png(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
