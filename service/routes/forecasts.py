"""`/v1/forecasts`: every upcoming election at once, and any window."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.answers import answer_upcoming, answer_window
from service.deps import Loaded
from service.queries import UpcomingQueryParam, WindowQueryParam
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
async def upcoming(loaded: Loaded, query: UpcomingQueryParam) -> Response:
    return Response(answer_upcoming(loaded, query), media_type="application/json")


@router.post(
    "",
    response_model=Forecast,
    summary="Forecast for any window after the data cutoff (at most 366 days)",
    responses=error_responses(413, 422, 503),
)
async def window(loaded: Loaded, query: WindowQueryParam) -> Response:
    return Response(answer_window(loaded, query), media_type="application/json")
