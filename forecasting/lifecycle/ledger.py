"""The forecast ledger: a public, unchangeable track record of the forecasts the service published.

When a model version becomes active (the service loads it, or `provocast retrain` promotes it),
`record_version` writes its forecast for every election whose window has not closed yet (the default
window, the weapons group, the default model, with climatology's and the trailing-year rate's
probabilities beside it), and the now-casts: the next 30 and 90 days from the day it was promoted
(`next-30-days`, `next-90-days`, kind `now-cast`). Insert if absent: every worker and replica may do it.

A window closes when the history is complete through its last day: the coverage date
(`forecasting.store.live.coverage`), which an event added by hand never moves. `score_closed` then
fills the outcome once: the observed count, the Brier scores and log losses beside the baselines',
and whether the count fell inside the 80% and 95% intervals. Events added later do not change it.

Nothing here updates a forecast or deletes an entry, and the database refuses both (triggers of
migrations 0003 and 0004). The rows are read and written by `forecasting.store.ledger`; the caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.history import History
from forecasting.domain.records import ElectionRecord
from forecasting.domain.vocabulary import EVENT_GROUPS, EventGroup, ModelName
from forecasting.domain.window import WindowSpec
from forecasting.evaluation.scoring import brier, log_loss
from forecasting.features.series import daily_counts
from forecasting.models.base import ForecastRequestError
from forecasting.serving.forecaster import Forecaster, ServedForecast
from forecasting.store.columns import as_utc, utc_now
from forecasting.store.db import write_transaction
from forecasting.store.ledger import (
    LedgerEntry as LedgerEntry,  # the service's ledger routes read the entries' type from here
)
from forecasting.store.ledger import (
    count_unscored,
    fill_outcome,
    history_end,
    insert_if_absent,
    list_entries,
    unscored_entries,
)
from forecasting.store.repository import list_elections, load_history

LEDGER_GROUP = EventGroup.WEAPONS
# The now-cast windows a version records when it is promoted: the next 30 and 90 days.
NOWCAST_DAYS = (30, 90)
NOWCAST_KIND = "now-cast"


def nowcast_id(days: int) -> str:
    """The ledger's `election_id` of a now-cast entry: not an election, the window's length."""
    return f"next-{days}-days"


@dataclass(frozen=True)
class SkippedElection:
    election_id: str
    reason: str


@dataclass
class RecordResult:
    version_id: str
    recorded: list[str] = field(default_factory=list)  # election ids newly written
    already: list[str] = field(default_factory=list)  # entries that were there (this is idempotent)
    skipped: list[SkippedElection] = field(default_factory=list)

    def describe(self) -> str:
        text = f"ledger: version {self.version_id}: recorded {len(self.recorded)}, already recorded {len(self.already)}"
        return text + (f", not recordable {len(self.skipped)}" if self.skipped else "")


@dataclass
class ScoreResult:
    history_end: dt.date | None
    scored: list[LedgerEntry] = field(default_factory=list)
    waiting: int = 0  # entries whose window has not closed yet

    def describe(self) -> str:
        through = f"history through {self.history_end}" if self.history_end else "no events in the store"
        return f"ledger: scored {len(self.scored)} closed window(s), {self.waiting} still open ({through})"


@dataclass(frozen=True)
class VersionRecord:
    """A version's track record: how its scored forecasts did, beside climatology on the same windows."""

    version_id: str
    entries: int
    scored: int
    with_event: int
    mean_probability: float | None
    brier: float | None
    climatology_brier: float | None
    log_loss: float | None
    climatology_log_loss: float | None
    trailing_year_brier: float | None  # the trailing-year rate's mean Brier on the scored windows that have it
    brier_skill_vs_climatology: float | None
    coverage_80: float | None
    coverage_95: float | None
    next_close: dt.date | None  # the earliest window end still to be scored

    def in_words(self) -> str:
        if self.scored == 0:
            upcoming = f"; the first closes on {self.next_close}" if self.next_close else ""
            return (
                f"{self.entries} forecast{'s' if self.entries != 1 else ''} recorded, none scored yet: no window it "
                f"forecast has closed{upcoming}."
            )
        assert self.brier is not None and self.climatology_brier is not None and self.coverage_80 is not None
        verdict = (
            "better than"
            if self.brier < self.climatology_brier - 1e-12
            else "worse than"
            if self.brier > self.climatology_brier + 1e-12
            else "the same as"
        )
        inside = round(self.coverage_80 * self.scored)
        return (
            f"{self.scored} of {self.entries} forecasts scored (a test happened in {self.with_event} of those windows). "
            f"Mean Brier score {self.brier:.3f} against climatology's {self.climatology_brier:.3f} on the same windows "
            f"(0 is perfect, lower is better): {verdict} the long-run seasonal rate"
            + (
                f"; the rate of the previous twelve months scored {self.trailing_year_brier:.3f}"
                if self.trailing_year_brier is not None
                else ""
            )
            + ". The count fell inside the 80% "
            f"range in {inside} of {self.scored}."
            + (" Few windows have closed, so this says little yet." if self.scored < 10 else "")
        )


