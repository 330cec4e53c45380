"""`/healthz` (the process answers) and `/readyz` (a model is loaded and the store answers)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import Holder
from service.errors import error_body
from service.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", name="live", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    name="ready",
    response_model=Readiness,
    summary="Ready to serve: a model version loaded and the store reachable",
    responses={503: {"description": "Not ready; the error message says why, `checks` has the details"}},
)
async def readyz(holder: Holder) -> JSONResponse:
    reachable, store_detail = await asyncio.to_thread(holder.store_reachable)
    loaded = holder.current
    reasons = []
    if loaded is None:
        reasons.append(holder.not_ready_reason() or "no model is loaded")
    if not reachable:
        reasons.append(f"the store is unreachable: {store_detail}")
    model = (
        None
        if loaded is None
        else {
            "version": loaded.id,
            "data_cutoff": loaded.forecaster.cutoff.isoformat(),
            "loaded_at": loaded.loaded_at.isoformat(),
            "load_seconds": round(loaded.load_seconds, 2),
            "registry_active": holder.active_id,
            "load_error": holder.load_error,
        }
    )
    store = {"reachable": reachable, "detail": store_detail}
    checks = Readiness(status="not_ready" if reasons else "ready", model=model, store=store, reasons=reasons)
    if reasons:
        body = error_body(503, "not_ready", "; ".join(reasons))
        body["checks"] = checks.model_dump(mode="json")
        return JSONResponse(body, status_code=503)
    return JSONResponse(checks.model_dump(mode="json"))
