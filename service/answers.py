"""Forecast answers: the engine's forecasts shaped as response bodies, memoised per loaded version.

Nothing is fitted here. The engine answers a window in well under a
millisecond; what repeats (elections with their default windows, the upcoming
list, popular custom windows) is kept as finished JSON in the loaded
version's memo, which is dropped with the version when a new one is swapped in.
The engine's ForecastRequestError messages are passed on unchanged, with the
request field they are about.
"""

from __future__ import annotations

from datetime import date, timedelta

from forecasting.domain.records import ElectionRecord
from forecasting.domain.vocabulary import UnknownEventType
from forecasting.evaluation.report import ALL_ELECTIONS
from forecasting.models.base import ForecastRequestError
from forecasting.serving.forecaster import MAX_WINDOW_DAYS, Forecaster
from service.errors import ApiError
from service.model_holder import LoadedModel
from service.schemas import (
    BacktestForecast,
    Backtests,
    BacktestSummaryRow,
    BacktestWindow,
    Election,
    ElectionForecast,
    Forecast,
    UpcomingForecasts,
    UpcomingItem,
)

BACKTESTS_VIEW = "backtests"


def split_event_types(values: list[str] | None) -> list[str] | None:
    """`?event_types=missiles&event_types=nuclear` and `?event_types=missiles,nuclear` both work."""
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return names or None


def resolve_group(forecaster: Forecaster, event_types: list[str] | None) -> str:
    try:
        return forecaster.group_for(event_types)
    except (UnknownEventType, ForecastRequestError) as error:
        raise ApiError(422, str(error), field="event_types") from None


def _check_window(forecaster: Forecaster, start: date, end: date, start_field: str, end_field: str) -> None:
    try:
        forecaster.check_window(start, end)
    except ForecastRequestError as error:
        too_long = end < start or (end - start).days + 1 > MAX_WINDOW_DAYS
        field = start_field if not too_long and start <= forecaster.cutoff else end_field
        raise ApiError(422, str(error), field=field) from None


def _check_model(forecaster: Forecaster, group: str, model_name: str | None) -> None:
    if model_name is not None and model_name not in forecaster.available_models(group):
        raise ApiError(
            422,
            f"model {model_name!r} is not available for {group}; available: {', '.join(forecaster.available_models(group))}",
            field="model",
        )


def forecast_for(
    loaded: LoadedModel,
    start: date,
    end: date,
    group: str,
    model_name: str | None,
    start_field: str = "start",
    end_field: str = "end",
) -> Forecast:
    forecaster = loaded.forecaster
    _check_window(forecaster, start, end, start_field, end_field)
    _check_model(forecaster, group, model_name)
    try:
        served = forecaster.forecast(start, end, [group], model_name)
    except ForecastRequestError as error:
        raise ApiError(422, str(error)) from None
    return Forecast.from_served(served)


# --- the three forecast endpoints -----------------------------------------------------------


def window_body(
    loaded: LoadedModel, start: date, end: date, event_types: list[str] | None, model_name: str | None
) -> bytes:
    group = resolve_group(loaded.forecaster, event_types)
    key = ("window", start, end, group, model_name)
    body = loaded.memo.get(key)
    if body is None:
        body = loaded.memo.put(key, forecast_for(loaded, start, end, group, model_name).model_dump_json().encode())
    return body


def election_body(
    loaded: LoadedModel,
    election: ElectionRecord,
    days_before: int,
    days_after: int,
    event_types: list[str] | None,
    model_name: str | None,
) -> bytes:
    group = resolve_group(loaded.forecaster, event_types)
    key = ("election", election, days_before, days_after, group, model_name)
    body = loaded.memo.get(key)
    if body is not None:
        return body
    start, end = election.date - timedelta(days=days_before), election.date + timedelta(days=days_after)
    try:
        forecast = forecast_for(loaded, start, end, group, model_name, "days_before", "days_after")
    except ApiError as error:
        if start <= loaded.forecaster.cutoff:
            # The window had opened by the data cutoff: the models saw those days.
            error.field = "election_id" if election.date <= loaded.forecaster.cutoff else "days_before"
            error.message += f" (GET /v1/backtests?election_id={election.id})"
        raise
    answer = ElectionForecast(
        election=Election.from_record(election), days_before=days_before, days_after=days_after, forecast=forecast
    )
    return loaded.memo.put(key, answer.model_dump_json().encode())


