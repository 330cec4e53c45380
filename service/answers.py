"""Forecast answers: one function per question, the engine's forecast shaped as a response body, memoised.

Nothing is fitted here. The engine answers a window in well under a
millisecond; what repeats (elections with their default windows, the upcoming
list, popular custom windows) is kept as finished JSON in the loaded
version's memo, which is dropped with the version when a new one is swapped in.
A question the version cannot answer raises the engine's ForecastRejected,
which names the request field at fault (service.errors maps it to a 422).

Every forecast body says how old its history is (`history_age_days`) and the
now-cast starts today, so bodies depend on the day: each answer function takes
the request's `Freshness` (today's date and the stale threshold, from
`service.deps.Fresh`) and keys its memo on it. Nothing else here reads the clock.
"""

from __future__ import annotations

from datetime import timedelta

from forecasting.domain.records import ElectionRecord
from forecasting.domain.window import DateWindow
from forecasting.evaluation.report import ALL_ELECTIONS
from forecasting.models.base import ForecastRequestError
from forecasting.serving.forecaster import WindowQuery
from forecasting.serving.payload import Freshness
from service.model_holder import LoadedModel
from service.queries import ElectionQuery, NextQuery, UpcomingQuery
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


def answer_window(loaded: LoadedModel, query: WindowQuery, fresh: Freshness) -> bytes:
    key = ("window", query, fresh)
    body = loaded.memo.get(key)
    if body is None:
        body = loaded.memo.put(key, _forecast(loaded, query, fresh).model_dump_json().encode())
    return body


def next_window(loaded: LoadedModel, query: NextQuery, fresh: Freshness) -> WindowQuery:
    """The now-cast's window: `days` days from today (from the day after the cutoff if the history reaches today)."""
    start = max(fresh.today, loaded.forecaster.cutoff + timedelta(days=1))
    return WindowQuery(DateWindow(start, start + timedelta(days=query.days - 1)), query.group, query.model)


def answer_next(loaded: LoadedModel, query: NextQuery, fresh: Freshness) -> bytes:
    """The chance of an event in the next `days` days from today; its horizon is counted from the coverage date."""
    return answer_window(loaded, next_window(loaded, query, fresh), fresh)


def answer_election(loaded: LoadedModel, query: ElectionQuery, fresh: Freshness) -> bytes:
    key = ("election", query, fresh)
    body = loaded.memo.get(key)
    if body is None:
        answer = ElectionForecast(
            election=Election.model_validate(query.election),
            days_before=query.spec.days_before,
            days_after=query.spec.days_after,
            forecast=_forecast(loaded, query.window_query, fresh),
        )
        body = loaded.memo.put(key, answer.model_dump_json().encode())
    return body


def answer_upcoming(loaded: LoadedModel, query: UpcomingQuery, fresh: Freshness) -> bytes:
    loaded.forecaster.check_model(query.group, query.model)
    chosen = query.elections
    key = ("upcoming", query.first_day, query.last_day, chosen, query.spec, query.group, query.model, fresh)
    body = loaded.memo.get(key)
    if body is None:
        answer = UpcomingForecasts(
            version=loaded.id,
            data_cutoff=loaded.forecaster.cutoff,
            date_from=query.first_day,
            date_to=query.last_day,
            days_before=query.spec.days_before,
            days_after=query.spec.days_after,
            items=[_upcoming_item(loaded, query, election, fresh) for election in chosen],
        )
        body = loaded.memo.put(key, answer.model_dump_json(by_alias=True).encode())
    return body


def _upcoming_item(
    loaded: LoadedModel, query: UpcomingQuery, election: ElectionRecord, fresh: Freshness
) -> UpcomingItem:
    window = WindowQuery(query.spec.around(election.date), query.group, query.model)
    try:
        forecast = _forecast(loaded, window, fresh)
    except ForecastRequestError as error:
        return UpcomingItem(election=Election.model_validate(election), forecast=None, unavailable=str(error))
    return UpcomingItem(election=Election.model_validate(election), forecast=forecast)


def _forecast(loaded: LoadedModel, query: WindowQuery, fresh: Freshness) -> Forecast:
    return Forecast.from_served(loaded.forecaster.answer(query), fresh)


# --- backtests --------------------------------------------------------------------------------


def backtest_windows(loaded: LoadedModel) -> list[BacktestWindow]:
    """Every backtest window of the loaded version with each model's forecast and the outcome (built once)."""
    cached = loaded.backtest_windows
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
        by_window[key].forecasts.append(BacktestForecast.model_validate(row))
    built = sorted(by_window.values(), key=lambda w: (w.start, w.window_id, w.horizon_days))
    loaded.backtest_windows = built
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
