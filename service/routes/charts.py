"""PNG charts: the forecast around an election, and the reliability diagram of the serving version's backtest.

Drawn by `forecasting.serving.charts` (the same function `provocast forecast --plot`
uses) in a worker thread, never on the event loop, and kept in memory per
loaded version: the cache lives in the version's `extras`, so it is dropped
with the version when a new one is swapped in. Concurrent requests for a
chart that is not drawn yet wait for one drawing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from prometheus_client import Counter, Histogram
from starlette.concurrency import run_in_threadpool

from forecasting.domain.history import History
from forecasting.domain.records import ElectionRecord
from forecasting.domain.vocabulary import WEAPONS_GROUP
from forecasting.store.repository import event_records, get_election
from service.answers import election_body
from service.deps import app_state, serving_model
from service.errors import ApiError
from service.model_holder import LoadedModel, ResponseMemo
from service.schemas import error_responses

CHARTS_KEY = "charts"
EVENTS_KEY = "chart_events"
CACHE_SIZE = 64
PNG = {200: {"content": {"image/png": {}}, "description": "A PNG image"}}


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
    "provocast_chart_cache_total", "Chart requests by chart and cache result (hit, miss)", ["chart", "result"]
)


class ChartCache:
    """Rendered PNGs of one loaded version, by request key; one drawing per key at a time."""

    def __init__(self, size: int = CACHE_SIZE):
        self._memo = ResponseMemo(size)
        self._drawing: dict[Any, asyncio.Lock] = {}

    async def get(self, chart: str, key: Any, draw: Callable[[], bytes]) -> bytes:
        png = self._memo.get(key)
        if png is None:
            lock = self._drawing.setdefault(key, asyncio.Lock())
            async with lock:
                png = self._memo.get(key)
                if png is None:
                    CACHE_LOOKUPS.labels(chart, "miss").inc()
                    png = self._memo.put(key, await run_in_threadpool(_timed, chart, key, draw))
                    self._drawing.pop(key, None)
                    return png
        CACHE_LOOKUPS.labels(chart, "hit").inc()
        return png


def _timed(chart: str, key: Any, draw: Callable[[], bytes]) -> bytes:
    """Draw in this worker thread, timed; the log line carries the request's id (contextvars follow the call)."""
    started = time.perf_counter()
    png = draw()
    seconds = time.perf_counter() - started
    RENDER_SECONDS.labels(chart).observe(seconds)
    subject = f" {key[1]}" if len(key) > 1 else ""
    log.info("drew %s chart%s in %.2f s (%d bytes)", chart, subject, seconds, len(png))
    return png


def chart_cache(loaded: LoadedModel) -> ChartCache:
    return loaded.extras.setdefault(CHARTS_KEY, ChartCache())


def _png(data: bytes, loaded: LoadedModel) -> Response:
    return Response(
        data, media_type="image/png", headers={"Cache-Control": "public, max-age=300", "X-Model-Version": loaded.id}
    )


@router.get(
    "/v1/elections/{election_id}/forecast.png",
    summary="Chart of the forecast around an election (PNG)",
    description=(
        "The daily expected number of weapons tests with the 80% band of the simulated paths, the window shaded and "
        "election day marked, and the weekly counts of the two years to the data cutoff beneath. "
        "Drawn once per model version and window, then served from memory."
    ),
    response_class=Response,
    responses={**PNG, **error_responses(404, 422, 503)},
)
async def election_forecast_png(
    request: Request,
    election_id: Annotated[str, Path(max_length=100, description="Election id, e.g. kr-legislative-2028-04-12.")],
    loaded: Annotated[LoadedModel, Depends(serving_model)],
    days_before: Annotated[int, Query(ge=0, le=366)] = 30,
    days_after: Annotated[int, Query(ge=0, le=366)] = 30,
) -> Response:
    election = await _election(request, election_id)
    election_body(loaded, election, days_before, days_after, None, None)  # the JSON route's checks and errors
    state = app_state(request)

    def draw() -> bytes:
        start, end = election.date - timedelta(days=days_before), election.date + timedelta(days=days_after)
        forecast = loaded.forecaster.forecast(start, end, [WEAPONS_GROUP])
        return window_chart_png(loaded.forecaster, forecast, _events(loaded, state.factory), election.date)

    key = ("forecast.png", election.id, election.date, days_before, days_after)
    return _png(await chart_cache(loaded).get("forecast", key, draw), loaded)


@router.get(
    "/v1/backtests/reliability.png",
    summary="Reliability diagram of the serving version's backtest (PNG)",
    description="Forecast probability against how often a test happened, per model, on the backtest's windows.",
    response_class=Response,
    responses={**PNG, **error_responses(404, 503)},
)
async def reliability(loaded: Annotated[LoadedModel, Depends(serving_model)]) -> Response:
    report = loaded.forecaster.model_set.backtest
    if report is None or not report.reliability or not report.config.horizons:
        raise ApiError(404, f"model version {loaded.id} carries no backtest reliability table")
    horizons = report.config.horizons
    wanted = dict.fromkeys(("climatology", "trailing_year", loaded.version.default_model, "ensemble"))
    models = [name for name in wanted if name in report.reliability]
    draw = lambda: reliability_png(report, horizons[0], models)  # noqa: E731
    return _png(await chart_cache(loaded).get("reliability", ("reliability.png",), draw), loaded)


async def _election(request: Request, election_id: str) -> ElectionRecord:
    state = app_state(request)
    record = state.holder.elections.get(election_id)
    if record is None:
        record = await run_in_threadpool(_stored_election, state.factory, election_id)
    if record is None:
        raise ApiError(404, f"no election {election_id!r}; see GET /v1/elections", field="election_id")
    return record


def _stored_election(factory, election_id: str) -> ElectionRecord | None:  # type: ignore[no-untyped-def]
    with factory() as session:
        return get_election(session, election_id)


def _events(loaded: LoadedModel, factory) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The store's events, read once per loaded version (the chart shows them up to the data cutoff only)."""
    events = loaded.extras.get(EVENTS_KEY)
    if events is None:
        with factory() as session:
            events = History.from_records(event_records(session), [], []).events
        loaded.extras[EVENTS_KEY] = events
    return events
