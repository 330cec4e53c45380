"""Placeholder HTTP service: only a health check until the real API replaces this module."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(title="Provocast")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
