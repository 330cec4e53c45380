"""The shipped calendars in seeds/: elections and combined US-ROK exercises.

These tests read the real seed files. They check that every row passes the
same validation the import uses, that the dates obey the rules in law they
are derived from, that approximate exercise rows say so, and that a bad row
makes the whole file fail with the field named.
"""

from __future__ import annotations

import calendar
import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from forecasting.domain.history import History
from forecasting.domain.records import (
    ELECTION_COLUMNS,
    ELECTION_OPTIONAL_COLUMNS,
    EXERCISE_COLUMNS,
    ElectionRecord,
    ExerciseRecord,
    RecordFileError,
    read_elections_csv,
    read_exercises_csv,
)
from forecasting.settings import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"
ELECTIONS_CSV = SEEDS / "elections.csv"
EXERCISES_CSV = SEEDS / "exercises.csv"

# National Assembly elections since the history starts (1958-02-16), with the
# next scheduled one (2028-04-12, Public Official Election Act art. 34).
KR_LEGISLATIVE_YEARS = {
    1958,
    1960,
    1963,
    1967,
    1971,
    1973,
    1978,
    1981,
    1985,
    1988,
    1992,
    1996,
    2000,
    2004,
    2008,
    2012,
    2016,
    2020,
    2024,
    2028,
}
KR_DIRECT_PRESIDENTIAL_YEARS = {1960, 1963, 1967, 1971, 1987, 1992, 1997, 2002, 2007, 2012, 2017, 2022, 2025, 2030}
# Indirect presidential elections (National Assembly, National Conference for
# Unification, electoral college) that CALENDARS.md documents as excluded.
KR_INDIRECT_PRESIDENTIAL_DATES = {
    date(1960, 8, 12),
    date(1972, 12, 23),
    date(1978, 7, 6),
    date(1979, 12, 6),
    date(1980, 8, 27),
    date(1981, 2, 25),
}
# Snap presidential elections and the day their date was officially set.
KR_SNAP_ELECTIONS = {date(2017, 5, 9): date(2017, 3, 15), date(2025, 6, 3): date(2025, 4, 8)}


