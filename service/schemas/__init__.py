"""Request and response bodies of the HTTP API (pydantic lives here, at the edge, and nowhere else).

One module per resource. Response models are built from the engine's and the
store's plain dataclasses with `Model.model_validate(obj)` (`from_attributes`);
nothing here computes a forecast.
"""

from service.schemas.backtests import BacktestForecast, Backtests, BacktestSummaryRow, BacktestWindow
from service.schemas.elections import Election, ElectionForecast, ElectionList, UpcomingForecasts, UpcomingItem
from service.schemas.errors import ErrorBody, ErrorDetail, error_responses
from service.schemas.events import Event, EventIn, EventPage
from service.schemas.forecasts import (
    CountInterval,
    DailyIntensity,
    ElectionEffect,
    Forecast,
    ForecastRequest,
    Skill,
    Window,
)
from service.schemas.health import Health, Readiness
from service.schemas.ledger import Ledger, LedgerEntryOut, VersionRecordOut
from service.schemas.live import CoverageOut, ServedHistory, Status, SyncRunList, SyncRunOut
from service.schemas.models import (
    JobList,
    JobOut,
    ModelList,
    ModelMetrics,
    ModelVersionDetail,
    ModelVersionOut,
    RetrainRequest,
)

__all__ = [
    "BacktestForecast",
    "BacktestSummaryRow",
    "BacktestWindow",
    "Backtests",
    "CountInterval",
    "CoverageOut",
    "DailyIntensity",
    "Election",
    "ElectionEffect",
    "ElectionForecast",
    "ElectionList",
    "ErrorBody",
    "ErrorDetail",
    "Event",
    "EventIn",
    "EventPage",
    "Forecast",
    "ForecastRequest",
    "Health",
    "JobList",
    "JobOut",
    "Ledger",
    "LedgerEntryOut",
    "ModelList",
    "ModelMetrics",
    "ModelVersionDetail",
    "ModelVersionOut",
    "Readiness",
    "RetrainRequest",
    "ServedHistory",
    "Skill",
    "Status",
    "SyncRunList",
    "SyncRunOut",
    "UpcomingForecasts",
    "UpcomingItem",
    "VersionRecordOut",
    "Window",
    "error_responses",
]
