"""PNG charts: the forecast around an election, and the reliability diagram of the serving version's backtest.

Drawn by `forecasting.serving.charts` (the same function `provocast forecast --plot`
uses) in a worker thread, never on the event loop, and kept in memory per
loaded version (`LoadedModel.charts`), so they are dropped with the version
when a new one is swapped in. Concurrent requests for a chart that is not
drawn yet wait for one drawing.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import Counter, Histogram
from starlette.concurrency import run_in_threadpool

from service.answers import answer_election
from service.deps import Fresh, Holder, Loaded
from service.edge.response_caches import ChartQueueFull
from service.errors import ApiError
from service.model_holder import LoadedModel
from service.queries import ElectionChartQueryParam
from service.schemas import error_responses

PNG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/png": {}}, "description": "A PNG image"}}


def window_chart_png(*args: Any, **kwargs: Any) -> bytes:
    """`forecasting.serving.charts.window_chart_png`, imported when a chart is first drawn: matplotlib would cost every
    worker start-up time and memory for charts that may never be asked for."""
    from forecasting.serving.charts import window_chart_png as draw

    return draw(*args, **kwargs)


def reliability_png(*args: Any, **kwargs: Any) -> bytes:
    """`forecasting.serving.charts.reliability_png`, imported on first use (see window_chart_png)."""
    from forecasting.serving.charts import reliability_png as draw

    return draw(*args, **kwargs)


router = APIRouter(tags=["charts"])
log = logging.getLogger("provocast.charts")

RENDER_SECONDS = Histogram(
    "provocast_chart_render_seconds",
    "Time to draw a chart (cache misses only), by chart",
    ["chart"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
CACHE_LOOKUPS = Counter(
    "provocast_chart_cache_total",
    "Chart requests by chart and cache result (hit, miss, refused: the drawing queue was full)",
    ["chart", "result"],
)


async def _chart(loaded: LoadedModel, chart: str, key: tuple[Hashable, ...], draw: Callable[[], bytes]) -> Response:
    try:
        png, drawn = await loaded.charts.get(key, lambda: run_in_threadpool(_timed, chart, key, draw))
    except ChartQueueFull as full:
        CACHE_LOOKUPS.labels(chart, "refused").inc()
        raise ApiError(
            503,
            f"{full}; charts of the default window are kept drawn",
            code="busy",
            headers={"Retry-After": str(full.retry_after)},
        ) from None
    CACHE_LOOKUPS.labels(chart, "miss" if drawn else "hit").inc()
    return Response(
        png, media_type="image/png", headers={"Cache-Control": "public, max-age=300", "X-Model-Version": loaded.id}
    )


def _timed(chart: str, key: tuple[Hashable, ...], draw: Callable[[], bytes]) -> bytes:
    """Draw in this worker thread, timed; the log line carries the request's id (contextvars follow the call)."""
    started = time.perf_counter()
    png = draw()
    seconds = time.perf_counter() - started
    RENDER_SECONDS.labels(chart).observe(seconds)
    subject = f" {key[1]}" if len(key) > 1 else ""
    log.info("drew %s chart%s in %.2f s (%d bytes)", chart, subject, seconds, len(png))
    return png


@router.get(
    "/v1/elections/{election_id}/forecast.png",
    name="election_forecast",
    summary="Chart of the forecast around an election (PNG)",
    description=(
        "The daily expected number of weapons tests with the 80% band of the simulated paths, the window shaded and "
        "election day marked, and the weekly counts of the two years to the data cutoff beneath. "
        "Drawn once per model version and named window, then served from memory; while too many charts wait to be "
        "drawn the answer is 503 with Retry-After."
    ),
    response_class=Response,
    responses={**PNG, **error_responses(404, 422, 503)},
)
async def election_forecast_png(
    loaded: Loaded, holder: Holder, query: ElectionChartQueryParam, fresh: Fresh
) -> Response:
    answer_election(loaded, query, fresh)  # the JSON route's checks and errors
    election, spec = query.election, query.spec

    def draw() -> bytes:
        forecast = loaded.forecaster.answer(query.window_query)
        return window_chart_png(loaded.forecaster, forecast, holder.chart_events(loaded), election.date)

    key = ("forecast.png", election.id, election.date, spec.days_before, spec.days_after)  # a preset's days
    return await _chart(loaded, "forecast", key, draw)


@router.get(
    "/v1/backtests/reliability.png",
    summary="Reliability diagram of the serving version's backtest (PNG)",
    description="Forecast probability against how often a test happened, per model, on the backtest's windows.",
    response_class=Response,
    responses={**PNG, **error_responses(404, 503)},
)
async def reliability(loaded: Loaded) -> Response:
    report = loaded.forecaster.model_set.backtest
    if report is None or not report.reliability or not report.config.horizons:
        raise ApiError(404, f"model version {loaded.id} carries no backtest reliability table")
    horizons = report.config.horizons
    wanted = dict.fromkeys(("climatology", "trailing_year", loaded.version.default_model, "ensemble"))
    models = [name for name in wanted if name in report.reliability]
    draw = functools.partial(reliability_png, report, horizons[0], models)
    return await _chart(loaded, "reliability", ("reliability.png",), draw)
