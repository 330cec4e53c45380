"""`/v1/jobs`: background jobs (retrains started through the API, the scheduled sync-and-retrain runs)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from forecasting.store.jobs import list_jobs
from service.deps import ReadSession, StoredJob, carries_token
from service.schemas import JobList, JobOut, error_responses

router = APIRouter(prefix="/v1/jobs", tags=["models"])


@router.get(
    "",
    name="job_list",
    response_model=JobList,
    summary="The latest jobs, newest first: retrains and scheduled runs (sync, then retrain), with their outcome",
    responses=error_responses(422, 503),
)
def job_list(
    request: Request,
    session: ReadSession,
    kind: Annotated[
        Literal["retrain", "cycle"] | None,
        Query(description="retrain: started by POST /v1/models/retrain; cycle: a scheduled sync-and-retrain run."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobList:
    return JobList(items=[_shown(request, job) for job in list_jobs(session, kind=kind, limit=limit)])


@router.get(
    "/{job_id}",
    name="job",
    response_model=JobOut,
    summary="A job's status, and its output with the bearer token",
    responses=error_responses(404, 503),
)
def job(request: Request, job: StoredJob) -> JobOut:
    return _shown(request, job)


def _shown(request: Request, job: object) -> JobOut:
    answer = JobOut.model_validate(job)
    # The output can hold hosts, paths and traceback tails: only for the token's holder.
    return answer if carries_token(request) else answer.model_copy(update={"output": []})
