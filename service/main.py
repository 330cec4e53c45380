"""The HTTP API: `create_app()` builds it; `app` is what `uvicorn service.main:app` serves.

Start-up (the lifespan) opens the store, loads and warms the registry's active
version, precomputes the upcoming-elections answer, and starts the registry
poll that swaps in newly promoted versions. With no active version it starts
one retrain process and reports not ready until that version is promoted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI

from forecasting.records import ElectionRecord
from service.answers import upcoming_body
from service.deps import AppState, child_environment, open_store
from service.errors import install_error_handlers
from service.limits import BodyLimitMiddleware
from service.model_holder import LoadedModel, ModelHolder
from service.routes import ROUTERS
from service.settings import ServiceSettings

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


def _log_to_stderr() -> None:
    """Our INFO lines (versions loaded and swapped) next to uvicorn's, unless logging is configured already."""
    logger = logging.getLogger("provocast")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    _log_to_stderr()

    def warm_answers(loaded: LoadedModel, elections: dict[str, ElectionRecord]) -> None:
        upcoming_body(
            loaded, list(elections.values()), date.today(), settings.upcoming_days,
            settings.default_days_before, settings.default_days_after, None, None,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine, factory = open_store(settings)
        holder = ModelHolder(engine, factory, settings, on_loaded=warm_answers, child_env=child_environment(settings))
        app.state.provocast = AppState(settings=settings, engine=engine, factory=factory, holder=holder)
        await holder.start()
        if holder.current is None:
            log.warning("not ready: %s", holder.not_ready_reason())
        try:
            yield
        finally:
            await holder.stop()
            engine.dispose()

    app = FastAPI(
        title="Provocast",
        version="1",
        summary="Forecasts of North Korean weapons tests around elections",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
    return app


app = create_app()
