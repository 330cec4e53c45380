from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import RecordFileError, read_events_csv
from forecasting.store.db import write_transaction
from forecasting.store.importing import import_events, read_import_file, write_events_csv
from forecasting.store.repository import event_records, get_event
from forecasting.store.seeding import seed_store
from tests.fixtures import EVENT_HEADER, FIXTURE_SEEDS, write_text

FIXTURE_EVENTS = read_events_csv(FIXTURE_SEEDS / "events.csv")
NEW_ROWS = [
    "2024-01-14-hypersonic_missile,2024-01-14,hypersonic_missile,true,1,Solid-fuel missile with a hypersonic warhead.,KCNA via Yonhap",
    "2024-01-24-cruise_missile,2024-01-24,cruise_missile,true,,Several cruise missiles fired over the Yellow Sea.,JCS via Yonhap",
]


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with write_transaction(sessions) as session:
        seed_store(session, FIXTURE_SEEDS)
    return sessions


def stored_events(sessions: sessionmaker[Session]) -> list:
    with write_transaction(sessions) as session:
        return event_records(session)


def run_import(sessions: sessionmaker[Session], path: Path, **options: bool):
    batch = read_import_file(path, "seed")
    with write_transaction(sessions) as session:
        return import_events(session, batch, **options)


def test_import_inserts_new_events_and_skips_known_ones(seeded: sessionmaker[Session], tmp_path: Path) -> None:
    buffer = StringIO()
    write_events_csv(buffer, [FIXTURE_EVENTS[3]])  # header and a row the store already has
    path = write_text(tmp_path / "new.csv", buffer.getvalue() + "\n".join(NEW_ROWS) + "\n")

    report = run_import(seeded, path)

    assert report.inserted == ["2024-01-14-hypersonic_missile", "2024-01-24-cruise_missile"]
    assert report.unchanged == [FIXTURE_EVENTS[3].id] and report.updated == []
    with write_transaction(seeded) as session:
        added = get_event(session, "2024-01-24-cruise_missile")
        kept = get_event(session, FIXTURE_EVENTS[3].id)
    assert added is not None and added.origin == "import" and added.record.count is None
    assert kept is not None and kept.origin == "seed"
    assert len(stored_events(seeded)) == len(FIXTURE_EVENTS) + 2


def test_one_bad_row_writes_nothing_and_is_named(seeded: sessionmaker[Session], tmp_path: Path) -> None:
    bad = "2024-02-30-cruise_missile,2024-02-30,cruise_missile,true,2,Cruise missiles.,JCS"
    path = write_text(tmp_path / "batch.csv", "\n".join([EVENT_HEADER, NEW_ROWS[0], NEW_ROWS[1], bad]) + "\n")

    with pytest.raises(RecordFileError) as caught:
        run_import(seeded, path)

    assert [str(p) for p in caught.value.problems] == [f"{path}:4: field 'date': '2024-02-30' is not a calendar date"]
    assert stored_events(seeded) == sorted(FIXTURE_EVENTS, key=lambda e: (e.date, e.id))


def test_changed_known_event_is_refused_without_update(seeded: sessionmaker[Session], tmp_path: Path) -> None:
    changed = replace(FIXTURE_EVENTS[0], count=2, description="First nuclear test, recounted.")
    buffer = StringIO()
    write_events_csv(buffer, [changed])
    path = write_text(tmp_path / "fix.csv", buffer.getvalue() + NEW_ROWS[0] + "\n")

    with pytest.raises(RecordFileError) as caught:
        run_import(seeded, path)

    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 2, "count")
    assert problem.message == (
        f"event '{changed.id}' is already in the store (origin seed) with a different count, description; "
        "use --update to replace it"
    )
    assert stored_events(seeded) == sorted(FIXTURE_EVENTS, key=lambda e: (e.date, e.id))

    report = run_import(seeded, path, update=True)

    assert (report.inserted, report.updated) == (["2024-01-14-hypersonic_missile"], [changed.id])
    with write_transaction(seeded) as session:
        replaced = get_event(session, changed.id)
    assert replaced is not None and replaced.record == changed and replaced.origin == "import"


def test_dry_run_reports_and_writes_nothing(seeded: sessionmaker[Session], tmp_path: Path) -> None:
    changed = replace(FIXTURE_EVENTS[0], count=2)
    buffer = StringIO()
    write_events_csv(buffer, [changed, *FIXTURE_EVENTS[1:3]])
    path = write_text(tmp_path / "batch.csv", buffer.getvalue() + NEW_ROWS[0] + "\n")

    report = run_import(seeded, path, update=True, dry_run=True)

    assert report.inserted == ["2024-01-14-hypersonic_missile"]
    assert report.updated == [changed.id]
    assert report.unchanged == [FIXTURE_EVENTS[1].id, FIXTURE_EVENTS[2].id]
    assert stored_events(seeded) == sorted(FIXTURE_EVENTS, key=lambda e: (e.date, e.id))


def test_export_then_import_into_an_empty_store_round_trips(
    seeded: sessionmaker[Session], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    buffer = StringIO()
    write_events_csv(buffer, stored_events(seeded))
    exported = write_text(tmp_path / "export.csv", buffer.getvalue())
    assert read_events_csv(exported) == sorted(FIXTURE_EVENTS, key=lambda e: (e.date, e.id))

    report = run_import(seeded, exported)
    assert report.changes == 0 and len(report.unchanged) == len(FIXTURE_EVENTS)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown import format 'xml'"):
        read_import_file(tmp_path / "x.csv", "xml")