# --- which windows a version publishes -------------------------------------------------


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)  # as the API rounds


def _trailing_year(forecaster: Forecaster, forecast: ServedForecast) -> float | None:
    """The trailing-year rate's probability for the same window, when the version holds that model."""
    try:
        rate = forecaster.forecast(forecast.start, forecast.end, [forecast.event_group], ModelName.TRAILING_YEAR)
    except ForecastRequestError:
        return None
    return _rounded(rate.probability_any)


def _row_values(
    forecast: ServedForecast, election: ElectionRecord, version_id: str, now: dt.datetime, trailing: float | None
) -> dict[str, Any]:
    intervals = {round(i.level * 100): i for i in forecast.intervals}
    effect = forecast.election_effect
    return {
        "version_id": version_id,
        "election_id": election.id,
        "election_date": election.date,
        "country": election.country,
        "kind": election.kind,
        "window_start": forecast.start,
        "window_end": forecast.end,
        "event_group": forecast.event_group,
        "model": forecast.model,
        "data_cutoff": forecast.data_cutoff,
        "probability_any": _rounded(forecast.probability_any),
        "expected_count": _rounded(forecast.expected_count),
        "lower_80": intervals[80].lower,
        "upper_80": intervals[80].upper,
        "lower_95": intervals[95].lower,
        "upper_95": intervals[95].upper,
        "climatology_probability_any": _rounded(forecast.baseline_probability_any),
        "election_effect": _rounded(effect.ratio),
        "election_effect_lower": _rounded(effect.lower),
        "election_effect_upper": _rounded(effect.upper),
        "recorded_at": now,
        "trailing_year_probability_any": trailing,
    }


