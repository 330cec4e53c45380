"""Mapping rows onto events: unknown labels, merges, splits, left-out rows, corrections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from forecasting.domain.records import RecordFileError
from forecasting.ingest.csis import CSIS_CITATION, CsisCorrection, map_csis_rows, read_csis_csv
from tests.forecasting.ingest.csis import csis_row as row


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "csis.csv"
    path.write_text("date,type,event,description,resources\n" + body, encoding="utf-8")
    return path


def test_unknown_label_is_refused_naming_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2026-09-01,Missile Provocation,Short-range Ballistic Missile Launch,fine,\n"
        "2026-09-02,Missile Provocation,Orbital Bombardment Test,new label,\n",
    )
    rows = read_csis_csv(path)
    with pytest.raises(RecordFileError) as error:
        map_csis_rows(rows, str(path))
    [problem] = error.value.problems
    assert (problem.line, problem.field) == (3, "event")
    assert "Orbital Bombardment Test" in problem.message


def test_merge_split_and_left_out_rows_are_each_accounted_for_once() -> None:
    rows = [
        row(
            2,
            "2024-06-26",
            "Other Provocation",
            "Multiple Independently Targetable Rentry Vehicle (MIRV) Test",
            "A multiple-warhead test was claimed.",
            "https://a.example/1",
        ),
        row(
            3,
            "2024-06-26",
            "Missile Provocation",
            "Ballistic Missile Launch",
            "North Korea launched a ballistic missile toward the East Sea.",
            "https://b.example/2",
        ),
        row(4, "2009-05-25", "Nuclear Provocation", "Nuclear Test / Short-range missile launch", "A test.", ""),
        row(5, "1991-07-01", "Missile Provocation", "Joint Missile Test with China", "Reported.", ""),
    ]
    mapping = map_csis_rows(rows, "csis.csv")
    ids = [e.id for e in mapping.events]
    assert ids == ["2009-05-25-ballistic_missile", "2009-05-25-nuclear_test", "2024-06-26-ballistic_missile"]
    outcomes = {a.line: (a.outcome, a.event_ids) for a in mapping.accounting}
    assert outcomes[2] == ("mapped", ("2024-06-26-ballistic_missile",))
    assert outcomes[3] == ("merged", ("2024-06-26-ballistic_missile",))
    assert outcomes[4] == ("mapped", ("2009-05-25-ballistic_missile", "2009-05-25-nuclear_test"))
    assert outcomes[5][0] == "left_out"
    merged = mapping.events[-1]
    assert merged.count is None  # one of the two rows states no count
    assert merged.source == f"{CSIS_CITATION}; https://a.example/1; https://b.example/2"
    assert "2 CSIS rows of the same day merged" in merged.description


def test_counts_are_added_when_merged_rows_all_state_them() -> None:
    rows = [
        row(2, "2024-10-11", "Missile Provocation", "Short-range Ballistic Missile Launch", "It fired two SRBMs."),
        row(3, "2024-10-11", "Missile Provocation", "Short-range Missile Launch", "It fired three projectiles."),
    ]
    [event] = map_csis_rows(rows, "csis.csv").events
    assert (event.id, event.count, event.weapons_test) == ("2024-10-11-ballistic_missile", 5, True)


def test_corrections_move_dates_and_must_match_exactly_one_row() -> None:
    rows = [
        row(2, "2019-08-05", "Missile Provocation", "Short-range Ballistic Missile Launch", "Two SRBMs were fired.")
    ]
    fix = CsisCorrection(
        7,
        date(2019, 8, 5),
        "Short-range Ballistic Missile Launch",
        "",
        "date",
        "2019-08-06",
        "Korean local date",
        "KBS News",
    )
    [event] = map_csis_rows(rows, "csis.csv", [fix]).events
    assert event.id == "2019-08-06-ballistic_missile"
    assert event.source.endswith("; KBS News")
    stale = CsisCorrection(
        8, date(2019, 8, 4), "Short-range Ballistic Missile Launch", "", "date", "2019-08-06", "r", "s"
    )
    with pytest.raises(RecordFileError) as error:
        map_csis_rows(rows, "csis.csv", [stale])
    assert [(p.line, p.field) for p in error.value.problems] == [(8, "csis_event")]


def test_yeonpyeong_shelling_is_a_clash_not_a_test() -> None:
    rows = [row(2, "2010-11-23", "Other Provocation", "Shelling of Yeonpyeong Island", "Shells hit the island.")]
    [event] = map_csis_rows(rows, "csis.csv").events
    assert (event.event_type, event.weapons_test, event.count) == ("armed_clash", False, None)
