"""In-process measurements: fitting each model, loading a version, and answering custom windows."""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta
from typing import Any

from forecasting.domain.history import History
from forecasting.domain.vocabulary import EVENT_GROUPS, WEAPONS_GROUP
from forecasting.models.base import ModelFitError
from forecasting.models.catalogue import COMPONENT_MODELS, build_model
from forecasting.store.registry import ModelVersion, load_model_set


def fit_times(history: History, cutoff: date, group: str = WEAPONS_GROUP) -> dict[str, Any]:
    """Seconds to fit each component model once for one event group at the cutoff (as a retrain does)."""
    known = history.known_at(cutoff)
    seconds: dict[str, float | None] = {}
    refused: dict[str, str] = {}
    for name in COMPONENT_MODELS:
        started = time.perf_counter()
        try:
            build_model(name, EVENT_GROUPS[group]).fit(known, cutoff)
            seconds[name] = time.perf_counter() - started
        except ModelFitError as error:
            seconds[name] = None
            refused[name] = error.reason
    return {"group": group, "seconds": seconds, "refused": refused}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def forecast_times(version: ModelVersion, calls: int = 2000, seed: int = 7) -> dict[str, Any]:
    """Load and warm a version in-process, then time `Forecaster.forecast` on random custom windows.

    Also times the same call plus building the HTTP response body (what a
    request that misses the response memo costs the service).
    """
    from forecasting.serving.forecaster import Forecaster
    from forecasting.serving.payload import Freshness
    from service.schemas import Forecast

    started = time.perf_counter()
    model_set = load_model_set(version)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    forecaster = Forecaster(model_set, version=version.id)  # reads the stored answers
    warm_seconds = time.perf_counter() - started

    rng = random.Random(seed)
    latest_start = forecaster.horizon_days - 400
    windows = []
    for _ in range(calls):
        start = forecaster.cutoff + timedelta(days=rng.randint(1, latest_start))
        windows.append((start, start + timedelta(days=rng.randint(6, 120))))
    engine_ms, body_ms = [], []
    for start, end in windows:
        began = time.perf_counter()
        served = forecaster.forecast(start, end)
        middle = time.perf_counter()
        Forecast.from_served(served, Freshness(date.today(), 14)).model_dump_json()
        finished = time.perf_counter()
        engine_ms.append((middle - began) * 1000)
        body_ms.append((finished - began) * 1000)
    return {
        "calls": calls,
        "load_seconds": load_seconds,
        "warm_seconds": warm_seconds,
        "forecast_ms": {"median": statistics.median(engine_ms), "p99": percentile(engine_ms, 0.99)},
        "forecast_and_body_ms": {"median": statistics.median(body_ms), "p99": percentile(body_ms, 0.99)},
        "window_days": "7 to 121, starting 1 to " + str(latest_start) + " days after the cutoff",
    }
