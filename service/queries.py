"""The forecast questions a request asks, parsed and validated once by a dependency.

A route takes one query object (`WindowQuery`, `ElectionQuery`, `UpcomingQuery`)
and hands it to the one function in `service.answers` that answers it. Parsing
here resolves the event types to a group the serving version has fitted and the
window's defaults from settings; the version checks the window and the model
when it answers (`Forecaster.check`), naming the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request

from forecasting.domain.records import ElectionRecord
from forecasting.domain.vocabulary import ChartWindow, ModelName, UnknownEventType
from forecasting.domain.window import DateWindow, WindowSpec
from forecasting.serving.forecaster import MAX_WINDOW_DAYS, ElectionAnchor, Forecaster, WindowQuery
from forecasting.settings import Settings
from service.deps import Election, Loaded, app_state
from service.errors import ApiError
from service.schemas import ForecastRequest
from service.schemas.rules import VOCABULARY_NOTE, EventTypeName
from service.settings import ServiceSettings

MAX_SPEC_DAYS = 366


@dataclass(frozen=True)
class ElectionQuery:
    """The forecast around one election: `spec` days either side of election day."""

    election: ElectionRecord
    spec: WindowSpec
    group: str  # an event group or a union of event types (`Forecaster.group_for`)
    model: str | None

    @property
    def window_query(self) -> WindowQuery:
        anchor = ElectionAnchor(self.election.id, self.election.date)
        return WindowQuery(self.spec.around(self.election.date), self.group, self.model, anchor)


@dataclass(frozen=True)
class NextQuery:
    """The now-cast: the next `days` days from today (the window itself is set by `service.answers.next_window`)."""

    days: int
    group: str  # an event group or a union of event types (`Forecaster.group_for`)
    model: str | None


@dataclass(frozen=True)
class UpcomingQuery:
    """The forecast around every election of the calendar from `first_day` to `last_day`."""

    calendar: tuple[ElectionRecord, ...]
    first_day: date
    last_day: date
    spec: WindowSpec
    group: str  # an event group or a union of event types (`Forecaster.group_for`)
    model: str | None

    @property
    def elections(self) -> tuple[ElectionRecord, ...]:
        chosen = (e for e in self.calendar if self.first_day <= e.date <= self.last_day)
        return tuple(sorted(chosen, key=lambda e: (e.date, e.id)))


def split_event_types(values: list[str] | None) -> list[str] | None:
    """`?event_types=missiles&event_types=nuclear` and `?event_types=missiles,nuclear` both work.

    Spaces around a name are dropped; an empty name (`event_types=` or `missiles,,nuclear`) is refused.
    """
    if not values:
        return None
    names = [name.strip(" ") for value in values for name in value.split(",")]
    if not all(names):
        raise UnknownEventType(
            f"an empty event type or group in {values!r}; expected names such as weapons or missiles"
        )
    return names


def upcoming_query(
    forecaster: Forecaster,
    calendar: list[ElectionRecord],
    settings: ServiceSettings,
    spec: WindowSpec | None = None,
    event_types: list[str] | None = None,
    model: str | None = None,
) -> UpcomingQuery:
    today = date.today()
    return UpcomingQuery(
        calendar=tuple(calendar),
        first_day=today,
        last_day=today + timedelta(days=settings.upcoming_days),
        spec=spec or default_spec(settings),
        group=forecaster.group_for(split_event_types(event_types)),
        model=model,
    )


def default_spec(settings: Settings) -> WindowSpec:
    return WindowSpec(settings.default_days_before, settings.default_days_after)


# --- the query parameters and the dependencies that parse them ---------------------------------


def _default_note(setting: str) -> str:
    default = Settings.model_fields[setting].default
    return f"default: the PROVOCAST_{setting.upper()} setting ({default} unless set)"


DaysBefore = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_SPEC_DAYS,
        description=f"Window opens this many days before election day; {_default_note('default_days_before')}.",
    ),
]
DaysAfter = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_SPEC_DAYS,
        description=f"Window closes this many days after; {_default_note('default_days_after')}.",
    ),
]
EventTypes = Annotated[
    list[EventTypeName] | None,
    Query(
        max_length=20,
        description=f"Event types, groups or any union of them, repeated or comma-separated; default weapons. A union with too few events is refused (422) naming the count. {VOCABULARY_NOTE}",
    ),
]
ModelParam = Annotated[ModelName | None, Query(description="Model name; default: the version's default.")]


def _spec(request: Request, days_before: int | None, days_after: int | None) -> WindowSpec:
    # A plain function, not a sub-dependency: each nested dependency costs a resolution on the hottest routes.
    settings = app_state(request).settings
    return WindowSpec(
        settings.default_days_before if days_before is None else days_before,
        settings.default_days_after if days_after is None else days_after,
    )


async def _window_query(body: ForecastRequest, loaded: Loaded) -> WindowQuery:
    group = loaded.forecaster.group_for(split_event_types(body.event_types))
    return WindowQuery(DateWindow(body.start, body.end), group, body.model)


async def _election_query(
    request: Request,
    loaded: Loaded,
    election: Election,
    days_before: DaysBefore = None,
    days_after: DaysAfter = None,
    event_types: EventTypes = None,
    model: ModelParam = None,
) -> ElectionQuery:
    spec = _spec(request, days_before, days_after)
    return ElectionQuery(election, spec, loaded.forecaster.group_for(split_event_types(event_types)), model)


# The chart windows besides the default (the settings' window): days before and after election day.
CHART_WINDOWS: dict[ChartWindow, WindowSpec] = {
    ChartWindow.TWO_WEEKS: WindowSpec(14, 14),
    ChartWindow.QUARTER: WindowSpec(45, 45),
}
CHART_WINDOW_NOTE = "; ".join(
    [
        f"{ChartWindow.DEFAULT}: the default window (PROVOCAST_DEFAULT_DAYS_BEFORE and _AFTER, "
        f"{Settings.model_fields['default_days_before'].default} and "
        f"{Settings.model_fields['default_days_after'].default} unless set)"
    ]
    + [f"{name}: {spec.days_before} days before to {spec.days_after} after" for name, spec in CHART_WINDOWS.items()]
)


async def _election_chart_query(
    request: Request,
    loaded: Loaded,
    election: Election,
    window: Annotated[ChartWindow, Query(description=f"A named window. {CHART_WINDOW_NOTE}.")] = ChartWindow.DEFAULT,
) -> ElectionQuery:
    """The chart shows the default group with the version's default model, for a named window only."""
    for name in ("days_before", "days_after"):
        if name in request.query_params:
            raise ApiError(
                422,
                f"field '{name}': charts are drawn for named windows only; use window={'|'.join(ChartWindow)}",
                field=name,
            )
    spec = CHART_WINDOWS.get(window) or default_spec(app_state(request).settings)
    return ElectionQuery(election, spec, loaded.forecaster.group_for(None), None)


