"""`/v1/forecasts`: every upcoming election at once, and any window."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.answers import split_event_types, upcoming_body, window_body
from service.deps import app_state, serving_model
from service.model_holder import LoadedModel
from service.schemas import Forecast, ForecastRequest, UpcomingForecasts, error_responses

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"])


@router.get(
    "/upcoming",
    response_model=UpcomingForecasts,
    summary="Forecasts for every scheduled election in the next two years",
    description="Default windows (30 days either side), answered from memory for the loaded version.",
    responses=error_responses(422, 503),
)
async def upcoming(
    request: Request,
    loaded: Annotated[LoadedModel, Depends(serving_model)],
    days_before: Annotated[int, Query(ge=0, le=366)] = 30,
    days_after: Annotated[int, Query(ge=0, le=366)] = 30,
    event_types: Annotated[list[str] | None, Query(description="Event types or groups; default weapons.")] = None,
    model: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    state = app_state(request)
    elections = list(state.holder.elections.values())
    body = upcoming_body(
        loaded,
        elections,
        date.today(),
        state.settings.upcoming_days,
        days_before,
        days_after,
        split_event_types(event_types),
        model,
    )
    return Response(body, media_type="application/json")


@router.post(
    "",
    response_model=Forecast,
    summary="Forecast for any window after the data cutoff (at most 366 days)",
    responses=error_responses(413, 422, 503),
)
async def window(request: ForecastRequest, loaded: Annotated[LoadedModel, Depends(serving_model)]) -> Response:
    body = window_body(loaded, request.start, request.end, split_event_types(request.event_types), request.model)
    return Response(body, media_type="application/json")