def header_of(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def data_line_count(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


@pytest.fixture(scope="module")
def elections() -> list[ElectionRecord]:
    return read_elections_csv(ELECTIONS_CSV)


@pytest.fixture(scope="module")
def exercises() -> list[ExerciseRecord]:
    return read_exercises_csv(EXERCISES_CSV)


# --- every row parses, with its source ---------------------------------------


def test_election_file_has_exactly_the_record_columns_and_every_row_parses(elections: list[ElectionRecord]) -> None:
    assert header_of(ELECTIONS_CSV) == list(ELECTION_COLUMNS + ELECTION_OPTIONAL_COLUMNS)
    assert len(elections) == data_line_count(ELECTIONS_CSV)


def test_exercise_file_has_the_record_columns_plus_notes_and_every_row_parses(exercises: list[ExerciseRecord]) -> None:
    assert header_of(EXERCISES_CSV) == [*EXERCISE_COLUMNS, "notes"]
    assert len(exercises) == data_line_count(EXERCISES_CSV)


@pytest.mark.parametrize("path", [ELECTIONS_CSV, EXERCISES_CSV], ids=["elections", "exercises"])
def test_every_row_names_a_checkable_source(path: Path) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert row["source"].strip(), f"{row['id']} has no source"
            assert re.search(r"https?://\S+", row["source"]), f"{row['id']}: the source names no address to check"


def test_election_ids_spell_country_kind_and_date(elections: list[ElectionRecord]) -> None:
    for record in elections:
        assert record.id == f"{record.country.lower()}-{record.kind}-{record.date.isoformat()}"


def test_exercise_ids_spell_name_and_year(exercises: list[ExerciseRecord]) -> None:
    for record in exercises:
        slug = re.sub(r"[^a-z0-9]+", "-", record.name.lower()).strip("-")
        assert record.id.startswith(f"{slug}-{record.start_date.year}"), record.id


# --- South Korea --------------------------------------------------------------


def kr(elections: list[ElectionRecord], kind: str) -> list[ElectionRecord]:
    return [e for e in elections if e.country == "KR" and e.kind == kind]


def test_kr_legislative_elections_fall_in_the_expected_years_with_2028_scheduled(
    elections: list[ElectionRecord],
) -> None:
    legislative = kr(elections, "legislative")
    assert [e.date.year for e in legislative] == sorted(KR_LEGISLATIVE_YEARS)
    assert date(2028, 4, 12) in {e.date for e in legislative}
    assert all(e.announced is None for e in legislative)


def test_kr_presidential_elections_are_the_direct_votes_only(elections: list[ElectionRecord]) -> None:
    presidential = kr(elections, "presidential")
    assert {e.date.year for e in presidential} == KR_DIRECT_PRESIDENTIAL_YEARS
    assert not KR_INDIRECT_PRESIDENTIAL_DATES & {e.date for e in presidential}


def test_kr_snap_elections_carry_the_day_their_date_was_set_and_regular_ones_none(
    elections: list[ElectionRecord],
) -> None:
    announced = {e.date: e.announced for e in elections if e.announced is not None}
    assert announced == KR_SNAP_ELECTIONS
    for held, set_on in announced.items():
        assert set_on < held
        # Constitution art. 68(2): within 60 days of the vacancy, so set well inside that.
        assert held - set_on < timedelta(days=60)


def test_kr_regular_elections_since_2006_fall_on_wednesdays(elections: list[ElectionRecord]) -> None:
    # Public Official Election Act art. 34 (as amended in 2004): regular elections are held on a Wednesday.
    regular = [e for e in elections if e.country == "KR" and e.date.year >= 2006 and e.announced is None]
    assert regular
    for record in regular:
        assert record.date.weekday() == calendar.WEDNESDAY, record.id


def test_kr_scheduled_2030_dates_follow_the_election_law(elections: list[ElectionRecord]) -> None:
    dates = {(e.kind, e.date) for e in kr(elections, "presidential") + kr(elections, "local")}
    # 70 days before the presidential term ends (2030-06-03) is Monday 2030-03-25; first Wednesday: 27 March.
    assert ("presidential", date(2030, 3, 27)) in dates
    # 30 days before local terms end (2030-06-30) is Friday 31 May; first Wednesday 5 June is next to
    # Memorial Day (6 June), so the election moves a week, to 12 June.
    assert ("local", date(2030, 6, 12)) in dates
    assert ("local", date(2026, 6, 3)) in dates


# --- United States ------------------------------------------------------------


def test_us_elections_are_tuesdays_between_november_2_and_8(elections: list[ElectionRecord]) -> None:
    for record in (e for e in elections if e.country == "US"):
        assert record.date.month == 11 and 2 <= record.date.day <= 8, record.id
        assert record.date.weekday() == calendar.TUESDAY, record.id
        assert record.announced is None


def test_us_elections_alternate_every_two_years_without_gaps_1958_to_2030(elections: list[ElectionRecord]) -> None:
    us = sorted((e for e in elections if e.country == "US"), key=lambda e: e.date)
    assert [e.date.year for e in us] == list(range(1958, 2031, 2))
    for record in us:
        assert record.kind == ("presidential" if record.date.year % 4 == 0 else "midterm"), record.id
    for earlier, later in zip(us, us[1:], strict=False):
        assert earlier.kind != later.kind
    assert {(e.kind, e.date) for e in us} >= {
        ("midterm", date(2026, 11, 3)),
        ("presidential", date(2028, 11, 7)),
        ("midterm", date(2030, 11, 5)),
    }


# --- exercises ----------------------------------------------------------------


def test_no_two_exercises_of_the_same_name_overlap(exercises: list[ExerciseRecord]) -> None:
    by_name: dict[str, list[ExerciseRecord]] = {}
    for record in exercises:
        by_name.setdefault(record.name, []).append(record)
    for name, runs in by_name.items():
        runs.sort(key=lambda r: r.start_date)
        for earlier, later in zip(runs, runs[1:], strict=False):
            assert earlier.end_date < later.start_date, f"{name}: {earlier.id} overlaps {later.id}"


def test_every_approximate_row_is_marked_and_explained() -> None:
    with EXERCISES_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert any(row["approximate"] == "true" for row in rows)
    for row in rows:
        start, end = date.fromisoformat(row["start_date"]), date.fromisoformat(row["end_date"])
        whole_month = (
            start.day == 1
            and (start.year, start.month) == (end.year, end.month)
            and end.day == calendar.monthrange(end.year, end.month)[1]
        )
        vague = whole_month or re.search(
            r"generic|month only|about \d+ days|weeklong|weekday|'(early|mid|late|end of)", row["notes"]
        )
        if vague:
            assert row["approximate"] == "true", f"{row['id']} has an approximate span but is marked exact"
        if row["approximate"] == "true":
            assert "convention" in row["notes"], f"{row['id']} is approximate but names no convention"


def test_exercise_years_without_a_spring_or_august_exercise_are_the_documented_cancellations(
    exercises: list[ExerciseRecord],
) -> None:
    spring = {x.start_date.year for x in exercises if 2 <= x.start_date.month <= 6}
    august = {x.start_date.year for x in exercises if x.start_date.month == 8}
    years = set(range(1976, 2027))
    # Team Spirit 1992 called off; spring 2020 command post training postponed indefinitely (COVID-19).
    assert years - spring == {1992, 2020}
    # Ulchi Freedom Guardian 2018 suspended; Ulchi Freedom Shield 2026 ran 17-27 August.
    assert years - august == {2018}


# --- bad rows are refused, naming the field -----------------------------------


def append_row(source: Path, target: Path, values: dict[str, str]) -> int:
    """Copy a seed file with one more row; return the line number of that row."""
    text = source.read_text(encoding="utf-8")
    columns = header_of(source)
    with target.open("w", newline="", encoding="utf-8") as handle:
        handle.write(text)
        csv.DictWriter(handle, fieldnames=columns, lineterminator="\n").writerow(
            {column: values.get(column, "") for column in columns}
        )
    return len(target.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"country": "JP", "kind": "legislative"}, "country"),
        ({"country": "KR", "kind": "midterm"}, "kind"),
        ({"country": "US", "kind": "local"}, "kind"),
        ({"country": "KR", "kind": "presidential", "announced": "2099-02-01"}, "announced"),
        ({"country": "US", "kind": "midterm", "date": "2030-11-31"}, "date"),
        ({"country": "KR", "kind": "local", "source": "  "}, "source"),
    ],
)
def test_a_bad_election_row_fails_the_whole_file_naming_the_field(
    tmp_path: Path, bad: dict[str, str], field: str
) -> None:
    row = {"id": "bad-row", "date": "2030-01-02", "source": "https://example.org/check", **bad}
    target = tmp_path / "elections.csv"
    line = append_row(ELECTIONS_CSV, target, row)
    with pytest.raises(RecordFileError) as caught:
        read_elections_csv(target)
    assert [(p.line, p.field) for p in caught.value.problems] == [(line, field)]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"start_date": "2026-08-20", "end_date": "2026-08-10"}, "end_date"),
        ({"start_date": "2026-08-20", "end_date": "2026-08-30", "approximate": "maybe"}, "approximate"),
        ({"start_date": "20 Aug 2026", "end_date": "2026-08-30"}, "start_date"),
        ({"id": "freedom-shield-2024"}, "id"),
    ],
)
def test_a_bad_exercise_row_fails_the_whole_file_naming_the_field(
    tmp_path: Path, bad: dict[str, str], field: str
) -> None:
    row = {
        "id": "bad-row",
        "name": "Ulchi Freedom Shield",
        "start_date": "2026-08-17",
        "end_date": "2026-08-27",
        "approximate": "false",
        "source": "https://example.org/check",
        **bad,
    }
    target = tmp_path / "exercises.csv"
    line = append_row(EXERCISES_CSV, target, row)
    with pytest.raises(RecordFileError) as caught:
        read_exercises_csv(target)
    assert [(p.line, p.field) for p in caught.value.problems] == [(line, field)]


# --- the history accepts them -------------------------------------------------


def test_history_built_from_the_calendars_keeps_every_row_and_hides_unannounced_snap_elections(
    elections: list[ElectionRecord], exercises: list[ExerciseRecord]
) -> None:
    history = History.from_records([], elections, exercises)
    assert len(history.elections) == len(elections)
    assert len(history.exercises) == len(exercises)
    assert str(history.elections["date"].dtype) == "datetime64[ns]"
    assert str(history.exercises["start_date"].dtype) == "datetime64[ns]"
    assert history.elections["announced"].notna().sum() == len(KR_SNAP_ELECTIONS)

    before_2025_snap = history.known_at(date(2025, 4, 7))
    known = set(before_2025_snap.elections["id"])
    assert "kr-presidential-2025-06-03" not in known
    assert {"kr-presidential-2017-05-09", "kr-legislative-2028-04-12", "us-midterm-2026-11-03"} <= known
    assert before_2025_snap.exercises["start_date"].max() <= history.exercises["start_date"].max()
    assert "kr-presidential-2025-06-03" in set(history.known_at(date(2025, 4, 8)).elections["id"])
