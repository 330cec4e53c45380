"""Seed files are validated row by row before anything is written; the shipped seeds pass."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import RecordFileError
from forecasting.domain.vocabulary import EVENT_TYPES
from forecasting.store.db import write_transaction
from forecasting.store.repository import count_events, event_records, list_elections, list_exercises, load_history
from forecasting.store.seeding import read_seed_files, seed_store
from tests.fixtures import EVENT_HEADER, copy_fixture_seeds, shipped_seeds_dir

GOOD_ROW = "2017-09-03-nuclear_test,2017-09-03,nuclear_test,true,1,Sixth nuclear test.,CSIS database"
# Tomorrow is the latest date an event may carry (a Korean date can be a day ahead of UTC); the day after is future.
AFTER_TOMORROW = (date.today() + timedelta(days=2)).isoformat()

# (bad row written on line 3 after a good row, field named, message fragment)
BAD_EVENT_ROWS = {
    "unknown event type": (
        "x1,2017-09-04,nuke_test,true,1,Text.,Source",
        "event_type",
        "unknown event type 'nuke_test'",
    ),
    "impossible date": (
        "x1,2024-02-30,ballistic_missile,true,1,Text.,Source",
        "date",
        "'2024-02-30' is not a calendar date",
    ),
    "missing source": ("x1,2017-09-04,ballistic_missile,true,1,Text.,", "source", "is missing"),
    "duplicate id": (GOOD_ROW, "id", "duplicate id '2017-09-03-nuclear_test' (first on line 2)"),
    "future date": (f"x1,{AFTER_TOMORROW},ballistic_missile,true,1,Text.,Source", "date", "is in the future"),
    "before 1950": ("x1,1000-01-01,ballistic_missile,true,1,Text.,Source", "date", "is before 1950-01-01"),
    "bidi override": ("x1,2017-09-04,ballistic_missile,true,1,Text \u202e.,Source", "description", "U+202E"),
    "zero count": (
        "x1,2017-09-04,ballistic_missile,true,0,Text.,Source",
        "count",
        "'0' is not a whole number from 1 to 1000",
    ),
    "word count": ("x1,2017-09-04,ballistic_missile,true,two,Text.,Source", "count", "'two' is not a whole number"),
    "bad flag": (
        "x1,2017-09-04,ballistic_missile,maybe,1,Text.,Source",
        "weapons_test",
        "'maybe' is not true or false",
    ),
}


@pytest.mark.parametrize("case", list(BAD_EVENT_ROWS))
def test_bad_event_row_is_refused_and_nothing_is_written(
    case: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    row, field, fragment = BAD_EVENT_ROWS[case]
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    events_file = seeds / "events.csv"
    events_file.write_text(f"{EVENT_HEADER}\n{GOOD_ROW}\n{row}\n", encoding="utf-8")

    with pytest.raises(RecordFileError) as caught:
        with write_transaction(sessions) as session:
            seed_store(session, seeds)

    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(events_file), 3, field)
    assert fragment in problem.message
    assert str(problem).startswith(f"{events_file}:3: field '{field}': ")
    with write_transaction(sessions) as session:
        assert count_events(session) == 0
        assert list_elections(session) == [] and list_exercises(session) == []


def test_missing_column_is_named_on_the_header_line(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    events_file = seeds / "events.csv"
    header_without_source = EVENT_HEADER.removesuffix(",source")
    events_file.write_text(f"{header_without_source}\n{GOOD_ROW.rsplit(',', 1)[0]}\n", encoding="utf-8")

    with pytest.raises(RecordFileError) as caught:
        with write_transaction(sessions) as session:
            seed_store(session, seeds)

    assert [str(p) for p in caught.value.problems] == [
        f"{events_file}:1: field 'source': column is missing from the header"
    ]
    with write_transaction(sessions) as session:
        assert count_events(session) == 0


def test_every_problem_in_every_file_is_listed(tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    (seeds / "events.csv").write_text(
        f"{EVENT_HEADER}\n{BAD_EVENT_ROWS['unknown event type'][0]}\n{BAD_EVENT_ROWS['missing source'][0].replace('x1', 'x2')}\n",
        encoding="utf-8",
    )
    with (seeds / "elections.csv").open("a", encoding="utf-8") as handle:
        handle.write("kr-local-2026,2026-06-03,KR,mayoral,National Election Commission of Korea,\n")

    with pytest.raises(RecordFileError) as caught:
        read_seed_files(seeds)

    assert [(Path(p.file).name, p.line, p.field) for p in caught.value.problems] == [
        ("events.csv", 2, "event_type"),
        ("events.csv", 3, "source"),
        ("elections.csv", 8, "kind"),
    ]


# --- the shipped seeds ------------------------------------------------------------


def test_every_shipped_seed_row_passes_validation() -> None:
    data = read_seed_files(shipped_seeds_dir())
    assert data.events and data.elections and data.exercises
    assert all(e.source.strip() for e in data.events)
    assert {e.event_type for e in data.events} <= set(EVENT_TYPES)


def test_shipped_seeds_load_into_the_store_and_history(sessions: sessionmaker[Session]) -> None:
    seeds = shipped_seeds_dir()
    data = read_seed_files(seeds)
    with write_transaction(sessions) as session:
        report = seed_store(session, seeds)
    with write_transaction(sessions) as session:
        history = load_history(session)
        stored = event_records(session)
    assert len(report.events.inserted) == len(data.events) == len(stored) == len(history.events)
    assert len(history.elections) == len(data.elections) and len(history.exercises) == len(data.exercises)
    with write_transaction(sessions) as session:
        assert seed_store(session, seeds).changes == 0
