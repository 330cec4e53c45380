from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.history import History
from forecasting.domain.records import EventRecord, read_events_csv
from forecasting.domain.vocabulary import Origin, resolve_event_types
from forecasting.store.db import write_transaction
from forecasting.store.repository import (
    ChangedEvents,
    DuplicateEvent,
    EventFilter,
    add_event,
    count_events,
    event_records,
    get_election,
    get_event,
    list_elections,
    list_events,
    list_exercises,
    load_history,
    upsert_events,
)
from forecasting.store.seeding import seed_store
from tests.fixtures import FIXTURE_SEEDS

FIXTURE_EVENTS = read_events_csv(FIXTURE_SEEDS / "events.csv")
NUCLEAR_TEST_DAYS = [
    date(2006, 10, 9),
    date(2009, 5, 25),
    date(2013, 2, 12),
    date(2016, 1, 6),
    date(2016, 9, 9),
    date(2017, 9, 3),
]


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with write_transaction(sessions) as session:
        seed_store(session, FIXTURE_SEEDS)
    return sessions


def new_event(**changes: object) -> EventRecord:
    base = EventRecord(
        id="2024-01-14-hypersonic_missile",
        date=date(2024, 1, 14),
        event_type="hypersonic_missile",
        weapons_test=True,
        count=1,
        description="Solid-fuel IRBM with a hypersonic warhead.",
        source="test source",
    )
    return replace(base, **changes)


def test_list_filters_by_type_group_weapons_and_dates(seeded: sessionmaker[Session]) -> None:
    with write_transaction(seeded) as session:
        assert len(list_events(session)) == count_events(session) == len(FIXTURE_EVENTS)

        nuclear = list_events(session, EventFilter(event_types=resolve_event_types(["nuclear"])))
        assert [e.record.date for e in nuclear] == NUCLEAR_TEST_DAYS

        not_weapons = list_events(session, EventFilter(weapons_test=False))
        assert {e.record.event_type for e in not_weapons} == {"armed_clash", "harassment"}

        window = EventFilter(date_from=date(2016, 1, 6), date_to=date(2017, 9, 3))
        assert [e.record.id for e in list_events(session, window)] == [
            "2016-01-06-nuclear_test",
            "2016-09-09-nuclear_test",
            "2017-09-03-nuclear_test",
        ]
        combined = EventFilter(event_types=("nuclear_test", "ballistic_missile"), date_from=date(2017, 1, 1))
        assert count_events(session, combined) == 2


def test_list_pages_in_order(seeded: sessionmaker[Session]) -> None:
    nuclear = EventFilter(event_types=("nuclear_test",))
    with write_transaction(seeded) as session:
        first = list_events(session, nuclear, limit=4)
        rest = list_events(session, nuclear, limit=4, offset=4)
        newest = list_events(session, nuclear, limit=2, newest_first=True)
    assert [e.record.date for e in first + rest] == NUCLEAR_TEST_DAYS
    assert [e.record.date for e in newest] == NUCLEAR_TEST_DAYS[::-1][:2]


def test_get_event_returns_record_and_origin(seeded: sessionmaker[Session]) -> None:
    with write_transaction(seeded) as session:
        stored = get_event(session, "2017-09-03-nuclear_test")
        assert get_event(session, "no-such-event") is None
    assert stored is not None
    assert stored.record == next(e for e in FIXTURE_EVENTS if e.id == "2017-09-03-nuclear_test")
    assert stored.origin == "seed"
    assert stored.created_at.utcoffset() == stored.updated_at.utcoffset() == timedelta(0)


def test_add_event_refuses_an_existing_id(seeded: sessionmaker[Session]) -> None:
    with write_transaction(seeded) as session:
        add_event(session, new_event())
    with pytest.raises(DuplicateEvent) as caught:
        with write_transaction(seeded) as session:
            add_event(session, new_event(description="another text"))
    assert caught.value.field == "id"
    assert "already in the store (origin manual)" in caught.value.message
    with write_transaction(seeded) as session:
        stored = get_event(session, new_event().id)
    assert stored is not None and stored.record == new_event() and stored.origin == "manual"


def test_upsert_inserts_new_keeps_identical_and_refuses_changed(seeded: sessionmaker[Session]) -> None:
    changed = replace(FIXTURE_EVENTS[0], count=2)
    with pytest.raises(ChangedEvents) as caught:
        with write_transaction(seeded) as session:
            upsert_events(session, [new_event(), FIXTURE_EVENTS[1], changed], "import")
    assert [(c.incoming.id, c.fields, c.stored_origin) for c in caught.value.changes] == [
        (changed.id, ("count",), "seed")
    ]
    with write_transaction(seeded) as session:
        assert get_event(session, new_event().id) is None  # refused as a whole

        report = upsert_events(session, [new_event(), FIXTURE_EVENTS[1]], "import")
    assert (report.inserted, report.updated, report.unchanged) == ([new_event().id], [], [FIXTURE_EVENTS[1].id])


