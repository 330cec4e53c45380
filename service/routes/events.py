"""`/v1/events`: the provocation history, filtered and paged; new events with a token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from forecasting.domain.records import ID_PATTERN, event_from_row, parse_event_type
from forecasting.domain.vocabulary import EVENT_TYPES, Origin, resolve_event_types
from forecasting.store.live.sync_runs import list_runs
from forecasting.store.repository import EventFilter, add_event, count_events, delete_event, list_events
from service.deps import AppSettings, ReadSession, WriteSession, require_token
from service.errors import ApiError
from service.observability import request_id
from service.queries import EventTypes, split_event_types
from service.schemas import Event, EventIn, EventPage, SyncRunList, SyncRunOut, error_responses
from service.schemas.rules import PAGE_SIZE_CEILING, IsoDate

router = APIRouter(prefix="/v1/events", tags=["events"])

MAX_OFFSET = 1_000_000


@router.get(
    "", name="list", response_model=EventPage, summary="Events, newest first", responses=error_responses(422, 503)
)
def events(
    settings: AppSettings,
    session: ReadSession,
    event_types: EventTypes = None,
    weapons_test: Annotated[
        bool | None, Query(description="Only weapons tests (true) or only other events (false).")
    ] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="First day (YYYY-MM-DD).")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Last day (YYYY-MM-DD).")] = None,
    limit: Annotated[
        int,
        Query(ge=1, le=PAGE_SIZE_CEILING, description="Page size, at most PROVOCAST_MAX_PAGE_SIZE (500 unless set)."),
    ] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> EventPage:
    largest = settings.max_page_size
    if limit > largest:
        raise ApiError(422, f"field 'limit': at most {largest}", field="limit")
    names = split_event_types(event_types)
    types = resolve_event_types(names) if names else None
    where = EventFilter(event_types=types, weapons_test=weapons_test, date_from=date_from, date_to=date_to)
    items = list_events(session, where, limit=limit, offset=offset, newest_first=True)
    total = count_events(session, where)
    following = offset + len(items)
    return EventPage(
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total else None,
        items=[Event.model_validate(e) for e in items],
    )


@router.post(
    "",
    response_model=Event,
    status_code=201,
    summary="Add one event (origin manual); needs the bearer token",
    description="Validated exactly as `provocast events add`: an id already stored answers 409.",
    dependencies=[Depends(require_token)],
    responses=error_responses(401, 403, 409, 413, 422, 503),
)
def add(body: EventIn, response: Response, session: WriteSession) -> Event:
    kind = parse_event_type(body.event_type)
    record = event_from_row(body.as_row(EVENT_TYPES[kind].weapons_test_default))
    stored = add_event(session, record, Origin.MANUAL)
    response.headers["Location"] = f"/v1/events?from={record.date}&to={record.date}"
    return Event.model_validate(stored)


@router.delete(
    "/{event_id}",
    name="delete",
    response_model=Event,
    summary="Delete a manual or imported event; needs the bearer token",
    description=(
        "Answers with the event as it was. The row is kept in the deletion audit (who, when, the row). Seed events "
        "are corrected in seeds/events.csv and synced ones at their source: deleting one answers 409. "
        "The forecast ledger never changes."
    ),
    dependencies=[Depends(require_token)],
    responses=error_responses(401, 403, 404, 409, 503),
)
def delete(
    request: Request,
    session: WriteSession,
    event_id: Annotated[str, Path(max_length=100, pattern=ID_PATTERN.pattern, description="The event's id.")],
) -> Event:
    client = request.client.host if request.client else "unknown"
    stored = delete_event(session, event_id, f"api:{client} request {request_id.get() or '-'}")
    return Event.model_validate(stored)


sync_router = APIRouter(prefix="/v1/sync-runs", tags=["events"])


@sync_router.get(
    "",
    name="sync_runs",
    response_model=SyncRunList,
    summary="The recorded syncs of the CSIS database, newest first (`provocast events sync --history`)",
    responses=error_responses(422, 503),
)
def sync_runs(
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SyncRunList:
    return SyncRunList(items=[SyncRunOut.model_validate(run) for run in list_runs(session, limit=limit, offset=offset)])
