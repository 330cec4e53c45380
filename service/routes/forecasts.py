"""`/v1/forecasts`: every upcoming election at once, the next days from today (the now-cast), and any window."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.answers import answer_next, answer_upcoming, answer_window
from service.deps import Fresh, Loaded
from service.queries import NextQueryParam, UpcomingQueryParam, WindowQueryParam
from service.schemas import Forecast, UpcomingForecasts, error_responses

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"])


@router.get(
    "/upcoming",
    response_model=UpcomingForecasts,
    summary="Forecasts for every scheduled election in the next two years",
    description="Default windows (30 days either side unless the settings say otherwise), answered from memory "
    "for the loaded version.",
    responses=error_responses(422, 503),
)
async def upcoming(loaded: Loaded, query: UpcomingQueryParam, fresh: Fresh) -> Response:
    return Response(answer_upcoming(loaded, query, fresh), media_type="application/json")


@router.get(
    "/next",
    name="next",
    response_model=Forecast,
    summary="The now-cast: the chance of a weapons test in the next N days from today",
    description=(
        "The window runs from today (or from the day after the data cutoff, if the history reaches today) for "
        "`days` days. Its horizon is counted from the data cutoff, the date through which the history is "
        "complete: `horizon_days` and `history_age_days` say how much of the recent past the models have not seen."
    ),
    responses=error_responses(422, 503),
)
async def next_days(loaded: Loaded, query: NextQueryParam, fresh: Fresh) -> Response:
    return Response(answer_next(loaded, query, fresh), media_type="application/json")


@router.post(
    "",
    response_model=Forecast,
    summary="Forecast for any window after the data cutoff (at most 366 days)",
    responses=error_responses(413, 422, 503),
)
async def window(loaded: Loaded, query: WindowQueryParam, fresh: Fresh) -> Response:
    return Response(answer_window(loaded, query, fresh), media_type="application/json")
