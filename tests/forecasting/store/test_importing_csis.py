"""Importing a (newer) copy of the CSIS database merges into the store without duplicates."""

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import RecordFileError
from forecasting.store.db import write_transaction
from forecasting.store.importing import import_events, read_import_file
from forecasting.store.repository import count_events, event_records, upsert_events
from forecasting.store.seeding import read_seed_files, seed_store
from tests.fixtures import SHARED_CSIS_FILE, shipped_seeds_dir

CUT = date(2026, 7, 1)


@pytest.fixture(scope="module")
def csis_file() -> Path:
    assert SHARED_CSIS_FILE.exists(), f"the CSIS reference file is missing: {SHARED_CSIS_FILE} (../shared/data)"
    return SHARED_CSIS_FILE


def older_snapshot(csis_file: Path, target: Path) -> Path:
    """The reference file as it stood before CUT: the same rows, minus the newest ones."""
    with csis_file.open(newline="", encoding="utf-8") as source, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(row for row in reader if date.fromisoformat(row["date"]) < CUT)
    return target


def run_import(sessions: sessionmaker[Session], path: Path, **options: bool):
    batch = read_import_file(path, "csis", shipped_seeds_dir())
    with write_transaction(sessions) as session:
        return import_events(session, batch, **options)


def test_the_reference_snapshot_adds_nothing_to_the_shipped_seeds(
    sessions: sessionmaker[Session], csis_file: Path
) -> None:
    seeds = shipped_seeds_dir()
    with write_transaction(sessions) as session:
        seed_store(session, seeds)

    report = run_import(sessions, csis_file)

    mapped = read_import_file(csis_file, "csis", seeds).events
    assert (report.inserted, report.updated) == ([], [])
    assert sorted(report.unchanged) == sorted(e.id for e in mapped)
    with write_transaction(sessions) as session:
        assert count_events(session) == len(read_seed_files(seeds).events)


def test_a_newer_copy_brings_only_the_new_events(
    sessions: sessionmaker[Session], csis_file: Path, tmp_path: Path
) -> None:
    older = older_snapshot(csis_file, tmp_path / "older.csv")
    first = run_import(sessions, older)
    newer_ids = sorted(e.id for e in read_import_file(csis_file, "csis", shipped_seeds_dir()).events if e.date >= CUT)
    assert newer_ids and max(first.inserted) < CUT.isoformat()

    dry = run_import(sessions, csis_file, dry_run=True)
    with write_transaction(sessions) as session:
        assert count_events(session) == len(first.inserted)
    second = run_import(sessions, csis_file)
    third = run_import(sessions, csis_file)

    assert sorted(dry.inserted) == sorted(second.inserted) == newer_ids
    assert second.updated == [] and len(second.unchanged) == len(first.inserted)
    assert third.changes == 0
    with write_transaction(sessions) as session:
        stored = event_records(session)
    assert len(stored) == len({e.id for e in stored}) == len(first.inserted) + len(newer_ids)


def test_a_stored_event_that_differs_is_named_by_its_csis_line(
    sessions: sessionmaker[Session], csis_file: Path
) -> None:
    run_import(sessions, csis_file)
    with write_transaction(sessions) as session:
        target = next(e for e in event_records(session) if e.id == "2026-08-06-ballistic_missile")
        upsert_events(session, [replace(target, description="Edited by hand.")], "import", replace_changed=True)

    with pytest.raises(RecordFileError) as caught:
        run_import(sessions, csis_file)

    [problem] = caught.value.problems
    # Line 4 of the reference file (newest first) is the 2026-08-06 launch.
    assert (problem.file, problem.line, problem.field) == (str(csis_file), 4, "description")
    assert "use --update to replace it" in problem.message


def test_an_unknown_csis_label_writes_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        "date,type,event,description,resources\n"
        "2024-01-14,Missile Provocation,Intermediate-range Ballistic Missile Launch,A solid-fuel missile.,https://example.org/a\n"
        "2024-01-24,Missile Provocation,Sea Serpent Sighting,Not a known label.,https://example.org/b\n",
        encoding="utf-8",
    )
    with pytest.raises(RecordFileError) as caught:
        run_import(sessions, path)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (3, "event")
    with write_transaction(sessions) as session:
        assert count_events(session) == 0
