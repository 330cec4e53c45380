"""`/v1/elections`: the calendar, and the forecast around one election."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Query, Response

from forecasting.domain.records import ELECTION_KINDS
from forecasting.store.repository import list_elections
from service.answers import answer_election
from service.deps import Election, Fresh, Loaded, ReadSession
from service.queries import ElectionQueryParam
from service.schemas import Election as ElectionOut
from service.schemas import ElectionForecast, ElectionList, error_responses
from service.schemas.rules import IsoDate

router = APIRouter(prefix="/v1/elections", tags=["elections"])

KINDS = tuple(sorted({k for kinds in ELECTION_KINDS.values() for k in kinds}))
Kind = Literal["legislative", "local", "midterm", "presidential"]
assert get_args(Kind) == KINDS, "Kind must list the election kinds of forecasting.domain.records"


@router.get(
    "",
    name="list",
    response_model=ElectionList,
    summary="Elections in the calendar",
    responses=error_responses(422, 503),
)
def elections(
    session: ReadSession,
    country: Annotated[Literal["KR", "US"] | None, Query(description="KR or US.")] = None,
    kind: Annotated[Kind | None, Query(description="presidential, legislative, local or midterm.")] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="First day (YYYY-MM-DD).")] = None,
    date_to: Annotated[
        IsoDate | None, Query(alias="to", description="Last day (YYYY-MM-DD); before 'from': none.")
    ] = None,
    upcoming: Annotated[bool, Query(description="Only elections from today on.")] = False,
) -> ElectionList:
    if upcoming:
        date_from = max(date_from or date.today(), date.today())
    records = list_elections(session, country=country, date_from=date_from, date_to=date_to)
    chosen = [ElectionOut.model_validate(r) for r in records if kind is None or r.kind == kind]
    return ElectionList(total=len(chosen), items=chosen)


@router.get(
    "/{election_id}",
    name="get",
    response_model=ElectionOut,
    summary="One election",
    responses=error_responses(404, 503),
)
def election(election: Election) -> ElectionOut:
    return ElectionOut.model_validate(election)


@router.get(
    "/{election_id}/forecast",
    name="forecast",
    response_model=ElectionForecast,
    summary="Forecast of weapons tests in the window around an election",
    description=(
        "Probability of at least one test, expected count with 80/95% intervals, daily intensity and the election "
        "effect, with the model version, data cutoff and backtest skill. Answered from memory; no model is fitted. "
        "A window that had opened by the data cutoff answers 422: see /v1/backtests for past elections."
    ),
    responses=error_responses(404, 422, 503),
)
async def election_forecast(loaded: Loaded, query: ElectionQueryParam, fresh: Fresh) -> Response:
    return Response(answer_election(loaded, query, fresh), media_type="application/json")
