"""The CSIS mapping: reading, label table, description rules, counts, merges, accounting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from forecasting.domain.records import RecordFileError
from forecasting.domain.vocabulary import EVENT_TYPES
from forecasting.ingest.csis import (
    CSIS_CITATION,
    LABELS,
    CsisCorrection,
    CsisRow,
    count_phrases,
    description_kinds,
    first_reference,
    map_csis_rows,
    read_count,
    read_csis_csv,
)
from forecasting.ingest.curation import DEFAULT_CSIS_PATH

needs_reference = pytest.mark.skipif(
    not DEFAULT_CSIS_PATH.exists(),
    reason=f"CSIS reference file not found at {DEFAULT_CSIS_PATH} (shared/ beside the clone)",
)

HEADER = "date,type,event,description,resources\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "csis.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def row(line: int, day: str, kind: str, event: str, description: str = "", resources: str = "") -> CsisRow:
    return CsisRow(line, date.fromisoformat(day), kind, event, description, resources)


# --- reading ------------------------------------------------------------------------------


def test_reads_rows_with_physical_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '2020-03-02,Missile Provocation,Short-range Missile Launch,"Two projectiles,\nover two lines.",http://a\n'
        "2020-03-21,Missile Provocation,Short-range Missile Launch,Two more.,\n",
    )
    rows = read_csis_csv(path)
    assert [(r.line, r.date, r.event) for r in rows] == [
        (2, date(2020, 3, 2), "Short-range Missile Launch"),
        (4, date(2020, 3, 21), "Short-range Missile Launch"),
    ]


def test_bad_date_is_refused_naming_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2020-03-02,Missile Provocation,Short-range Missile Launch,ok,\n"
        "2020-02-30,Missile Provocation,Short-range Missile Launch,bad day,\n",
    )
    with pytest.raises(RecordFileError) as error:
        read_csis_csv(path)
    [problem] = error.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 3, "date")
    assert "2020-02-30" in str(error.value)


def test_empty_label_and_missing_column_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "2020-03-02,Missile Provocation,,no label,\n")
    with pytest.raises(RecordFileError) as error:
        read_csis_csv(path)
    assert [(p.line, p.field) for p in error.value.problems] == [(2, "event")]

    headless = tmp_path / "no_event.csv"
    headless.write_text("date,type,description,resources\n2020-03-02,Missile Provocation,x,\n", encoding="utf-8")
    with pytest.raises(RecordFileError) as error:
        read_csis_csv(headless)
    assert [(p.line, p.field) for p in error.value.problems] == [(1, "event")]


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


# --- the label table and description rules ---------------------------------------------------


def test_every_label_maps_onto_the_vocabulary_or_is_left_out_with_a_reason() -> None:
    for key, rule in LABELS.items():
        assert all(t in EVENT_TYPES for t in rule.types), key
        assert rule.types or rule.left_out, key


@needs_reference
def test_every_label_pair_of_the_reference_file_is_in_the_table() -> None:
    pairs = {(r.type, r.event) for r in read_csis_csv(DEFAULT_CSIS_PATH)}
    assert pairs <= set(LABELS)
    assert len(pairs) == len(LABELS)  # no dead entries either


def kinds(label: tuple[str, str], text: str) -> tuple[str, ...]:
    return description_kinds(LABELS[label], text)


SHORT = ("Missile Provocation", "Short-range Missile Launch")
SRBM = ("Missile Provocation", "Short-range Ballistic Missile Launch")


def test_generic_launch_labels_follow_the_weapons_named_in_the_text() -> None:
    assert kinds(SHORT, "North Korea fired four surface-to-ship missiles near Wonsan.") == ("cruise_missile",)
    assert kinds(SRBM, "North Korea fired two cruise missiles into the Yellow Sea.") == ("cruise_missile",)
    assert kinds(SRBM, "North Korea launched 7 surface-to-air missiles.") == ("other_weapon",)
    assert kinds(SHORT, "It fired 3 surface-to-ship missiles and a surface-to-air missile.") == (
        "cruise_missile",
        "other_weapon",
    )
    assert kinds(SRBM, "It fired 4 SRBMs, then SAMs. It also fired 100 artillery shells.") == (
        "ballistic_missile",
        "other_weapon",
        "artillery",
    )
    # a hedged sentence does not decide the kind
    assert kinds(SRBM, "The missiles may be modified anti-ship missiles or KN-02 missiles.") == ("ballistic_missile",)


def test_600mm_rockets_are_ballistic_and_other_rockets_artillery() -> None:
    mlrs = ("Missile Provocation", "Multiple Launch Rocket System (MLRS) Test")
    assert kinds(mlrs, "A test of an upgraded 600mm multiple rocket launcher.") == ("ballistic_missile",)
    assert kinds(("Other Provocation", "Artillery Fire"), "Six super-large rockets were fired.") == (
        "ballistic_missile",
    )
    assert kinds(mlrs, "A test of an updated 240mm multiple rocket launcher.") == ("artillery",)


def test_hypersonic_only_when_announced_or_assessed() -> None:
    irbm = ("Missile Provocation", "Intermediate-range Ballistic Missile Launch")
    assert kinds(irbm, "It fired an IRBM carrying a hypersonic warhead.") == ("hypersonic_missile",)
    assert kinds(SRBM, "An analyst said it could have been a hypersonic missile.") == ("ballistic_missile",)
    assert kinds(("Missile Provocation", "Strategic cruise missile"), "A hypersonic claim.") == ("cruise_missile",)


# --- counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("North Korea fired two short-range ballistic missiles toward the sea.", "ballistic_missile", 2),
        ("North Korea fired around 10 short-range ballistic missiles on August 20.", "ballistic_missile", 10),
        ("North Korea launched several short-range ballistic missiles from Junghwa.", "ballistic_missile", None),
        (
            "North Korea fired multiple ballistic missiles; they flew 900 kilometers (560 miles).",
            "ballistic_missile",
            None,
        ),
        ("It launched 5 Scud missiles and 2 Nodong missiles from Gitdaeryeong.", "ballistic_missile", 7),
        ("It fired a Hwasong-17 at 7:40am. North Korea also fired 2 SRBMs from Kaechon.", "ballistic_missile", 3),
        ("It fired three short-range missiles. Two missiles travelled 250 km and one blew up.", "ballistic_missile", 3),
        ("It fired 2 missiles at 8:50 a.m. and 8:54 a.m.; the two missiles flew 380 km.", "ballistic_missile", 2),
        ("Kim handed over 250 new tactical ballistic missile launchers to units.", "ballistic_missile", None),
        ("The drill involved two artillery companies and 12 rocket launchers.", "ballistic_missile", None),
        ("It fired 240 mm-caliber controllable multiple rocket launcher shells.", "artillery", None),
        ("It fired the new, solid-fuel Hwasong-18 ICBM on the 11th anniversary.", "ballistic_missile", None),
        ("It fired two rockets, presumed KN-09 projectiles, 180 km.", "ballistic_missile", 2),
        ("It fired 130 rounds of artillery shells from the west coast.", "artillery", 130),
        ("It test-fired a new type of long-range cruise missile.", "cruise_missile", None),
        ("It fired two strategic cruise missiles and three anti-warship missiles.", "cruise_missile", 5),
        ("It fired 3 surface-to-ship missiles and a surface-to-air missile.", "other_weapon", 1),
        ("Japan noted that at least one missile fell into the sea before 3:11 p.m.", "ballistic_missile", None),
        ("North Korea launched an estimated 10 short‑range ballistic missiles.", "ballistic_missile", 10),
        ("The launch consisted of five missiles fired in two rounds.", "ballistic_missile", 5),
    ],
)
def test_count_reading(text: str, kind: str, expected: int | None) -> None:
    main = "ballistic_missile" if kind in ("ballistic_missile", "other_weapon") else kind
    if "surface-to-ship" in text:
        main = "cruise_missile"
    assert read_count(text, kind, main) == expected


@needs_reference
@pytest.mark.parametrize(
    ("day", "event", "kind", "expected"),
    [
        ("2016-03-21", "Short-range Ballistic Missile Launch", "ballistic_missile", 5),
        ("2017-03-06", "Medium-range Ballistic Missile Launch", "ballistic_missile", 4),
        (
            "2026-03-14",
            "Short-range Ballistic Missile Launch",
            "ballistic_missile",
            10,
        ),  # "12 rocket launchers" ignored
        ("2024-08-04", "Tactical Ballistic Missile Launcher Deployment", "ballistic_missile", None),
        ("2023-04-13", "Intercontinental Ballistic Missile", "ballistic_missile", 1),  # not 18 from "Hwasong-18"
        ("2022-11-03", "Intercontinental ballistic missile & SRBM", "ballistic_missile", 3),
        ("2022-10-06", "Short-range Ballistic Missile Launch", "ballistic_missile", 2),  # 217 miles, 350 km ignored
        ("2024-01-05", "Artillery Fire", "artillery", 200),
        ("2024-04-22", "Short-range Ballistic Missile Launch", "ballistic_missile", None),  # "at least one ... fell"
    ],
)
def test_count_reading_on_real_descriptions(day: str, event: str, kind: str, expected: int | None) -> None:
    [source] = [r for r in read_csis_csv(DEFAULT_CSIS_PATH) if r.date.isoformat() == day and r.event == event]
    assert read_count(source.description, kind, kind) == expected


def test_count_phrases_skip_distances_times_and_names() -> None:
    text = "The missile flew 1,000 km for 4,015 seconds at 10:15 a.m. from the Hwasong-15 site."
    assert count_phrases(text) == []


# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (
            "http://www.cnn.com/2016/08/02/asia/north-korea-missile/index.htmlVideo:https://www.youtube.com/x",
            "http://www.cnn.com/2016/08/02/asia/north-korea-missile/index.html",
        ),
        ("https://goo.gl/iXM6H4The US Military Experience in Korea 1871-1982, page 133.", "https://goo.gl/iXM6H4"),
        (
            'http://www.cnn.com/2003/nkorea.test/">http://www.cnn.com/2003/nkorea.test/',
            "http://www.cnn.com/2003/nkorea.test/",
        ),
        ("https://goo.gl/iSLDMz;http://www.nonproliferation.org/op2.pdf", "https://goo.gl/iSLDMz"),
        (
            "The US Military Experience in Korea 1871-1982, page 125.",
            "The US Military Experience in Korea 1871-1982, page 125.",
        ),
        ("", ""),
    ],
)
def test_first_reference(resources: str, expected: str) -> None:
    assert first_reference(resources) == expected


# --- mapping, merging, accounting ---------------------------------------------------------------


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
