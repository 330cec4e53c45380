"""Health bodies: liveness and readiness."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    model: dict[str, Any] | None
    store: dict[str, Any]
    reasons: list[str]
