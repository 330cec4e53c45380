"""`/v1/jobs/{id}`: the state of a background job (a retrain)."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import StoredJob
from service.schemas import JobOut, error_responses

router = APIRouter(prefix="/v1/jobs", tags=["models"])


@router.get(
    "/{job_id}",
    name="job",
    response_model=JobOut,
    summary="A retrain job's status and output",
    responses=error_responses(404, 503),
)
def job(job: StoredJob) -> JobOut:
    return JobOut.model_validate(job)
