"""`/v1/elections`: the calendar, and the forecast around one election."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from forecasting.domain.records import ELECTION_KINDS, ElectionRecord
from forecasting.store.repository import get_election, list_elections
from service.answers import election_body, split_event_types
from service.deps import app_state, read_session, serving_model
from service.errors import ApiError
from service.model_holder import LoadedModel
from service.schemas import Election, ElectionForecast, ElectionList, error_responses

router = APIRouter(prefix="/v1/elections", tags=["elections"])

Kind = Literal[tuple(sorted({k for kinds in ELECTION_KINDS.values() for k in kinds}))]  # type: ignore[valid-type]
ElectionId = Annotated[str, Path(max_length=100, description="Election id, e.g. kr-legislative-2028-04-12.")]


@router.get("", response_model=ElectionList, summary="Elections in the calendar", responses=error_responses(422, 503))
def elections(
    session: Annotated[Session, Depends(read_session)],
    country: Annotated[Literal["KR", "US"] | None, Query(description="KR or US.")] = None,
    kind: Annotated[Kind | None, Query(description="presidential, legislative, local or midterm.")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD).")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD).")] = None,
    upcoming: Annotated[bool, Query(description="Only elections from today on.")] = False,
) -> ElectionList:
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, f"{date_to} is before 'from' {date_from}", field="to")
    if upcoming:
        date_from = max(date_from or date.today(), date.today())
    records = list_elections(session, country=country, date_from=date_from, date_to=date_to)
    chosen = [Election.from_record(r) for r in records if kind is None or r.kind == kind]
    return ElectionList(total=len(chosen), items=chosen)


@router.get("/{election_id}", response_model=Election, summary="One election", responses=error_responses(404, 503))
def election(election_id: ElectionId, session: Annotated[Session, Depends(read_session)]) -> Election:
    record = get_election(session, election_id)
    if record is None:
        raise ApiError(404, f"no election {election_id!r}; see GET /v1/elections", field="election_id")
    return Election.from_record(record)


@router.get(
    "/{election_id}/forecast",
    response_model=ElectionForecast,
    summary="Forecast of weapons tests in the window around an election",
    description=(
        "Probability of at least one test, expected count with 80/95% intervals, daily intensity and the election "
        "effect, with the model version, data cutoff and backtest skill. Answered from memory; no model is fitted. "
        "A window that had opened by the data cutoff answers 422: see /v1/backtests for past elections."
    ),
    responses=error_responses(404, 422, 503),
)
async def election_forecast(
    request: Request,
    election_id: ElectionId,
    loaded: Annotated[LoadedModel, Depends(serving_model)],
    days_before: Annotated[
        int, Query(ge=0, le=366, description="Window opens this many days before election day.")
    ] = 30,
    days_after: Annotated[int, Query(ge=0, le=366, description="Window closes this many days after.")] = 30,
    event_types: Annotated[list[str] | None, Query(description="Event types or groups; default weapons.")] = None,
    model: Annotated[
        str | None, Query(max_length=40, description="Model name; default: the version's default.")
    ] = None,
) -> Response:
    record = await _election(request, election_id)
    body = election_body(loaded, record, days_before, days_after, split_event_types(event_types), model)
    return Response(body, media_type="application/json")


async def _election(request: Request, election_id: str) -> ElectionRecord:
    """From the in-memory calendar (refreshed with every registry poll), else from the store."""
    holder = app_state(request).holder
    record = holder.elections.get(election_id)
    if record is None:
        record = await asyncio.to_thread(_stored_election, request, election_id)
    if record is None:
        raise ApiError(404, f"no election {election_id!r}; see GET /v1/elections", field="election_id")
    return record


def _stored_election(request: Request, election_id: str) -> ElectionRecord | None:
    with app_state(request).factory() as session:
        return get_election(session, election_id)
