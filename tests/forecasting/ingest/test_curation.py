"""The shipped seeds: valid rows, a deterministic rebuild from the reference file, full accounting."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from forecasting.domain.records import EVENT_COLUMNS, RecordFileError, read_events_csv
from forecasting.ingest.csis import CSIS_CITATION, read_csis_csv
from forecasting.ingest.curation import (
    CURATION_DIR,
    DEFAULT_CSIS_PATH,
    SEEDS_DIR,
    build,
    check_seeds,
    events_csv_text,
    main,
    write_seeds,
)

needs_reference = pytest.mark.skipif(
    not DEFAULT_CSIS_PATH.exists(),
    reason=f"CSIS reference file not found at {DEFAULT_CSIS_PATH} (shared/ beside the clone)",
)

NUCLEAR_TEST_DATES = ["2006-10-09", "2009-05-25", "2013-02-12", "2016-01-06", "2016-09-09", "2017-09-03"]


@pytest.fixture(scope="module")
def shipped_events():
    return read_events_csv(SEEDS_DIR / "events.csv")


@pytest.fixture(scope="module")
def curation():
    if not DEFAULT_CSIS_PATH.exists():
        pytest.skip(f"CSIS reference file not found at {DEFAULT_CSIS_PATH}")
    return build(DEFAULT_CSIS_PATH)


def test_every_shipped_row_is_a_valid_event_with_a_source(shipped_events) -> None:
    assert len(shipped_events) > 400
    for event in shipped_events:
        assert event.id == f"{event.date.isoformat()}-{event.event_type}"
        assert event.source.strip()
    header = (SEEDS_DIR / "events.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(EVENT_COLUMNS)
    assert [(e.date, e.id) for e in shipped_events] == sorted((e.date, e.id) for e in shipped_events)


def test_the_six_nuclear_tests_and_nothing_else(shipped_events) -> None:
    nuclear = [e for e in shipped_events if e.event_type == "nuclear_test"]
    assert [e.date.isoformat() for e in nuclear] == NUCLEAR_TEST_DATES
    assert all(e.weapons_test for e in nuclear)


def test_the_2017_hwasong15_launch_is_present(shipped_events) -> None:
    [event] = [e for e in shipped_events if e.id == "2017-11-29-ballistic_missile"]
    assert event.weapons_test and event.count == 1
    assert "nknews.org" in event.source


def test_weapons_test_follows_the_written_rule(shipped_events) -> None:
    by_id = {e.id: e for e in shipped_events}
    assert not by_id["2010-11-23-armed_clash"].weapons_test  # Yeonpyeong shelling: an attack, not a test
    assert by_id["2024-01-05-artillery"].weapons_test  # salvo into the buffer zone: a drill
    assert "2022-05-25-nuclear_program" in by_id  # trigger-device report: no detonation
    for event in shipped_events:
        if event.event_type in (
            "incursion",
            "harassment",
            "armed_clash",
            "attack",
            "nuclear_program",
            "military_drill",
            "engine_test",
        ):
            assert not event.weapons_test, event.id


def test_no_seed_row_dated_2018(shipped_events) -> None:
    assert not [e for e in shipped_events if e.date.year == 2018]


@needs_reference
def test_rebuild_gives_exactly_the_committed_seeds(curation) -> None:
    committed = (SEEDS_DIR / "events.csv").read_text(encoding="utf-8")
    assert events_csv_text(curation.events) == committed
    assert check_seeds(curation) == []
    assert not curation.refused_additions


@needs_reference
def test_every_csis_row_is_accounted_for_exactly_once(curation) -> None:
    rows = read_csis_csv(DEFAULT_CSIS_PATH)
    accounting = curation.mapping.accounting
    assert len(rows) == 493
    assert sorted(a.line for a in accounting) == sorted(r.line for r in rows)
    assert len({a.line for a in accounting}) == len(accounting)
    event_ids = {e.id for e in curation.events}
    for entry in accounting:
        assert entry.outcome in ("mapped", "merged", "left_out")
        assert entry.reason
        if entry.outcome == "left_out":
            assert entry.event_ids == ()
        else:
            assert entry.event_ids and set(entry.event_ids) <= event_ids
    readme = (SEEDS_DIR / "README.md").read_text(encoding="utf-8")
    for entry in accounting:
        assert f"| {entry.line} | {entry.date} |" in readme


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _shares_run(ours: str, theirs: str, length: int = 8) -> bool:
    mine = _words(ours)
    runs = {tuple(mine[i : i + length]) for i in range(len(mine) - length + 1)}
    other = _words(theirs)
    return any(tuple(other[i : i + length]) in runs for i in range(len(other) - length + 1))


@needs_reference
def test_descriptions_are_our_own_words(curation) -> None:
    rows = {r.line: r for r in read_csis_csv(DEFAULT_CSIS_PATH)}
    by_id = {e.id: e for e in curation.events}
    checked = 0
    for entry in curation.mapping.accounting:
        for event_id in entry.event_ids:
            description = by_id[event_id].description
            assert description != rows[entry.line].description
            assert not _shares_run(description, rows[entry.line].description), event_id
            checked += 1
    assert checked >= 490


def test_additions_carry_their_own_sources_and_no_csis_citation() -> None:
    additions = read_events_csv(CURATION_DIR / "additions.csv")
    assert additions
    for addition in additions:
        assert addition.weapons_test
        assert CSIS_CITATION not in addition.source
        assert re.search(r"\w+\.\w+/", addition.source), addition.id  # a URL-like reference


def _copy_curation(tmp_path: Path) -> tuple[Path, Path]:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR / "curation", seeds / "curation")
    shutil.copy(SEEDS_DIR / "README.md", seeds / "README.md")
    return seeds, seeds / "curation"


@needs_reference
def test_an_addition_duplicating_a_csis_event_is_refused(tmp_path: Path) -> None:
    seeds, curation_dir = _copy_curation(tmp_path)
    with (curation_dir / "additions.csv").open("a", encoding="utf-8") as out:
        out.write(
            "2017-09-03-nuclear_test,2017-09-03,nuclear_test,true,,A duplicate of the sixth test.,Example source\n"
        )
    result = build(DEFAULT_CSIS_PATH, curation_dir)
    assert [a.id for a in result.refused_additions] == ["2017-09-03-nuclear_test"]
    [kept] = [e for e in result.events if e.id == "2017-09-03-nuclear_test"]
    assert kept.source.startswith(CSIS_CITATION)


@needs_reference
def test_addition_ids_must_match_date_and_type(tmp_path: Path) -> None:
    _, curation_dir = _copy_curation(tmp_path)
    with (curation_dir / "additions.csv").open("a", encoding="utf-8") as out:
        out.write("2018-01-01-artillery,2018-01-02,artillery,true,,Mismatched id.,Example source\n")
    with pytest.raises(RecordFileError) as error:
        build(DEFAULT_CSIS_PATH, curation_dir)
    assert error.value.problems[0].field == "id"


@needs_reference
def test_write_seeds_writes_both_files_and_nothing_on_error(tmp_path: Path, curation) -> None:
    seeds, _ = _copy_curation(tmp_path)
    write_seeds(curation, seeds)
    assert (seeds / "events.csv").read_text(encoding="utf-8") == (SEEDS_DIR / "events.csv").read_text(encoding="utf-8")
    assert (seeds / "README.md").read_text(encoding="utf-8") == (SEEDS_DIR / "README.md").read_text(encoding="utf-8")

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "README.md").write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        write_seeds(curation, broken)
    assert sorted(p.name for p in broken.iterdir()) == ["README.md"]


def test_write_seeds_keeps_the_files_mode(tmp_path: Path, curation) -> None:
    seeds, _ = _copy_curation(tmp_path)
    write_seeds(curation, seeds)
    (seeds / "events.csv").chmod(0o644)
    (seeds / "README.md").chmod(0o664)
    write_seeds(curation, seeds)
    assert (seeds / "events.csv").stat().st_mode & 0o777 == 0o644
    assert (seeds / "README.md").stat().st_mode & 0o777 == 0o664


def test_main_reports_a_missing_reference_file_without_a_traceback(tmp_path: Path, capsys) -> None:
    assert main(["--csis", str(tmp_path / "absent.csv"), "--check"]) == 2
    assert "cannot open file" in capsys.readouterr().err
