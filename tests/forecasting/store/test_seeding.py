from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.records import EventRecord, RecordFileError, read_events_csv
from forecasting.store.db import write_transaction
from forecasting.store.repository import (
    add_event,
    event_records,
    get_event,
    list_elections,
    list_exercises,
    upsert_events,
)
from forecasting.store.seeding import read_seed_files, seed_store
from tests.fixtures import FIXTURE_SEEDS, copy_fixture_seeds

FIXTURE_EVENTS = read_events_csv(FIXTURE_SEEDS / "events.csv")


def seed(sessions: sessionmaker[Session], seeds_dir: Path = FIXTURE_SEEDS):
    with write_transaction(sessions) as session:
        return seed_store(session, seeds_dir)


def replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_first_seed_inserts_every_row(sessions: sessionmaker[Session]) -> None:
    report = seed(sessions)
    data = read_seed_files(FIXTURE_SEEDS)
    assert sorted(report.events.inserted) == sorted(e.id for e in data.events)
    assert len(report.elections.inserted) == len(data.elections) == 6
    assert len(report.exercises.inserted) == len(data.exercises) == 2
    with write_transaction(sessions) as session:
        assert event_records(session) == sorted(data.events, key=lambda e: (e.date, e.id))
        assert list_elections(session) == sorted(data.elections, key=lambda e: (e.date, e.id))
        assert list_exercises(session) == data.exercises
        assert {get_event(session, e.id).origin for e in data.events} == {"seed"}


def test_seeding_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with write_transaction(sessions) as session:
        before = {e.id: get_event(session, e.id) for e in FIXTURE_EVENTS}

    again = seed(sessions)

    assert again.changes == 0
    assert len(again.events.unchanged) == len(FIXTURE_EVENTS)
    assert len(again.elections.unchanged) == 6 and len(again.exercises.unchanged) == 2
    with write_transaction(sessions) as session:
        after = {e.id: get_event(session, e.id) for e in FIXTURE_EVENTS}
    assert after == before  # same content, origin and timestamps


