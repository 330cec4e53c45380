"""`/v1/models`: the registry's versions and their metrics; retraining as a background job."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from forecasting.domain.records import RecordError
from forecasting.domain.vocabulary import VersionStatus
from forecasting.lifecycle import retrain_jobs
from forecasting.store import registry
from service.deps import AppSettings, Holder, ReadSession, SessionFactory, Version, child_environment, require_token
from service.schemas import JobOut, ModelList, ModelVersionDetail, ModelVersionOut, RetrainRequest, error_responses

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "",
    name="list",
    response_model=ModelList,
    summary="Every stored model version, newest first",
    responses=error_responses(503),
)
def versions(holder: Holder, session: ReadSession) -> ModelList:
    serving = holder.current.id if holder.current else None
    items = registry.list_versions(session)
    active = next((v.id for v in items if v.status == VersionStatus.ACTIVE), None)
    return ModelList(
        active=active,
        serving=serving,
        load_error=holder.load_error,
        items=[ModelVersionOut.of(v, serving) for v in items],
    )


@router.get(
    "/{version}",
    name="get",
    response_model=ModelVersionDetail,
    summary="One version with its backtest metrics",
    responses=error_responses(404, 503),
)
def version(holder: Holder, version: Version) -> ModelVersionDetail:
    return ModelVersionDetail.of(version, holder.current.id if holder.current else None)


@router.post(
    "/retrain",
    response_model=JobOut,
    status_code=202,
    summary="Start a retrain job (its own process); needs the bearer token",
    description=(
        "Answers 202 with the job at once; follow it at /v1/jobs/{id}. A promoted version is served by every "
        "worker within a few seconds. 409 while another retrain runs."
    ),
    dependencies=[Depends(require_token)],
    responses=error_responses(401, 403, 409, 422, 503),
)
def retrain(
    settings: AppSettings,
    factory: SessionFactory,
    response: Response,
    body: Annotated[RetrainRequest | None, Body()] = None,
) -> JobOut:
    body = body or RetrainRequest()
    if body.cutoff is not None and body.cutoff > date.today():
        raise RecordError("cutoff", f"{body.cutoff} is in the future")
    job = retrain_jobs.start_retrain_job(
        factory,
        promote=body.promote,
        cutoff=body.cutoff,
        env=child_environment(settings),
        requested_by="api",
        timeout_seconds=settings.retrain_timeout_seconds,
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.model_validate(job)
