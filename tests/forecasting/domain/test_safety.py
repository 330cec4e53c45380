"""Event date bounds, refused characters in free text, and spreadsheet-safe cells (forecasting.domain.safety)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from forecasting.domain.records import RecordError, event_from_row, parse_text
from forecasting.domain.safety import (
    EARLIEST_EVENT_DATE,
    SAFE_TEXT_PATTERN,
    event_date_problem,
    from_spreadsheet,
    spreadsheet_safe,
)

ROW = {
    "id": "x-1",
    "date": "2020-01-01",
    "event_type": "artillery",
    "weapons_test": "true",
    "count": "",
    "description": "Guns fired.",
    "source": "https://example.org/a",
}


@pytest.mark.parametrize("day", ["1000-01-01", "1949-12-31", "0001-01-01"])
def test_events_before_1950_are_refused(day: str) -> None:
    with pytest.raises(RecordError, match="before 1950-01-01") as refused:
        event_from_row({**ROW, "date": day})
    assert refused.value.field == "date"


def test_events_from_1950_to_tomorrow_are_taken() -> None:
    tomorrow = date.today() + timedelta(days=1)
    assert event_from_row({**ROW, "date": EARLIEST_EVENT_DATE.isoformat()}).date == EARLIEST_EVENT_DATE
    assert event_from_row({**ROW, "date": tomorrow.isoformat()}).date == tomorrow
    with pytest.raises(RecordError, match="in the future"):
        event_from_row({**ROW, "date": (tomorrow + timedelta(days=1)).isoformat()})
    assert event_date_problem(date(2020, 1, 2), today=date(2020, 1, 1)) is None
    assert event_date_problem(date(2020, 1, 3), today=date(2020, 1, 1)) is not None


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u200f", "\u061c"])
@pytest.mark.parametrize("field", ["description", "source"])
def test_control_and_bidi_characters_are_refused(char: str, field: str) -> None:
    with pytest.raises(RecordError, match=f"U\\+{ord(char):04X}") as refused:
        event_from_row({**ROW, field: f"before{char}after"})
    assert refused.value.field == field
    assert not re.search(SAFE_TEXT_PATTERN, f"before{char}after")


def test_tabs_and_line_breaks_stay_allowed() -> None:
    text = "line one\n\tline two\r\nline three, 한국어, émigré"
    assert parse_text(text, "description") == text
    assert re.search(SAFE_TEXT_PATTERN, text)
    assert not re.search(SAFE_TEXT_PATTERN, "   ")


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_escaped_and_come_back(cell: str) -> None:
    safe = spreadsheet_safe(cell)
    assert safe == "'" + cell
    assert from_spreadsheet(safe) == cell


@pytest.mark.parametrize("cell", ["plain", "'quoted", "'plain", "", "a=b"])
def test_other_cells_are_unchanged(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell
    assert from_spreadsheet(cell) == cell
