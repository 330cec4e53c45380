"""`/healthz` (the process answers), `/readyz` (a model is loaded and the store answers), and `/v1/status`
(how fresh the history is: coverage per source, the last sync, what the served version learned from)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from forecasting.store.live.coverage import events_after, history_through, list_coverage
from forecasting.store.live.sync_runs import last_run
from service.deps import AppSettings, Fresh, Holder, ReadSession
from service.errors import error_body
from service.schemas import (
    CoverageOut,
    Health,
    Readiness,
    ServedHistory,
    Status,
    SyncRunOut,
    error_responses,
)

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
            "settled": holder.settled,  # its remaining parts built and the ledger recorded, after it was served
        }
    )
    store = {"reachable": reachable, "detail": store_detail}
    checks = Readiness(status="not_ready" if reasons else "ready", model=model, store=store, reasons=reasons)
    if reasons:
        body = error_body(503, "not_ready", "; ".join(reasons))
        body["checks"] = checks.model_dump(mode="json")
        return JSONResponse(body, status_code=503)
    return JSONResponse(checks.model_dump(mode="json"))


@router.get(
    "/v1/status",
    name="status",
    response_model=Status,
    summary="How fresh the history is: coverage per source, the last sync, the served version's data cutoff",
    responses=error_responses(503),
)
def status(session: ReadSession, holder: Holder, fresh: Fresh, settings: AppSettings) -> Status:
    through = history_through(session)
    sync = last_run(session)
    loaded = holder.current
    served = (
        None
        if loaded is None
        else ServedHistory(
            version=loaded.id,
            data_cutoff=loaded.forecaster.cutoff,
            history_age_days=fresh.age_days(loaded.forecaster.cutoff),
        )
    )
    return Status(
        today=fresh.today,
        history_through=through,
        history_age_days=None if through is None else fresh.age_days(through),
        stale=through is None or fresh.is_stale(through),
        stale_after_days=settings.stale_after_days,
        events_after_coverage=events_after(session, through),
        coverage=[CoverageOut.model_validate(c) for c in list_coverage(session)],
        last_sync=None if sync is None else SyncRunOut.model_validate(sync),
        served=served,
    )
