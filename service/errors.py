"""One JSON shape for every error, and the handlers that map each kind of failure to it.

    {"error": {"status": 422, "code": "invalid_input", "message": "...", "field": "days_before"}}

`field` names the request field at fault (query, path or body) when there is
one. Domain errors map to statuses here, once, so that routes stay thin: bad input
422, unknown ids 404, conflicts 409, no or wrong token 401/403, the store down
503, no model loaded 503. Anything unexpected is logged and answered with a
plain 500 that carries no traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from forecasting.domain.records import RecordError
from forecasting.domain.vocabulary import UnknownEventType
from forecasting.lifecycle.retrain_jobs import RetrainBusy
from forecasting.models.base import ForecastRequestError
from forecasting.serving.forecaster import ForecastRejected
from forecasting.serving.lazy_parts import DamagedPart
from forecasting.store.db import StoreUnavailable, describe_error
from forecasting.store.registry import CorruptArtifact, UnknownVersion
from forecasting.store.repository import DuplicateEvent, ProtectedEvent, UnknownEvent

log = logging.getLogger("provocast.service")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error a route raises on purpose; becomes the JSON error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.field = field
        self.headers = headers


class ModelNotReady(ApiError):
    def __init__(self, message: str):
        super().__init__(503, message, code="model_unavailable", headers={"Retry-After": "10"})


def error_body(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if field is not None:
        error["field"] = field
    error.update(extra)
    return {"error": error}


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, field, **extra), status_code=status, headers=headers)


# What a failing store raises: the engine's errors, or our own when it cannot be reached at all.
StoreErrors = (SQLAlchemyError, StoreUnavailable)


def store_error_detail(error: Exception) -> str:
    """The store's own message, on one line."""
    return describe_error(error) if isinstance(error, SQLAlchemyError) else str(error)


def store_unavailable_message(error: Exception) -> str:
    return (
        f"the store is unavailable ({store_error_detail(error)}); forecasts are still served from the loaded model, "
        "try writes again later"
    )


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in location if not isinstance(p, int)]
    if parts and parts[0] in ("query", "path", "body", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) if parts else None


async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [
        {"field": _field_of(e.get("loc", ())) or "body", "message": str(e.get("msg", "is not valid"))}
        for e in error.errors()
    ]
    first = problems[0] if problems else {"field": "body", "message": "the request is not valid"}
    message = f"field '{first['field']}': {first['message']}"
    extra: dict[str, Any] = {"problems": problems} if len(problems) > 1 else {}
    return error_response(422, "invalid_input", message, first["field"], **extra)


async def _api_error(request: Request, error: ApiError) -> JSONResponse:
    return error_response(error.status, error.code, error.message, error.field, error.headers)


# What FastAPI raises (as a 400) for a body it cannot decode at all, e.g. bytes that are not UTF-8.
UNPARSEABLE_BODY = "There was an error parsing the body"


async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
    status = error.status_code
    if status == 400 and error.detail == UNPARSEABLE_BODY:
        # The same answer as for any other body that is not JSON (FastAPI's json_invalid, a 422).
        return error_response(422, "invalid_input", "field 'body': the body is not JSON encoded as UTF-8", "body")
    if status == 404:
        message = f"no such endpoint: {request.method} {request.url.path}; see /docs"
    elif status == 405:
        allowed = allowed_methods(request, (getattr(error, "headers", None) or {}).get("Allow", ""))
        message = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed}); see /docs"
        return error_response(status, CODES[status], message, headers={"Allow": allowed})
    else:
        message = str(error.detail)
    return error_response(status, CODES.get(status, "error"), message, headers=getattr(error, "headers", None))


def allowed_methods(request: Request, fallback: str = "") -> str:
    """The methods the OpenAPI document gives this path: its literal path's when it has one, else its templates'.

    Starlette's own `Allow` names only the first route whose path matched, so `OPTIONS /v1/models/retrain` was
    answered `Allow: GET` (from `/v1/models/{version}`) for a POST-only path. Paths outside the document (the
    dashboard, static files) keep Starlette's answer.
    """
    literal: set[str] = set()
    templated: set[str] = set()
    path = request.url.path
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            (templated if "{" in template else literal).update(method.upper() for method in operations)
    methods = literal or templated
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods)) or fallback