def test_edited_seed_row_updates_that_row_only(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    seed(sessions, seeds)
    with write_transaction(sessions) as session:
        before = {e.id: get_event(session, e.id) for e in FIXTURE_EVENTS}
    replace_line(seeds / "events.csv", "Hwasong-15 ICBM launched", "Hwasong-15 intercontinental missile launched")
    replace_line(
        seeds / "elections.csv",
        "2020-11-03,US,presidential,US Federal Election Commission,",
        "2020-11-03,US,presidential,US Federal Election Commission (certified results),",
    )

    report = seed(sessions, seeds)

    assert report.events.updated == ["2017-11-29-ballistic_missile"]
    assert report.elections.updated == ["us-presidential-2020"]
    assert report.changes == 2
    with write_transaction(sessions) as session:
        after = {e.id: get_event(session, e.id) for e in FIXTURE_EVENTS}
    edited = after.pop("2017-11-29-ballistic_missile")
    old = before.pop("2017-11-29-ballistic_missile")
    assert after == before
    assert edited is not None and old is not None
    assert edited.record.description.startswith("Hwasong-15 intercontinental missile launched")
    assert edited.origin == "seed" and edited.created_at == old.created_at and edited.updated_at > old.updated_at


def test_user_rows_are_never_touched_by_seeding(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    seed(sessions, seeds)
    manual = EventRecord(
        "2024-01-14-hypersonic_missile",
        date(2024, 1, 14),
        "hypersonic_missile",
        True,
        1,
        "Solid-fuel missile with a hypersonic warhead.",
        "test source",
    )
    # A user rewrote a seeded row through an import: it is now theirs.
    rewritten = replace(next(e for e in FIXTURE_EVENTS if e.id == "2016-01-06-nuclear_test"), description="User text")
    with write_transaction(sessions) as session:
        add_event(session, manual, "manual")
        upsert_events(session, [rewritten], "import", replace_changed=True)
    # The seed file now holds a row with the manual row's id, and drops the rewritten one.
    with (seeds / "events.csv").open("a", encoding="utf-8") as handle:
        handle.write('2024-01-14-hypersonic_missile,2024-01-14,hypersonic_missile,true,2,Seed text,"seed source"\n')
    lines = (seeds / "events.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (seeds / "events.csv").write_text("".join(line for line in lines if not line.startswith("2016-01-06-nuclear_test")))

    report = seed(sessions, seeds)
    seed(sessions, seeds)

    assert sorted(report.events.kept_user_rows) == ["2024-01-14-hypersonic_missile"]
    assert report.events.removed == []
    with write_transaction(sessions) as session:
        kept_manual = get_event(session, manual.id)
        kept_import = get_event(session, rewritten.id)
    assert kept_manual is not None and (kept_manual.record, kept_manual.origin) == (manual, "manual")
    assert kept_import is not None and (kept_import.record, kept_import.origin) == (rewritten, "import")


def test_rows_removed_from_a_seed_file_are_deleted(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    seed(sessions, seeds)
    for name, prefix in (("events.csv", "2024-05-28-harassment"), ("exercises.csv", "freedom-shield-2024")):
        lines = (seeds / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (seeds / name).write_text("".join(line for line in lines if not line.startswith(prefix)), encoding="utf-8")

    report = seed(sessions, seeds)

    assert report.events.removed == ["2024-05-28-harassment"]
    assert report.exercises.removed == ["freedom-shield-2024"]
    with write_transaction(sessions) as session:
        assert get_event(session, "2024-05-28-harassment") is None
        assert [x.id for x in list_exercises(session)] == ["ulchi-freedom-shield-2024"]
        assert len(event_records(session)) == len(FIXTURE_EVENTS) - 1


def test_a_bad_seed_file_writes_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    seed(sessions, seeds)
    replace_line(seeds / "events.csv", "Hwasong-15 ICBM launched", "Hwasong-15 ICBM fired")  # a good edit ...
    replace_line(seeds / "exercises.csv", "2024-08-19,2024-08-29", "2024-08-19,2024-08-10")  # ... and a bad one

    with pytest.raises(RecordFileError) as caught:
        seed(sessions, seeds)

    assert [str(p) for p in caught.value.problems] == [
        f"{seeds / 'exercises.csv'}:3: field 'end_date': 2024-08-10 is before start_date 2024-08-19"
    ]
    with write_transaction(sessions) as session:
        assert event_records(session) == sorted(FIXTURE_EVENTS, key=lambda e: (e.date, e.id))


def test_missing_seed_file_is_named(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seeds = copy_fixture_seeds(tmp_path / "seeds")
    (seeds / "elections.csv").unlink()
    with pytest.raises(RecordFileError, match="elections.csv:0: field '-': cannot open file"):
        seed(sessions, seeds)
    with write_transaction(sessions) as session:
        assert event_records(session) == []


def test_seeding_records_the_snapshots_coverage_and_leaves_csis_rows_to_a_sync(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from forecasting.domain.vocabulary import CoverageSource, Origin
    from forecasting.store.live.coverage import history_through, set_coverage
    from forecasting.store.live.sync_merge import merge_synced

    seeds = copy_fixture_seeds(tmp_path / "seeds")
    addition = "2024-06-01-artillery,2024-06-01,artillery,true,1,A drill reported elsewhere.,a news report\n"
    with (seeds / "events.csv").open("a", encoding="utf-8") as handle:
        handle.write(addition)
    seed(sessions, seeds)
    with sessions() as session:
        assert history_through(session) == date(2024, 6, 1)  # the snapshot's last day

    # A sync whose file no longer holds one CSIS row (re-dated upstream, say) removes it.
    gone = "2016-09-09-nuclear_test"
    synced = [e for e in FIXTURE_EVENTS if e.id != gone]
    with write_transaction(sessions) as session:
        merge = merge_synced(session, synced, max_removed_share=0.5)
        set_coverage(session, CoverageSource.SYNC, date(2024, 6, 2), "tests")
    assert merge.removed == [gone] and set(merge.unchanged) == {e.id for e in synced}

    # Seeding again (every container start does) does not bring it back, and still mirrors the addition.
    again = seed(sessions, seeds)
    with sessions() as session:
        assert get_event(session, gone) is None
        assert get_event(session, "2024-06-01-artillery").origin == Origin.SEED
    assert again.events.inserted == [] and again.events.removed == []
    assert again.events.unchanged == ["2024-06-01-artillery"]
