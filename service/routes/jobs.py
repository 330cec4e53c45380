"""`/v1/jobs/{id}`: the state of a background job (a retrain)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.deps import StoredJob, carries_token
from service.schemas import JobOut, error_responses

router = APIRouter(prefix="/v1/jobs", tags=["models"])


@router.get(
    "/{job_id}",
    name="job",
    response_model=JobOut,
    summary="A retrain job's status, and its output with the bearer token",
    responses=error_responses(404, 503),
)
def job(request: Request, job: StoredJob) -> JobOut:
    answer = JobOut.model_validate(job)
    # The output can hold hosts, paths and traceback tails: only for the token's holder.
    return answer if carries_token(request) else answer.model_copy(update={"output": []})