async def _record(request: Request, error: RecordError) -> JSONResponse:
    return error_response(422, "invalid_input", str(error), error.field)


async def _duplicate(request: Request, error: DuplicateEvent) -> JSONResponse:
    return error_response(409, "conflict", error.message, error.field)


async def _event_type(request: Request, error: UnknownEventType) -> JSONResponse:
    return error_response(422, "invalid_input", str(error), "event_types")


async def _forecast_request(request: Request, error: ForecastRequestError) -> JSONResponse:
    return error_response(422, "invalid_input", str(error))


async def _forecast_rejected(request: Request, error: ForecastRejected) -> JSONResponse:
    message = str(error)
    if error.seen_election is not None:
        message += f" (GET /v1/backtests?election_id={error.seen_election})"
    return error_response(422, "invalid_input", message, error.field)


async def _unknown_version(request: Request, error: UnknownVersion) -> JSONResponse:
    return error_response(404, "not_found", str(error), "version")


async def _corrupt(request: Request, error: CorruptArtifact | DamagedPart) -> JSONResponse:
    return error_response(503, "model_unavailable", str(error))


async def _unknown_event(request: Request, error: UnknownEvent) -> JSONResponse:
    return error_response(404, "not_found", str(error), "event_id")


async def _protected_event(request: Request, error: ProtectedEvent) -> JSONResponse:
    return error_response(409, "conflict", str(error), "event_id")


async def _busy(request: Request, error: RetrainBusy) -> JSONResponse:
    return error_response(409, "conflict", str(error))


async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
    return error_response(409, "conflict", f"the store refused the write: {describe_error(error)}")


async def _data(request: Request, error: DataError) -> JSONResponse:
    # The store refused a value the parsers let through (PostgreSQL takes no NUL character in text).
    return error_response(
        422, "invalid_input", f"the store cannot hold a value of this request: {describe_error(error)}"
    )


async def _store(request: Request, error: Exception) -> JSONResponse:
    log.warning("store unavailable on %s %s: %s", request.method, request.url.path, error)
    return error_response(503, "store_unavailable", store_unavailable_message(error), headers={"Retry-After": "5"})


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal error; it has been logged")


E = TypeVar("E", bound=Exception)


def _register(app: FastAPI, kind: type[E], handler: Callable[[Request, E], Awaitable[JSONResponse]]) -> None:
    # Starlette types a handler as taking any Exception; each handler here takes the one it is registered for,
    # which Starlette guarantees by dispatching on the exception's class.
    app.add_exception_handler(kind, cast(Callable[[Request, Exception], Awaitable[JSONResponse]], handler))


def install_error_handlers(app: FastAPI) -> None:
    _register(app, RequestValidationError, _validation)
    _register(app, ApiError, _api_error)
    _register(app, StarletteHTTPException, _http)
    _register(app, DuplicateEvent, _duplicate)
    _register(app, RecordError, _record)
    _register(app, UnknownEventType, _event_type)
    _register(app, ForecastRequestError, _forecast_request)
    _register(app, ForecastRejected, _forecast_rejected)
    _register(app, UnknownVersion, _unknown_version)
    _register(app, CorruptArtifact, _corrupt)
    _register(app, DamagedPart, _corrupt)
    _register(app, RetrainBusy, _busy)
    _register(app, UnknownEvent, _unknown_event)
    _register(app, ProtectedEvent, _protected_event)
    _register(app, IntegrityError, _integrity)
    _register(app, DataError, _data)
    app.add_exception_handler(StoreUnavailable, _store)
    app.add_exception_handler(SQLAlchemyError, _store)
    app.add_exception_handler(Exception, _unexpected)
