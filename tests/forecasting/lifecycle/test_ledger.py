"""The forecast ledger on SQLite and PostgreSQL: recorded once, scored once, never changed (by code or by SQL)."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import EventRecord
from forecasting.domain.vocabulary import CoverageSource
from forecasting.evaluation.scoring import PROBABILITY_CLIP
from forecasting.lifecycle import ledger
from forecasting.serving.forecaster import Forecaster
from forecasting.serving.model_set import loads
from forecasting.store import ledger as stored_ledger
from forecasting.store.db import write_transaction
from forecasting.store.live.coverage import set_coverage
from forecasting.store.repository import add_event, list_elections, load_history
from forecasting.store.seeding import seed_store
from tests.conftest import install_artifact
from tests.fixtures import shipped_seeds_dir

MIDTERM = "us-midterm-2026-11-03"
# A window short enough to close before today: 30 days before the 2026 midterm to 5 days after.
DEFAULT_WINDOW = {"days_before": 30, "days_after": 30}  # the settings' default window
SHORT = {"days_before": 30, "days_after": 5}
SHORT_WINDOW = (date(2026, 10, 4), date(2026, 11, 8))


@pytest.fixture(scope="module")
def warm_forecaster(trained_artifact: Path) -> Forecaster:
    """The run's trained model set, its default paths simulated once per module."""
    forecaster = Forecaster(loads(trained_artifact.read_text(encoding="utf-8")))
    return forecaster


@pytest.fixture
def store(sessions: sessionmaker[Session], trained_artifact: Path) -> sessionmaker[Session]:
    with write_transaction(sessions) as session:
        seed_store(session, shipped_seeds_dir())
    return sessions


@pytest.fixture
def forecaster(store: sessionmaker[Session], trained_artifact: Path, warm_forecaster: Forecaster) -> Forecaster:
    """The warm forecaster, named as the version installed (and active) in this test's store."""
    version = install_artifact(store, trained_artifact)
    named = copy.copy(warm_forecaster)
    named.version = version.id
    return named


def elections(factory: sessionmaker[Session]):
    with factory() as session:
        return list_elections(session)


def add_weapons_test(factory: sessionmaker[Session], day: date, kind: str = "ballistic_missile") -> None:
    record = EventRecord(
        id=f"{day}-{kind}",
        date=day,
        event_type=kind,
        weapons_test=True,
        count=1,
        description="Test event for the ledger tests.",
        source="tests/forecasting/test_ledger.py",
    )
    with write_transaction(factory) as session:
        add_event(session, record, "manual")


def score(session: Session) -> ledger.ScoreResult:
    return ledger.score_closed(session, load_history(session), stored_ledger.history_end(session))


def test_records_each_open_election_once_with_the_served_numbers(store, forecaster: Forecaster) -> None:
    with write_transaction(store) as session:
        first = ledger.record_version(session, forecaster, list_elections(session), **DEFAULT_WINDOW)
    cutoff = forecaster.cutoff
    open_windows = [
        e
        for e in elections(store)
        if e.date + timedelta(days=30) > cutoff
        and e.date - timedelta(days=30) > cutoff
        and e.date + timedelta(days=30) <= forecaster.last_forecast_day
    ]
    assert first.recorded == [e.id for e in sorted(open_windows, key=lambda e: (e.date, e.id))]
    assert MIDTERM in first.recorded and "us-presidential-2028-11-07" in first.recorded
    assert all("beyond the forecast horizon" in s.reason for s in first.skipped)

    with store() as session:
        entries = stored_ledger.list_entries(session)
    assert len(entries) == len(first.recorded)
    midterm = next(e for e in entries if e.election_id == MIDTERM)
    served = forecaster.forecast(date(2026, 10, 4), date(2026, 12, 3), ["weapons"])
    assert midterm.probability_any == round(served.probability_any, 6)
    assert midterm.expected_count == round(served.expected_count, 6)
    assert (midterm.lower_80, midterm.upper_80) == (served.intervals[0].lower, served.intervals[0].upper)
    assert (midterm.lower_95, midterm.upper_95) == (served.intervals[1].lower, served.intervals[1].upper)
    assert midterm.climatology_probability_any == round(served.baseline_probability_any, 6)
    trailing = forecaster.forecast(date(2026, 10, 4), date(2026, 12, 3), ["weapons"], "trailing_year")
    assert midterm.trailing_year_probability_any == round(trailing.probability_any, 6)
    assert midterm.model == served.model and midterm.event_group == "weapons"
    assert midterm.version_id == forecaster.version and midterm.data_cutoff == cutoff
    assert not midterm.scored and midterm.observed_count is None

    with write_transaction(store) as session:
        again = ledger.record_version(session, forecaster, list_elections(session), **DEFAULT_WINDOW)
    assert again.recorded == [] and again.already == first.recorded
    with store() as session:
        assert stored_ledger.list_entries(session) == entries