def upcoming_body(
    loaded: LoadedModel,
    elections: list[ElectionRecord],
    today: date,
    horizon_days: int,
    days_before: int,
    days_after: int,
    event_types: list[str] | None,
    model_name: str | None,
) -> bytes:
    group = resolve_group(loaded.forecaster, event_types)
    _check_model(loaded.forecaster, group, model_name)
    last = today + timedelta(days=horizon_days)
    chosen = tuple(sorted((e for e in elections if today <= e.date <= last), key=lambda e: (e.date, e.id)))
    key = ("upcoming", today, last, chosen, days_before, days_after, group, model_name)
    body = loaded.memo.get(key)
    if body is not None:
        return body
    items = []
    for election in chosen:
        start, end = election.date - timedelta(days=days_before), election.date + timedelta(days=days_after)
        try:
            items.append(
                UpcomingItem(
                    election=Election.from_record(election),
                    forecast=forecast_for(loaded, start, end, group, model_name),
                )
            )
        except ApiError as error:
            items.append(
                UpcomingItem(election=Election.from_record(election), forecast=None, unavailable=error.message)
            )
    answer = UpcomingForecasts(
        version=loaded.id,
        data_cutoff=loaded.forecaster.cutoff,
        date_from=today,
        date_to=last,
        days_before=days_before,
        days_after=days_after,
        items=items,
    )
    return loaded.memo.put(key, answer.model_dump_json(by_alias=True).encode())


# --- backtests --------------------------------------------------------------------------------


def backtest_windows(loaded: LoadedModel) -> list[BacktestWindow]:
    """Every backtest window of the loaded version with each model's forecast and the outcome (built once)."""
    cached = loaded.extras.get(BACKTESTS_VIEW)
    if cached is not None:
        return cached
    report = loaded.forecaster.model_set.backtest
    windows = {w.id: w for w in report.windows} if report else {}
    by_window: dict[tuple[str, int], BacktestWindow] = {}
    for row in report.forecasts if report else ():
        window = windows.get(row.window_id)
        if window is None:
            continue
        key = (row.window_id, row.horizon)
        if key not in by_window:
            by_window[key] = BacktestWindow(
                window_id=window.id,
                group=window.group,
                election_id=window.election_id,
                election_date=window.election_date,
                start=window.start,
                end=window.end,
                horizon_days=row.horizon,
                observed_count=row.observed_count,
                forecasts=[],
            )
        by_window[key].forecasts.append(
            BacktestForecast(
                model=row.model,
                cutoff=row.cutoff,
                probability_any=row.probability_any,
                expected_count=row.expected_count,
                election_effect=row.election_effect,
                brier=row.brier,
                log_loss=row.log_loss,
                replaced_by_climatology=row.replaced,
            )
        )
    built = sorted(by_window.values(), key=lambda w: (w.start, w.window_id, w.horizon_days))
    loaded.extras[BACKTESTS_VIEW] = built
    return built


def backtests_answer(
    loaded: LoadedModel,
    election_id: str | None,
    model_name: str | None,
    group: str | None,
    include_control: bool,
) -> Backtests:
    report = loaded.forecaster.model_set.backtest
    items = []
    for window in backtest_windows(loaded):
        if election_id is not None and window.election_id != election_id:
            continue
        if group is not None and window.group != group:
            continue
        if window.election_id is None and not include_control and group is None:
            continue
        if model_name is not None:
            window = window.model_copy(update={"forecasts": [f for f in window.forecasts if f.model == model_name]})
        items.append(window)
    summary = [
        BacktestSummaryRow(**row.to_dict())
        for row in (report.summary if report else ())
        if row.group == ALL_ELECTIONS and (model_name is None or row.model == model_name)
    ]
    horizons = report.config.horizons if report and report.config.horizons else (None,)
    return Backtests(
        version=loaded.id,
        data_cutoff=loaded.forecaster.cutoff,
        horizon_days=horizons[0],
        summary=summary,
        items=items,
    )