async def _upcoming_query(
    request: Request,
    loaded: Loaded,
    days_before: DaysBefore = None,
    days_after: DaysAfter = None,
    event_types: EventTypes = None,
    model: ModelParam = None,
) -> UpcomingQuery:
    spec = _spec(request, days_before, days_after)
    state = app_state(request)
    return upcoming_query(
        loaded.forecaster, list(state.holder.elections.values()), state.settings, spec, event_types, model
    )


async def _next_query(
    loaded: Loaded,
    days: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_WINDOW_DAYS,
            description=f"How many days from today (1 to {MAX_WINDOW_DAYS}); the dashboard shows 30, 60 and 90.",
        ),
    ] = 30,
    event_types: EventTypes = None,
    model: ModelParam = None,
) -> NextQuery:
    return NextQuery(days, loaded.forecaster.group_for(split_event_types(event_types)), model)


WindowQueryParam = Annotated[WindowQuery, Depends(_window_query)]
NextQueryParam = Annotated[NextQuery, Depends(_next_query)]
ElectionQueryParam = Annotated[ElectionQuery, Depends(_election_query)]
ElectionChartQueryParam = Annotated[ElectionQuery, Depends(_election_chart_query)]
UpcomingQueryParam = Annotated[UpcomingQuery, Depends(_upcoming_query)]