def test_upsert_replacing_a_seed_row_makes_it_a_user_row(seeded: sessionmaker[Session]) -> None:
    changed = replace(FIXTURE_EVENTS[0], description="Corrected text")
    with write_transaction(seeded) as session:
        before = get_event(session, changed.id)
        report = upsert_events(session, [changed], "import", replace_changed=True)
    with write_transaction(seeded) as session:
        after = get_event(session, changed.id)
    assert report.updated == [changed.id]
    assert before is not None and after is not None
    assert after.record == changed and after.origin == "import"
    assert after.created_at == before.created_at and after.updated_at > before.updated_at


def test_dry_run_upsert_writes_nothing(seeded: sessionmaker[Session]) -> None:
    changed = replace(FIXTURE_EVENTS[0], description="Corrected text")
    with write_transaction(seeded) as session:
        report = upsert_events(session, [new_event(), changed], "import", replace_changed=True, dry_run=True)
    assert (report.inserted, report.updated) == ([new_event().id], [changed.id])
    with write_transaction(seeded) as session:
        assert event_records(session) == sorted(FIXTURE_EVENTS, key=lambda e: (e.date, e.id))


def test_elections_and_exercises_queries(seeded: sessionmaker[Session]) -> None:
    with write_transaction(seeded) as session:
        korean = list_elections(session, country="KR")
        recent = list_elections(session, date_from=date(2024, 1, 1), date_to=date(2024, 12, 31))
        snap = get_election(session, "kr-presidential-2025")
        summer = list_exercises(session, date_from=date(2024, 8, 25), date_to=date(2024, 9, 30))
        every = list_exercises(session)
    assert [e.id for e in korean] == [
        "kr-legislative-2020",
        "kr-presidential-2022",
        "kr-legislative-2024",
        "kr-presidential-2025",
    ]
    assert [e.id for e in recent] == ["kr-legislative-2024", "us-presidential-2024"]
    assert snap is not None and snap.announced == date(2025, 4, 8)
    assert [x.id for x in summer] == ["ulchi-freedom-shield-2024"]
    assert [x.id for x in every] == ["freedom-shield-2024", "ulchi-freedom-shield-2024"]


# --- the models' history -----------------------------------------------------------------


def test_history_from_the_store_equals_history_from_the_seed_files(sessions: sessionmaker[Session]) -> None:
    with write_transaction(sessions) as session:
        seed_store(session, FIXTURE_SEEDS)
    with write_transaction(sessions) as session:
        loaded = load_history(session)
    expected = History.from_seed_files(FIXTURE_SEEDS)

    pd.testing.assert_frame_equal(loaded.events, expected.events)
    pd.testing.assert_frame_equal(loaded.elections, expected.elections)
    pd.testing.assert_frame_equal(loaded.exercises, expected.exercises)
    assert loaded.events["count"].isna().sum() == 2  # unknown counts stay missing, not zero
    assert loaded.elections.set_index("id").loc["kr-presidential-2025", "announced"] == pd.Timestamp("2025-04-08")


def test_empty_store_gives_an_empty_history(sessions: sessionmaker[Session]) -> None:
    with write_transaction(sessions) as session:
        history = load_history(session)
    assert history.events.empty and history.elections.empty and history.exercises.empty
    assert list(history.events.columns) == ["id", "date", "event_type", "weapons_test", "count"]


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_page_of_events_reads_the_date_id_index_in_order_without_sorting(
    sessions: sessionmaker[Session], newest_first: bool
) -> None:
    """Many events on one date (a bulk import, the benchmark's soak) must not make every page sort them all."""
    with write_transaction(sessions) as session:
        seed_store(session, FIXTURE_SEEDS)
        many = [replace(FIXTURE_EVENTS[0], id=f"same-day-{i:04d}") for i in range(300)]
        upsert_events(session, many, Origin.MANUAL)
        ordered = sorted((e.date, e.id) for e in event_records(session))
    with sessions() as session:
        page = list_events(session, limit=20, offset=150, newest_first=newest_first)
        expected = (ordered[::-1] if newest_first else ordered)[150:170]
        assert [(e.record.date, e.record.id) for e in page] == expected
        bind = session.get_bind()
        if bind.dialect.name == "sqlite":
            order = "date DESC, id DESC" if newest_first else "date, id"
            plan = " ".join(
                str(row[-1])
                for row in session.connection().exec_driver_sql(
                    f"EXPLAIN QUERY PLAN SELECT * FROM events ORDER BY {order} LIMIT 20 OFFSET 150"
                )
            )
            assert "ix_events_date_id" in plan and "TEMP B-TREE" not in plan, plan
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(bind).get_indexes("events")}
        assert indexes["ix_events_date_id"] == ["date", "id"] and "ix_events_date" not in indexes
