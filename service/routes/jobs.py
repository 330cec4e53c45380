"""`/v1/jobs/{id}`: the state of a background job (a retrain)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy.exc import OperationalError

from forecasting.store import jobs
from service.deps import app_state
from service.errors import ApiError
from service.schemas import JobOut, error_responses

router = APIRouter(prefix="/v1/jobs", tags=["models"])


@router.get(
    "/{job_id}", response_model=JobOut, summary="A retrain job's status and output", responses=error_responses(404, 503)
)
def job(request: Request, job_id: Annotated[str, Path(max_length=100)]) -> JobOut:
    factory = app_state(request).factory
    with factory() as session:
        found = jobs.get_job(session, job_id)
    if found is None:
        raise ApiError(404, f"no job {job_id!r}", field="job_id")
    if found.status in jobs.IN_FLIGHT:
        # A job whose process was killed cannot close its own row; settle it before answering.
        try:
            with factory.begin() as session:
                jobs.settle_stale_jobs(session)
                found = jobs.get_job(session, job_id) or found
        except OperationalError:
            pass  # a busy SQLite writer (the retrain itself): answer with what was read, settle next time
    return JobOut.from_job(found)
