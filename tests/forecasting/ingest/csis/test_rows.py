"""Reading a CSIS-format file: physical line numbers, and every bad row named by line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from forecasting.domain.records import RecordFileError
from forecasting.ingest.csis import read_csis_csv

HEADER = "date,type,event,description,resources\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "csis.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


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


def test_extra_columns_are_ignored_and_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "processed.csv"
    path.write_text(
        "date,type,event,description,resources,year,weekday\n"
        "2020-03-02,Missile Provocation,Short-range Missile Launch,Two projectiles.,http://a,2020,Monday\n",
        encoding="utf-8",
    )
    [row] = read_csis_csv(path)
    assert (row.line, row.type, row.resources) == (2, "Missile Provocation", "http://a")

    with pytest.raises(RecordFileError) as error:
        read_csis_csv(tmp_path / "absent.csv")
    assert "cannot open file" in str(error.value)