def cover_through(factory: sessionmaker[Session], day: date) -> None:
    """A curator vouches that the history is complete through the day (what closes windows)."""
    with write_transaction(factory) as session:
        set_coverage(session, CoverageSource.CURATOR, day, "tests", today=day)


def test_a_window_already_closed_in_the_history_is_not_recorded(store, forecaster: Forecaster) -> None:
    cover_through(store, SHORT_WINDOW[1] + timedelta(days=1))
    with write_transaction(store) as session:
        result = ledger.record_version(session, forecaster, list_elections(session), **SHORT)
    assert MIDTERM not in result.recorded + result.already
    assert "us-presidential-2028-11-07" in result.recorded


def test_a_closed_window_is_scored_once_against_what_happened(store, forecaster: Forecaster) -> None:
    with write_transaction(store) as session:
        ledger.record_version(session, forecaster, list_elections(session), **SHORT)
    with write_transaction(store) as session:
        nothing = score(session)
    assert nothing.scored == [] and nothing.waiting >= 3

    add_weapons_test(store, date(2026, 10, 10))
    add_weapons_test(store, date(2026, 10, 10), "cruise_missile")
    add_weapons_test(store, date(2026, 11, 9))  # the day after the window: not counted in it
    with write_transaction(store) as session:
        events_alone = score(session)
    assert events_alone.scored == []  # events close nothing: only coverage does
    cover_through(store, date(2026, 11, 9))
    with write_transaction(store) as session:
        result = score(session)
    assert [e.election_id for e in result.scored] == [MIDTERM]
    assert result.history_end == date(2026, 11, 9)

    with store() as session:
        (entry,) = stored_ledger.list_entries(session, election_id=MIDTERM)
    p, clim = entry.probability_any, entry.climatology_probability_any
    assert entry.observed_count == 2 and entry.observed_any is True
    assert entry.brier == pytest.approx((p - 1) ** 2, abs=1e-6)
    assert entry.log_loss == pytest.approx(-np.log(np.clip(p, PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)), abs=1e-6)
    assert entry.climatology_brier == pytest.approx((clim - 1) ** 2, abs=1e-6)
    assert entry.climatology_log_loss == pytest.approx(-np.log(clim), abs=1e-6)
    assert entry.trailing_year_probability_any is not None
    assert entry.trailing_year_brier == pytest.approx((entry.trailing_year_probability_any - 1) ** 2, abs=1e-6)
    assert entry.inside_80 == (entry.lower_80 <= 2 <= entry.upper_80)
    assert entry.inside_95 == (entry.lower_95 <= 2 <= entry.upper_95)
    assert entry.history_end == date(2026, 11, 9) and entry.scored
    assert "2 test days happened" in entry.in_words()

    # An event added later inside the closed window does not move the score: it was scored when the window closed.
    add_weapons_test(store, date(2026, 10, 20))
    with write_transaction(store) as session:
        later = score(session)
    assert later.scored == []
    with store() as session:
        assert stored_ledger.list_entries(session, election_id=MIDTERM) == [entry]


def test_the_version_record_compares_with_climatology_in_plain_words(store, forecaster: Forecaster) -> None:
    with write_transaction(store) as session:
        ledger.record_version(session, forecaster, list_elections(session), **SHORT)
    with store() as session:
        pending = ledger.track_record(session)
    (summary,) = pending.versions
    assert summary.scored == 0 and summary.brier is None and summary.next_close == SHORT_WINDOW[1]
    assert summary.in_words().endswith(
        f"none scored yet: no window it forecast has closed; the first closes on {SHORT_WINDOW[1]}."
    )

    cover_through(store, date(2026, 11, 9))  # no test inside the window: the outcome is "none"
    ledger.score_pending(store)
    with store() as session:
        record = ledger.track_record(session)
    (summary,) = record.versions
    entry = next(e for e in record.entries if e.scored)
    assert summary.scored == 1 and summary.entries == len(record.entries) and summary.with_event == 0
    assert summary.brier == pytest.approx(entry.probability_any**2, abs=1e-6)
    assert summary.climatology_brier == pytest.approx(entry.climatology_probability_any**2, abs=1e-6)
    assert summary.brier_skill_vs_climatology == pytest.approx(1 - summary.brier / summary.climatology_brier, abs=1e-6)
    assert summary.coverage_80 == (1.0 if entry.lower_80 == 0 else 0.0)
    assert summary.trailing_year_brier == entry.trailing_year_brier
    assert f"the rate of the previous twelve months scored {entry.trailing_year_brier:.3f}" in summary.in_words()
    verdict = "better than" if summary.brier < summary.climatology_brier else "worse than"
    assert f"{verdict} the long-run seasonal rate" in summary.in_words()
    assert "Few windows have closed" in summary.in_words()
    with store() as session:
        only_open = ledger.track_record(session, scored=False)
    assert all(not e.scored for e in only_open.entries) and only_open.versions == record.versions


