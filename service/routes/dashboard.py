"""`/`: the dashboard, a server-rendered page (Jinja2, no JavaScript) for readers who are not statisticians.

Every number on it comes from the same objects the API serves: the upcoming
forecasts are the `/v1/forecasts/upcoming` body (parsed back from the same
memoised JSON), the model is the `/v1/models` view of the serving version,
and the ledger is the `/v1/ledger` answer. Plain words stand beside each
number (`forecasting.serving.plain_words`). With the store down, the page still shows
the forecasts and says which parts it could not read.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from forecasting.lifecycle import ledger
from forecasting.serving import plain_words
from forecasting.store.repository import EventFilter, list_events
from service.answers import answer_next, answer_upcoming
from service.deps import AppSettings, Holder, ReadSession, freshness
from service.errors import StoreErrors, store_error_detail
from service.model_holder import LoadedModel
from service.queries import NextQuery, upcoming_query
from service.routes.ledger import track_record_answer
from service.schemas import Event, Forecast, ModelVersionOut, UpcomingForecasts

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates


@cache
def templates() -> Jinja2Templates:
    """The dashboard's templates, built on the first page asked for (jinja2 is not imported at start-up)."""
    from fastapi.templating import Jinja2Templates

    built = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
    built.env.filters.update(
        percent=plain_words.percent,
        chance=plain_words.chance,
        effect_words=plain_words.election_effect,
        skill_words=plain_words.skill,
        interval_words=plain_words.interval,
        sentence=lambda text: text[:1].upper() + text[1:],
    )
    built.env.globals.update(compared_with_usual=plain_words.compared_with_usual)
    return built


RECENT_EVENTS = 12
NOWCAST_DAYS = (30, 60, 90)
COUNTRY_NAMES = {"KR": "South Korea", "US": "United States"}
KIND_NAMES = {
    "legislative": "legislative (National Assembly)",
    "presidential": "presidential",
    "local": "local",
    "midterm": "midterm (Congress)",
}

log = logging.getLogger("provocast.service")
router = APIRouter(include_in_schema=False)

# Swagger UI and ReDoc, served by the app from the assets the fastapi-offline package ships (not from a CDN), so
# that /docs and /redoc work offline and their pages load scripts from this origin only.
DOCS_ASSETS_URL = "/docs-assets"
DOCS_ASSETS = StaticFiles(directory=Path(fastapi_offline.__file__).resolve().parent / "static")


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, holder: Holder, settings: AppSettings, session: ReadSession) -> HTMLResponse:
    loaded = holder.current
    if loaded is None:
        reason = holder.not_ready_reason() or "no model is loaded"
        return templates().TemplateResponse(
            request,
            "not_ready.html",
            {"reason": reason},
            status_code=503,
            headers={"Retry-After": "10", "Refresh": "10"},
        )
    request.state.model_version = loaded.id
    query = upcoming_query(loaded.forecaster, list(holder.elections.values()), settings)
    fresh = freshness(settings)
    upcoming = UpcomingForecasts.model_validate_json(answer_upcoming(loaded, query, fresh))
    group = loaded.forecaster.group_for(None)
    nowcasts = [
        Forecast.model_validate_json(answer_next(loaded, NextQuery(days, group, None), fresh)) for days in NOWCAST_DAYS
    ]
    cutoff = loaded.forecaster.cutoff
    context: dict[str, Any] = {
        "today": query.first_day,
        "nowcasts": nowcasts,
        "history_age_days": fresh.age_days(cutoff),
        "stale": fresh.is_stale(cutoff),
        "stale_after_days": fresh.stale_after_days,
        "upcoming": upcoming,
        "model": ModelVersionOut.of(loaded.version, loaded.id),
        "backtest_windows": _backtest_windows(loaded),
        "countries": COUNTRY_NAMES,
        "kinds": KIND_NAMES,
        "store_problems": [],
    }
    try:
        stored = list_events(session, EventFilter(weapons_test=True), limit=RECENT_EVENTS, newest_first=True)
        context["events"] = [Event.model_validate(e) for e in stored]
        context["ledger"] = track_record_answer(ledger.track_record(session))
    except StoreErrors as error:
        detail = store_error_detail(error)
        log.warning("dashboard: the store could not be read: %s", detail)
        context.update(events=None, ledger=None)
        context["store_problems"].append(
            f"the store could not be read ({detail}), so recent events and the track record are missing"
        )
    return templates().TemplateResponse(request, "dashboard.html", context)


def _backtest_windows(loaded: LoadedModel) -> int | None:
    skill = loaded.version.default_skill
    return None if skill is None else int(skill["election_windows"])
