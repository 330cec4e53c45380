"""`/v1/backtests`: per election and model, what was forecast beforehand and what happened."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from forecasting.domain.vocabulary import ModelName
from service.answers import backtests_answer
from service.deps import Loaded
from service.schemas import Backtests, error_responses

router = APIRouter(prefix="/v1/backtests", tags=["backtests"])


@router.get(
    "",
    name="list",
    response_model=Backtests,
    summary="The serving version's backtest: each model's forecast before each past election, and the outcome",
    description="Every forecast was made from data up to its cutoff (the horizon before the window opened).",
    responses=error_responses(422, 503),
)
def backtests(
    loaded: Loaded,
    election_id: Annotated[str | None, Query(max_length=100, description="Only this election.")] = None,
    model: Annotated[ModelName | None, Query(description="Only this model.")] = None,
    group: Annotated[
        str | None,
        Query(max_length=40, description="kr_legislative, kr_presidential, us_presidential, us_midterm or control."),
    ] = None,
    include_control: Annotated[bool, Query(description="Also the ordinary (control) windows.")] = False,
) -> Backtests:
    return backtests_answer(loaded, election_id, model, group, include_control)
