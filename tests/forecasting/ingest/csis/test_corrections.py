"""The corrections file: the shipped one reads whole; every bad row is named by line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from forecasting.domain.records import RecordFileError
from forecasting.ingest.csis import CORRECTIONS_FILE_NAME, CorrectedField, read_corrections_csv
from forecasting.ingest.curation import CURATION_DIR

HEADER = "csis_date,csis_event,event_type,field,value,reason,source\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / CORRECTIONS_FILE_NAME
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_shipped_corrections_read_whole() -> None:
    corrections = read_corrections_csv(CURATION_DIR / CORRECTIONS_FILE_NAME)
    assert corrections
    assert {c.field for c in corrections} <= set(CorrectedField)
    assert all(c.reason and c.source for c in corrections)


def test_a_correction_reads_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2019-08-05,Short-range Ballistic Missile Launch,,date,2019-08-06,Korean local date,KBS News\n",
    )
    [correction] = read_corrections_csv(path)
    assert (correction.line, correction.csis_date, correction.field, correction.value) == (
        2,
        date(2019, 8, 5),
        "date",
        "2019-08-06",
    )


def test_every_bad_correction_is_named_by_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2019-08-05,Short-range Ballistic Missile Launch,,colour,red,r,s\n"
        "2019-08-05,Short-range Ballistic Missile Launch,,event_types,ballistic_missile+laser,r,s\n"
        "2019-08-05,Short-range Ballistic Missile Launch,,count,3,r,s\n"
        "2019-08-05,Short-range Ballistic Missile Launch,ballistic_missile,count,1001,r,s\n"
        "2019-08-05,Short-range Ballistic Missile Launch,,date,2019-08-06,,s\n"
        "2019-08-05,Short-range Ballistic Missile Launch,,leave_out,,a reason,a source\n",
    )
    with pytest.raises(RecordFileError) as error:
        read_corrections_csv(path)
    assert [(p.line, p.field) for p in error.value.problems] == [
        (2, "field"),
        (3, "value"),
        (4, "event_type"),
        (5, "value"),
        (6, "reason"),
    ]
    assert "'colour' is not one of date, event_types, count, leave_out" in str(error.value)
