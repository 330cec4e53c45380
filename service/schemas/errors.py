"""The error body every failure shares, and the `responses=` entries that document it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    status: int = Field(examples=[422])
    code: str = Field(examples=["invalid_input"])
    message: str = Field(examples=["field 'days_before': Input should be less than or equal to 366"])
    field: str | None = Field(None, examples=["days_before"])


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_MEANINGS = {
    401: "No bearer token",
    403: "Writes disabled on this server, or a wrong token",
    404: "Unknown id",
    409: "Conflict",
    413: "Body too large",
    422: "Invalid input (the field is named)",
    503: "Store unavailable or no model loaded",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": ERROR_MEANINGS.get(s, "Error")} for s in statuses}