def record_version(
    session: Session,
    forecaster: Forecaster,
    elections: Iterable[ElectionRecord],
    *,
    days_before: int,
    days_after: int,
    promoted_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RecordResult:
    """Write the version's forecast for every election whose window is still open (idempotent).

    Open: the window ends after the data cutoff and after the store's history
    end. A window that had already opened by the data cutoff, or that ends
    beyond the forecast horizon, is not forecast by this version and is
    listed in `skipped`.
    """
    version_id = forecaster.version
    if not version_id:
        raise ValueError("only a registry version's forecasts go into the ledger (the forecaster has no version id)")
    now = now or utc_now()
    end_of_history = history_end(session)
    window = WindowSpec(days_before, days_after)
    result = RecordResult(version_id)
    for election in sorted(elections, key=lambda e: (e.date, e.id)):
        dates = window.around(election.date)
        start, end = dates.start, dates.end
        if end <= forecaster.cutoff or (end_of_history is not None and end <= end_of_history):
            continue  # closed: nothing to forecast
        try:
            forecast = forecaster.forecast(start, end, [LEDGER_GROUP])
        except ForecastRequestError as error:
            result.skipped.append(SkippedElection(election.id, str(error)))
            continue
        values = _row_values(forecast, election, version_id, now, _trailing_year(forecaster, forecast))
        if insert_if_absent(session, values):
            result.recorded.append(election.id)
        else:
            result.already.append(election.id)
    if promoted_on is not None:
        _record_nowcasts(session, forecaster, promoted_on, end_of_history, now, result)
    return result


def _record_nowcasts(
    session: Session,
    forecaster: Forecaster,
    promoted_on: dt.date,
    end_of_history: dt.date | None,
    now: dt.datetime,
    result: RecordResult,
) -> None:
    """The next 30 and 90 days from the day the version was promoted (after its cutoff): a record every month.

    Keyed on the promotion day, so every worker and replica that loads the version later records the same windows.
    """
    start = max(promoted_on, forecaster.cutoff + dt.timedelta(days=1))
    for days in NOWCAST_DAYS:
        end = start + dt.timedelta(days=days - 1)
        label = nowcast_id(days)
        if end_of_history is not None and end <= end_of_history:
            continue
        try:
            forecast = forecaster.forecast(start, end, [LEDGER_GROUP])
        except ForecastRequestError as error:
            result.skipped.append(SkippedElection(label, str(error)))
            continue
        anchor = ElectionRecord(label, start, "", NOWCAST_KIND, "", None)
        values = _row_values(forecast, anchor, result.version_id, now, _trailing_year(forecaster, forecast))
        if insert_if_absent(session, values):
            result.recorded.append(label)
        else:
            result.already.append(label)


# --- scoring -------------------------------------------------------------------------------


def score_closed(
    session: Session, history: History, end_of_history: dt.date | None, now: dt.datetime | None = None
) -> ScoreResult:
    """Fill the outcome of every unscored entry whose window the history's coverage now reaches.

    Only outcomes still NULL are written, so two processes scoring at once fill each entry once.
    """
    now = as_utc(now or utc_now())
    result = ScoreResult(end_of_history)
    for entry in unscored_entries(session):
        if end_of_history is None or entry.window_end > end_of_history:
            result.waiting += 1
            continue
        outcome = _outcome(entry, history, end_of_history, now)
        if fill_outcome(session, entry.id, outcome):
            result.scored.append(replace(entry, **outcome))
    return result


def _outcome(entry: LedgerEntry, history: History, end_of_history: dt.date, now: dt.datetime) -> dict[str, Any]:
    event_types = EVENT_GROUPS[entry.event_group]
    observed = int(daily_counts(history.events, event_types, entry.window_start, entry.window_end).sum())
    happened = np.array([1.0 if observed > 0 else 0.0])
    forecast = np.array([entry.probability_any])
    climatology = np.array([entry.climatology_probability_any])
    return {
        "observed_count": observed,
        "brier": round(float(brier(forecast, happened)[0]), 6),
        "log_loss": round(float(log_loss(forecast, happened)[0]), 6),
        "climatology_brier": round(float(brier(climatology, happened)[0]), 6),
        "climatology_log_loss": round(float(log_loss(climatology, happened)[0]), 6),
        "trailing_year_brier": None
        if entry.trailing_year_probability_any is None
        else round(float(brier(np.array([entry.trailing_year_probability_any]), happened)[0]), 6),
        "inside_80": entry.lower_80 <= observed <= entry.upper_80,
        "inside_95": entry.lower_95 <= observed <= entry.upper_95,
        "history_end": end_of_history,
        "scored_at": now,
    }


# --- reading -----------------------------------------------------------------------------------


def summarize(entries: Iterable[LedgerEntry]) -> list[VersionRecord]:
    """Per version (in order of first recording): the track record of its scored entries."""
    by_version: dict[str, list[LedgerEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.recorded_at, e.id)):
        by_version.setdefault(entry.version_id, []).append(entry)
    return [_version_record(version_id, items) for version_id, items in by_version.items()]


def _mean(values: list[float | None]) -> float | None:
    """The mean rounded as stored; the outcome columns of scored entries are never None."""
    known = [value for value in values if value is not None]
    return round(float(np.mean(known)), 6) if known else None


def _version_record(version_id: str, entries: list[LedgerEntry]) -> VersionRecord:
    done = [e for e in entries if e.scored]
    open_ends = [e.window_end for e in entries if not e.scored]
    brier_mean = _mean([e.brier for e in done])
    climatology = _mean([e.climatology_brier for e in done])
    skill = None if brier_mean is None or not climatology else round(1 - brier_mean / climatology, 6)
    return VersionRecord(
        version_id=version_id,
        entries=len(entries),
        scored=len(done),
        with_event=sum(1 for e in done if e.observed_any),
        mean_probability=_mean([e.probability_any for e in done]),
        brier=brier_mean,
        climatology_brier=climatology,
        log_loss=_mean([e.log_loss for e in done]),
        climatology_log_loss=_mean([e.climatology_log_loss for e in done]),
        trailing_year_brier=_mean([e.trailing_year_brier for e in done]),
        brier_skill_vs_climatology=skill,
        coverage_80=_mean([1.0 if e.inside_80 else 0.0 for e in done]),
        coverage_95=_mean([1.0 if e.inside_95 else 0.0 for e in done]),
        next_close=min(open_ends) if open_ends else None,
    )


@dataclass(frozen=True)
class TrackRecord:
    history_end: dt.date | None
    entries: list[LedgerEntry]
    versions: list[VersionRecord]


def track_record(
    session: Session, *, version_id: str | None = None, election_id: str | None = None, scored: bool | None = None
) -> TrackRecord:
    """The entries asked for, and the full record of every version (whatever the filters)."""
    entries = list_entries(session, version_id=version_id, election_id=election_id, scored=scored)
    versions = summarize(list_entries(session, version_id=version_id))
    return TrackRecord(history_end(session), entries, versions)


# --- what the service, the retrain and the CLI run ------------------------------------------------


def record_and_score(
    factory: sessionmaker[Session],
    forecaster: Forecaster | None,
    *,
    days_before: int,
    days_after: int,
    promoted_on: dt.date | None = None,
) -> tuple[RecordResult | None, ScoreResult]:
    """Record the forecaster's version (if given; its now-casts too when its promotion day is given),
    then score what has closed: two short transactions."""
    recorded = None
    if forecaster is not None:
        with write_transaction(factory) as session:
            recorded = record_version(
                session,
                forecaster,
                list_elections(session),
                days_before=days_before,
                days_after=days_after,
                promoted_on=promoted_on,
            )
    return recorded, score_pending(factory)


def score_pending(factory: sessionmaker[Session]) -> ScoreResult:
    """Score every closed window (the history is read only when some entry waits for it)."""
    with write_transaction(factory) as session:
        if not count_unscored(session):
            return ScoreResult(history_end(session))
        return score_closed(session, load_history(session), history_end(session))
