"""Request dependencies: the app's state, store sessions, the bearer-token check, the model being served."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from forecasting.settings import Settings
from forecasting.store.db import create_session_factory, create_store_engine, write_transaction
from service.errors import ApiError, ModelNotReady
from service.model_holder import LoadedModel, ModelHolder
from service.settings import ServiceSettings


@dataclass
class AppState:
    settings: ServiceSettings
    engine: Engine
    factory: sessionmaker[Session]
    holder: ModelHolder


def open_store(settings: ServiceSettings) -> tuple[Engine, sessionmaker[Session]]:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # Without it a request would hang for minutes on an unreachable server instead of answering 503.
        url = url.update_query_dict({"connect_timeout": str(settings.store_timeout_seconds)})
    engine = create_store_engine(url)
    return engine, create_session_factory(engine)


def child_environment(settings: ServiceSettings) -> dict[str, str]:
    """The environment for a `provocast retrain` child: ours, with the shared settings as this app has them."""
    env = dict(os.environ)
    for name in Settings.model_fields:
        key = f"PROVOCAST_{name.upper()}"
        value = getattr(settings, name)
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.isoformat() if isinstance(value, date) else str(value)
    return env


def app_state(request: Request) -> AppState:
    return request.app.state.provocast


def read_session(request: Request) -> Iterator[Session]:
    """A session for reads (no transaction is committed)."""
    with app_state(request).factory() as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    """A transaction committed when the route returns, rolled back if it raises (holding the write lock on SQLite).

    Use it as `Depends(write_session, scope="function")`: FastAPI's default runs the code after `yield`
    (here the commit) after the response is sent, so a client would get its 201 before the row is
    stored, and a failed commit would never reach it.
    """
    with write_transaction(app_state(request).factory) as session:
        yield session


def require_token(request: Request) -> None:
    """Writes need `Authorization: Bearer <PROVOCAST_API_TOKEN>`; with no token configured, none are allowed."""
    configured = app_state(request).settings.api_token
    if not configured:
        raise ApiError(
            403, "writes are disabled on this server: it has no PROVOCAST_API_TOKEN set", code="writes_disabled"
        )
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(
            401,
            "this endpoint needs an 'Authorization: Bearer <token>' header",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "the Authorization header must be 'Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(token.strip().encode(), configured.encode()):
        raise ApiError(403, "the bearer token is not valid", code="invalid_token")


async def serving_model(request: Request) -> LoadedModel:
    """The loaded version (one reference per request, so a swap never mixes two versions)."""
    holder = app_state(request).holder
    loaded = holder.current
    if loaded is None:
        raise ModelNotReady(holder.not_ready_reason() or "no model is loaded")
    request.state.model_version = loaded.id  # for the forecasts-served metric
    return loaded
