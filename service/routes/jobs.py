"""`/v1/jobs/{id}`: the state of a background job (a retrain)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from forecasting import jobs
from service.deps import write_session
from service.errors import ApiError
from service.schemas import JobOut, error_responses

router = APIRouter(prefix="/v1/jobs", tags=["models"])


@router.get("/{job_id}", response_model=JobOut, summary="A retrain job's status and output", responses=error_responses(404, 503))
def job(
    job_id: Annotated[str, Path(max_length=100)],
    session: Annotated[Session, Depends(write_session)],
) -> JobOut:
    # A job whose process was killed cannot close its own row; settle it before answering.
    jobs.settle_stale_jobs(session)
    found = jobs.get_job(session, job_id)
    if found is None:
        raise ApiError(404, f"no job {job_id!r}", field="job_id")
    return JobOut.from_job(found)
