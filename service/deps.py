"""Request dependencies: the app's state, store sessions, the bearer-token check, the model being served, and
one validating dependency per path parameter (the election, the model version, the job).

Routes use the `Annotated` aliases below; none of them opens a session by hand or imports sqlalchemy.
"""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, cast

from fastapi import Depends, Path, Request
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import ElectionRecord
from forecasting.serving.payload import Freshness
from forecasting.settings import Settings
from forecasting.store import jobs, registry
from forecasting.store.db import create_session_factory, create_store_engine, write_transaction
from forecasting.store.jobs import Job
from forecasting.store.registry import ModelVersion
from forecasting.store.repository import get_election
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
    return cast(AppState, request.app.state.provocast)


# Dependencies that only read memory are async: a sync one costs a thread-pool round trip per request.
async def _settings(request: Request) -> ServiceSettings:
    return app_state(request).settings


async def _holder(request: Request) -> ModelHolder:
    return app_state(request).holder


async def _factory(request: Request) -> sessionmaker[Session]:
    return app_state(request).factory


AppSettings = Annotated[ServiceSettings, Depends(_settings)]
Holder = Annotated[ModelHolder, Depends(_holder)]
SessionFactory = Annotated[sessionmaker[Session], Depends(_factory)]


def _read_session(factory: SessionFactory) -> Iterator[Session]:
    """A session for reads (no transaction is committed)."""
    with factory() as session:
        yield session


def _write_session(factory: SessionFactory) -> Iterator[Session]:
    """A transaction committed when the route returns, rolled back if it raises (holding the write lock on SQLite)."""
    with write_transaction(factory) as session:
        yield session


ReadSession = Annotated[Session, Depends(_read_session)]
# scope="function": FastAPI's default runs the code after `yield` (here the commit) after the response is
# sent, so a client would get its 201 before the row is stored, and a failed commit would never reach it.
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]


def carries_token(request: Request) -> bool:
    """Whether the request carries the configured bearer token (never raises)."""
    configured = app_state(request).settings.api_token
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (
        bool(configured)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), (configured or "").encode())
    )


async def require_token(request: Request) -> None:
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


async def _serving_model(request: Request) -> LoadedModel:
    """The loaded version (one reference per request, so a swap never mixes two versions)."""
    holder = app_state(request).holder
    loaded = holder.current
    if loaded is None:
        raise ModelNotReady(holder.not_ready_reason() or "no model is loaded")
    request.state.model_version = loaded.id  # for the forecasts-served metric
    return loaded


Loaded = Annotated[LoadedModel, Depends(_serving_model)]


def freshness(settings: ServiceSettings) -> Freshness:
    """Today and the stale threshold: the only input that makes a forecast body depend on the day it is asked."""
    return Freshness(date.today(), settings.stale_after_days)


async def _freshness(request: Request) -> Freshness:
    return freshness(app_state(request).settings)


Fresh = Annotated[Freshness, Depends(_freshness)]


# --- one validating dependency per path parameter ----------------------------------------------


async def _election(
    request: Request,
    election_id: Annotated[
        str,
        Path(
            max_length=100,
            description="Election id, e.g. kr-legislative-2028-04-12 (GET /v1/elections lists them).",
            openapi_examples={"next_kr_legislative": {"value": "kr-legislative-2028-04-12"}},
        ),
    ],
) -> ElectionRecord:
    """From the in-memory calendar (refreshed with every registry poll), else from the store; or 404."""
    # The app state is read directly, not through sub-dependencies: each one costs a resolution per request.
    state = app_state(request)
    record = state.holder.elections.get(election_id)
    if record is None:
        record = await asyncio.to_thread(_stored_election, state.factory, election_id)
    if record is None:
        raise ApiError(404, f"no election {election_id!r}; see GET /v1/elections", field="election_id")
    return record


def _stored_election(factory: sessionmaker[Session], election_id: str) -> ElectionRecord | None:
    with factory() as session:
        return get_election(session, election_id)


def _model_version(
    session: ReadSession,
    version: Annotated[str, Path(max_length=100, description="Version id from GET /v1/models.")],
) -> ModelVersion:
    """The registry's version, or UnknownVersion (404)."""
    return registry.get_version(session, version)


def _job(factory: SessionFactory, job_id: Annotated[str, Path(max_length=100)]) -> Job:
    """The job, settled first if its process is gone (a killed job cannot close its own row); or 404."""
    with factory() as session:
        found = jobs.get_job(session, job_id)
    if found is None:
        raise ApiError(404, f"no job {job_id!r}", field="job_id")
    if found.status in jobs.IN_FLIGHT:
        try:
            # A plain (deferred) transaction, not write_transaction: a job poll must not queue behind a
            # retrain holding SQLite's write lock; it answers with what it read and settles next time.
            with factory.begin() as session:
                jobs.settle_stale_jobs(session)
                found = jobs.get_job(session, job_id) or found
        except OperationalError:
            pass
    return found


Election = Annotated[ElectionRecord, Depends(_election)]
Version = Annotated[ModelVersion, Depends(_model_version)]
StoredJob = Annotated[Job, Depends(_job)]