def test_the_database_refuses_to_change_or_delete_an_entry(store, forecaster: Forecaster, store_url: str) -> None:
    with write_transaction(store) as session:
        ledger.record_version(session, forecaster, list_elections(session), **SHORT)
    refusals = {
        "DELETE FROM forecast_ledger": "never deleted",
        "UPDATE forecast_ledger SET probability_any = 0.5": "a recorded forecast is never changed",
        "UPDATE forecast_ledger SET recorded_at = recorded_at": None,  # no change: allowed
        "UPDATE forecast_ledger SET version_id = version_id, model = 'climatology'": "never changed",
        "UPDATE forecast_ledger SET trailing_year_probability_any = 0.5": "a recorded forecast is never changed",
        "UPDATE forecast_ledger SET window_end = window_end + 1"
        if "postgres" in store_url
        else "UPDATE forecast_ledger SET window_end = '2030-01-01'": "never changed",
    }
    if "postgres" in store_url:
        refusals["TRUNCATE forecast_ledger"] = "never deleted"
    for statement, message in refusals.items():
        with store() as session:
            if message is None:
                session.execute(text(statement))
                session.rollback()
                continue
            with pytest.raises(IntegrityError, match=message):
                session.execute(text(statement))
            session.rollback()

    # Outcomes are written by scoring only (migration 0005): not by hand, not in part, not made up, not pre-filled.
    where = f"WHERE election_id = '{MIDTERM}'"
    made_up = (
        "UPDATE forecast_ledger SET observed_count = 0, brier = 0, log_loss = 0, climatology_brier = 0, "
        "climatology_log_loss = 0, inside_80 = true, inside_95 = true, history_end = window_end, "
        f"scored_at = recorded_at {where}"
    )
    columns = (
        "version_id, election_date, country, kind, window_start, window_end, event_group, model, data_cutoff, "
        "probability_any, expected_count, lower_80, upper_80, lower_95, upper_95, climatology_probability_any, "
        "recorded_at"
    )
    prefilled = (
        f"INSERT INTO forecast_ledger (election_id, {columns}, observed_count) "
        f"SELECT 'made-up-election', {columns}, 0 FROM forecast_ledger {where}"
    )
    for statement in (f"UPDATE forecast_ledger SET observed_count = 1 {where}", made_up, prefilled):
        with store() as session:
            with pytest.raises(IntegrityError, match="written by scoring"):
                session.execute(text(statement))
            session.rollback()

    cover_through(store, date(2026, 11, 9))  # closes the short window, with no test inside it
    ledger.score_pending(store)
    with store() as session:
        with pytest.raises(IntegrityError, match="never changed|written by scoring"):
            session.execute(text(f"UPDATE forecast_ledger SET observed_count = 2 {where}"))
        session.rollback()
    with store() as session:
        (scored,) = stored_ledger.list_entries(session, election_id=MIDTERM)
    if scored.trailing_year_brier is None:  # a version without the trailing-year model: filled once, by hand here
        with write_transaction(store) as session:
            session.execute(text(f"UPDATE forecast_ledger SET trailing_year_brier = 0.1 {where}"))
    with store() as session:
        with pytest.raises(IntegrityError, match="an outcome is filled once and never changed"):
            session.execute(text(f"UPDATE forecast_ledger SET trailing_year_brier = 0.75 {where}"))
        session.rollback()
    with store() as session:
        (entry,) = stored_ledger.list_entries(session, election_id=MIDTERM)
        count = session.execute(text("SELECT count(*) FROM forecast_ledger")).scalar()
    assert entry.observed_count == 0 and entry.scored and count >= 3


