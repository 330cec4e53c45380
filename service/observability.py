"""Production observability: Prometheus metrics at `/metrics`, JSON log lines, a request id on each of them.

Every request gets an id (the client's `X-Request-ID` when it is a sane
token, else a new one), returned in the `X-Request-ID` response header and
put on every log line written while the request runs, including lines from
the worker threads it uses (contextvars travel with `to_thread`). One access
line per request carries the route template, status and duration.

Metrics (prometheus_client): requests and latency per route template (never
the raw path, so ids do not explode the label set), forecasts served per
model version, the active model's age, and the retrain counters of
`forecasting.lifecycle.metrics`. With several worker processes each keeps its
own numbers unless PROMETHEUS_MULTIPROC_DIR names a directory shared by all
of them (set before start-up, emptied between runs); `/metrics` then adds
them up across workers (see the README).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import forecasting.lifecycle.metrics  # noqa: F401 - registers the retrain counters with this process's registry

# No `_created` series beside every counter: they double the output for nothing (prometheus_client is unannotated).
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

access_log = logging.getLogger("provocast.access")

# Routes whose successful responses carry forecasts of the serving version.
FORECAST_ROUTES = frozenset(
    {
        "/v1/elections/{election_id}/forecast",
        "/v1/elections/{election_id}/forecast.png",
        "/v1/forecasts/upcoming",
        "/v1/forecasts",
        "/",
    }
)
UNMATCHED_ROUTE = "unmatched"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "provocast_http_requests_total", "HTTP requests by method, route template and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "provocast_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
FORECASTS_SERVED = Counter(
    "provocast_forecasts_served_total",
    "Successful responses carrying forecasts, by model version and route",
    ["version", "route"],
)


# --- logging ------------------------------------------------------------------------------------

# Attributes a log call may pass with `extra=` that go into the JSON object.
EXTRA_FIELDS = (
    "method",
    "route",
    "path",
    "status",
    "duration_ms",
    "client",
    "version",
    "job_id",
    "outcome",
    "exit_code",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and any known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        data: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a terminal: `LEVEL logger [request id] message`."""

    def format(self, record: logging.LogRecord) -> str:
        rid = request_id.get()
        text = f"{record.levelname:<8} {record.name}: {'[' + rid + '] ' if rid else ''}{record.getMessage()}"
        return text + ("\n" + self.formatException(record.exc_info) if record.exc_info else "")


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a line is written (not the one at start-up)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_uvicorn_logging(log_format: str = "json") -> None:
    """uvicorn's own lines in our format; its access lines off (the middleware writes one per request)."""
    handler = StderrHandler()
    handler.setFormatter(_formatter(log_format))
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.handlers[:] = [handler]
    uvicorn.propagate = False
    error = logging.getLogger("uvicorn.error")
    error.handlers.clear()
    error.propagate = True  # written by its parent, "uvicorn"
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


class ServiceLogging:
    """Our log lines on stderr while an app runs: one root handler from the first start-up to the last shutdown.

    Kept to the apps' lifetime (not set at import), so that importing the app,
    or running one in a test, leaves the process's logging as it found it.
    """

    _lock = threading.Lock()
    _users = 0
    _handler: logging.Handler | None = None
    _previous_level = logging.WARNING

    def __init__(self, log_format: str = "json", level: str = "INFO"):
        self.log_format = log_format
        self.level = logging.getLevelName(level.upper())

    def start(self) -> None:
        cls = type(self)
        with cls._lock:
            root = logging.getLogger()
            if cls._users == 0:
                handler = StderrHandler()
                handler.setFormatter(_formatter(self.log_format))
                root.addHandler(handler)
                cls._handler, cls._previous_level = handler, root.level
                root.setLevel(self.level)
                logging.getLogger("alembic").setLevel(logging.WARNING)  # the schema check at start-up is not news
            cls._users += 1

    def stop(self) -> None:
        cls = type(self)
        with cls._lock:
            cls._users -= 1
            if cls._users == 0 and cls._handler is not None:
                root = logging.getLogger()
                root.removeHandler(cls._handler)
                root.setLevel(cls._previous_level)
                cls._handler = None


# --- the middleware ---------------------------------------------------------------------------------


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate: str = value.decode("latin-1").strip()
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class ObservabilityMiddleware:
    """Request id, access line and request metrics for every HTTP request (pure ASGI, so streaming is untouched)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_request_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], route_template(scope)
        REQUESTS.labels(method, route, str(status)).inc()
        LATENCY.labels(method, route).observe(seconds)
        version = scope.get("state", {}).get("model_version")
        if version and status < 400 and route in FORECAST_ROUTES:
            FORECASTS_SERVED.labels(version, route).inc()
        client = scope.get("client")
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            scope["path"],
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
                "version": version,
            },
        )


# --- /metrics ---------------------------------------------------------------------------------------


class ActiveModelCollector(Collector):
    """The served version's age, read at scrape time from the app's model holder."""

    def __init__(self, current: Callable[[], Any]):
        self.current = current

    def collect(self) -> Iterable[GaugeMetricFamily]:
        loaded = self.current()
        info = GaugeMetricFamily(
            "provocast_model_info",
            "The model version this process serves (value 1)",
            labels=["version", "default_model", "data_cutoff"],
        )
        age = GaugeMetricFamily("provocast_model_age_seconds", "Seconds since the served version was created (trained)")
        data_age = GaugeMetricFamily(
            "provocast_model_data_age_seconds", "Seconds since the end of the served version's data cutoff day (UTC)"
        )
        loaded_for = GaugeMetricFamily(
            "provocast_model_loaded_seconds", "Seconds since this process loaded the served version"
        )
        history_age = GaugeMetricFamily(
            "provocast_history_age_days",
            "Days from the served version's history coverage (history_through, its data cutoff) to today; "
            "forecasts carry a stale note past PROVOCAST_STALE_AFTER_DAYS",
        )
        if loaded is not None:
            now = dt.datetime.now(dt.UTC)
            version = loaded.version
            cutoff_end = dt.datetime.combine(version.data_cutoff + dt.timedelta(days=1), dt.time(), dt.UTC)
            info.add_metric([version.id, version.default_model, version.data_cutoff.isoformat()], 1)
            age.add_metric([], (now - version.created_at).total_seconds())
            data_age.add_metric([], (now - cutoff_end).total_seconds())
            loaded_for.add_metric([], (now - loaded.loaded_at).total_seconds())
            history_age.add_metric([], (dt.date.today() - version.data_cutoff).days)
        yield from (info, age, data_age, loaded_for, history_age)


def multiprocess_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def metrics_router(current_model: Callable[[Request], Any], guard: Callable[..., Any] | None = None) -> APIRouter:
    """`GET /metrics`: this process's metrics, or every worker's added up in multiprocess mode; behind `guard`
    (the bearer-token check) when one is given."""
    router = APIRouter(dependencies=[Depends(guard)] if guard else [])

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if multiprocess_directory():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = CollectorRegistry()
            registry.register(_Forward(REGISTRY))
        registry.register(ActiveModelCollector(lambda: current_model(request)))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class _Forward(Collector):
    """The process-wide registry's metrics, inside a per-scrape registry that adds the live gauges."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self) -> Iterable[Any]:
        return self.source.collect()
