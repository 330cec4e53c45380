"""The HTTP API: `create_app()` builds it; `app` is what `uvicorn service.main:app` serves.

Start-up (the lifespan) opens the store, loads and warms the registry's active
version, precomputes the upcoming-elections answer, and starts the registry
poll that swaps in newly promoted versions. Once a version is served, a
background thread builds the parts of it no request has read yet and records
it in the forecast ledger. With no active version it starts one retrain
process and reports not ready until that version is promoted.
"""

from __future__ import annotations

import gc

# Start-up creates a few hundred thousand long-lived objects (FastAPI, pydantic, SQLAlchemy, numpy, the routes and
# their schemas); the collector would walk them over and over while they load, about a fifth of the import time.
# Paused here and resumed once the app is built; the loaded version is frozen out of its way later (settle_heap).
gc.disable()

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import ElectionRecord
from service.answers import answer_upcoming
from service.deps import AppState, app_state, child_environment, freshness, open_store, require_token
from service.edge.fast_path import FastPathMiddleware, ServingState
from service.errors import install_error_handlers
from service.limits import BodyLimitMiddleware, SecurityHeadersMiddleware
from service.model_holder import LoadedModel, ModelHolder
from service.observability import ObservabilityMiddleware, ServiceLogging, configure_uvicorn_logging, metrics_router
from service.queries import upcoming_query
from service.routes import ROUTERS
from service.routes.dashboard import DOCS_ASSETS, DOCS_ASSETS_URL
from service.settings import ServiceSettings, token_problem

DESCRIPTION = """
Forecasts of North Korean weapons tests (ballistic and cruise missiles, nuclear devices, satellite launches,
artillery) in the weeks around elections, chiefly South Korea's legislative and the US November elections.

Every forecast names the model version and data cutoff that produced it, the model's backtest skill on past
election windows (Brier skill against climatology and against the trailing-year rate), climatology's probability
for the same window, and the election effect with its interval. Reads are open; writes need
`Authorization: Bearer <PROVOCAST_API_TOKEN>`. Errors share one shape:
`{"error": {"status": 422, "code": "invalid_input", "message": "...", "field": "days_before"}}`.
"""

log = logging.getLogger("provocast.service")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def operation_id(route: APIRoute) -> str:
    """`<tag>_<name>` (e.g. `elections_forecast`), so a generated client reads `elections.forecast(...)`.

    The name is the route's `name=` (the function's name when none is given).
    """
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    problem = token_problem(settings.api_token)
    if problem:
        raise SystemExit(f"error: {problem}")
    configure_uvicorn_logging(settings.log_format)
    service_logging = ServiceLogging(settings.log_format, settings.log_level)

    def on_loaded(loaded: LoadedModel, elections: dict[str, ElectionRecord]) -> None:
        answer_upcoming(
            loaded, upcoming_query(loaded.forecaster, list(elections.values()), settings), freshness(settings)
        )

    def after_serving(factory: sessionmaker[Session], loaded: LoadedModel) -> None:
        """Once a version is served: build the parts no request has asked for yet, then record it in the ledger."""
        for damaged in loaded.forecaster.build_every_part():
            log.error("%s: %s; its questions answer 503", loaded.id, damaged)
        publish_in_ledger(factory, loaded)

    def publish_in_ledger(factory: sessionmaker[Session], loaded: LoadedModel) -> None:
        """The version now served goes into the forecast ledger; closed windows are scored.

        Runs after the version is served (see `after_serving`), off the readiness path: it reads the whole history,
        and its imports are not needed to answer. Never stops serving.
        """
        from forecasting.lifecycle import ledger  # deferred: see above

        try:
            promoted = loaded.version.promoted_at
            recorded, scored = ledger.record_and_score(
                factory,
                loaded.forecaster,
                days_before=settings.default_days_before,
                days_after=settings.default_days_after,
                promoted_on=None if promoted is None else promoted.date(),
            )
        except Exception as error:
            log.warning("forecast ledger not updated for %s: %s", loaded.id, error)
            return
        log.info("%s; %s", recorded.describe() if recorded else "", scored.describe())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service_logging.start()
        engine, factory = open_store(settings)
        holder = ModelHolder(
            engine,
            factory,
            settings,
            on_loaded=on_loaded,
            after_serving=lambda loaded: after_serving(factory, loaded),
            child_env=child_environment(settings),
        )
        app.state.provocast = AppState(settings=settings, engine=engine, factory=factory, holder=holder)
        await holder.start()
        if holder.current is None:
            log.warning("not ready: %s", holder.not_ready_reason())
        try:
            yield
        finally:
            await holder.stop()
            engine.dispose()
            service_logging.stop()

    app = FastAPI(
        title="Provocast",
        version="1",
        summary="Forecasts of North Korean weapons tests around elections",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # /docs and /redoc are the dashboard router's, with assets served here (no CDN)
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    def serving_state() -> ServingState | None:
        state: AppState | None = getattr(app.state, "provocast", None)
        loaded = state.holder.current if state is not None else None
        return None if loaded is None or state is None else ServingState(loaded.id, state.holder.calendar_generation)

    app.add_middleware(
        FastPathMiddleware,
        serving=serving_state,
        max_age_seconds=max(1, math.ceil(settings.registry_poll_seconds)),
        max_entries=settings.forecast_cache_size,
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outside the fast path, so that its answers carry the same headers
    app.add_middleware(ObservabilityMiddleware)  # outermost: every request gets its id, access line and metrics
    for router in ROUTERS:
        app.include_router(router)
    guard = None if settings.metrics_public else require_token
    app.include_router(metrics_router(lambda request: app_state(request).holder.current, guard))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(DOCS_ASSETS_URL, DOCS_ASSETS, name="docs-assets")
    _state_configured_limits(app, settings)
    return app


def _state_configured_limits(app: FastAPI, settings: ServiceSettings) -> None:
    """The document states the limits these settings configure (a route's declared bound is the ceiling)."""
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = plain_openapi()
            for methods in document["paths"].values():
                for operation in methods.values():
                    for parameter in operation.get("parameters", []):
                        if parameter["name"] == "limit":
                            parameter["schema"]["maximum"] = settings.max_page_size
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


try:
    app = create_app()
finally:
    gc.enable()