def test_record_and_score_runs_in_its_own_transactions(store, forecaster: Forecaster) -> None:
    recorded, scored = ledger.record_and_score(store, forecaster, **DEFAULT_WINDOW)
    assert recorded is not None and MIDTERM in recorded.recorded
    assert scored.scored == [] and scored.waiting == len(recorded.recorded)
    assert "recorded" in recorded.describe() and "still open" in scored.describe()
    nothing, _ = ledger.record_and_score(store, None, **DEFAULT_WINDOW)
    assert nothing is None


def test_only_registry_versions_are_recorded(store, warm_forecaster: Forecaster) -> None:
    anonymous = copy.copy(warm_forecaster)
    anonymous.version = None
    with write_transaction(store) as session, pytest.raises(ValueError, match="no version id"):
        ledger.record_version(session, anonymous, list_elections(session), **DEFAULT_WINDOW)


def test_provocast_retrain_records_the_version_it_promotes(trained_artifact: Path) -> None:
    """The session's model set was trained by `provocast retrain --promote always`: its store holds the ledger entries."""
    from forecasting.store import registry
    from forecasting.store.db import create_session_factory, create_store_engine

    engine = create_store_engine(f"sqlite:///{trained_artifact.with_name('trained-model-set.db')}")
    try:
        with create_session_factory(engine)() as session:
            active = registry.active_version(session, with_artifact=False)
            entries = stored_ledger.list_entries(session)
    finally:
        engine.dispose()
    assert active is not None
    assert entries and {e.version_id for e in entries} == {active.id}
    assert MIDTERM in {e.election_id for e in entries} and all(not e.scored for e in entries)


def test_a_promotion_records_the_next_30_and_90_days_scored_only_once_coverage_reaches_them(
    store, forecaster: Forecaster
) -> None:
    promoted_on = date(2026, 12, 2)  # 104 days after the cutoff: the windows start on the promotion day
    with write_transaction(store) as session:
        first = ledger.record_version(
            session, forecaster, list_elections(session), promoted_on=promoted_on, **DEFAULT_WINDOW
        )
    assert {"next-30-days", "next-90-days"} <= set(first.recorded)
    with store() as session:
        nowcasts = {e.election_id: e for e in stored_ledger.list_entries(session) if e.kind == ledger.NOWCAST_KIND}
    thirty, ninety = nowcasts["next-30-days"], nowcasts["next-90-days"]
    assert (thirty.window_start, thirty.window_end) == (promoted_on, date(2026, 12, 31))
    assert (ninety.window_start, ninety.window_end) == (promoted_on, date(2027, 3, 1))
    served = forecaster.forecast(promoted_on, date(2026, 12, 31), ["weapons"])
    assert thirty.probability_any == round(served.probability_any, 6) and thirty.data_cutoff == forecaster.cutoff
    assert "awaiting data through 2026-12-31" in thirty.in_words()

    # Every worker that loads the version later records the same windows: nothing new.
    with write_transaction(store) as session:
        again = ledger.record_version(
            session, forecaster, list_elections(session), promoted_on=promoted_on, **DEFAULT_WINDOW
        )
    assert "next-30-days" in again.already and "next-30-days" not in again.recorded

    # A test inside the window is not enough: the window is scored once coverage reaches its end, not before.
    add_weapons_test(store, date(2026, 12, 10))
    cover_through(store, date(2026, 12, 30))
    with write_transaction(store) as session:
        early = score(session)
    assert "next-30-days" not in {e.election_id for e in early.scored}
    cover_through(store, date(2026, 12, 31))
    with write_transaction(store) as session:
        closed = score(session)
    scored = {e.election_id: e for e in closed.scored}
    assert scored["next-30-days"].observed_count == 1 and scored["next-30-days"].history_end == date(2026, 12, 31)
    assert "next-90-days" not in scored


def test_a_version_promoted_before_its_cutoff_day_starts_its_nowcasts_after_the_cutoff(
    store, forecaster: Forecaster
) -> None:
    with write_transaction(store) as session:
        ledger.record_version(
            session, forecaster, [], promoted_on=forecaster.cutoff - timedelta(days=3), **DEFAULT_WINDOW
        )
    with store() as session:
        starts = {e.window_start for e in stored_ledger.list_entries(session)}
    assert starts == {forecaster.cutoff + timedelta(days=1)}
