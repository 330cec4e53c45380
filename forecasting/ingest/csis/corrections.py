"""The curated corrections file (seeds/curation/corrections.csv): sourced fixes to single CSIS rows.

A correction names its row by the CSIS date and event label, and fixes one
field with its own reason and source: a date a day off (the Korean local
date), a wrong type, a misread count, or a row to leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from forecasting.domain.records import RecordError, parse_date
from forecasting.domain.vocabulary import EVENT_TYPES
from forecasting.ingest.csis.rows import parse_each_row, stripped

CORRECTIONS_FILE_NAME = "corrections.csv"
CORRECTION_COLUMNS = ("csis_date", "csis_event", "event_type", "field", "value", "reason", "source")


class CorrectedField(StrEnum):
    """What a correction fixes.

    `date`: the Korean local date; `event_types`: the row's kinds,
    `+`-separated; `count`: the count of the correction's `event_type` part
    (empty value = unknown); `leave_out`: drop the row (value ignored).
    """

    DATE = "date"
    EVENT_TYPES = "event_types"
    COUNT = "count"
    LEAVE_OUT = "leave_out"


@dataclass(frozen=True)
class CsisCorrection:
    """A sourced fix to one CSIS row, matched by the row's date and event label."""

    line: int
    csis_date: date
    csis_event: str
    event_type: str
    field: CorrectedField
    value: str
    reason: str
    source: str


def read_corrections_csv(path: Path) -> list[CsisCorrection]:
    """Read the corrections file; raise RecordFileError naming file, line and field on bad input."""
    return parse_each_row(path, CORRECTION_COLUMNS, correction_from_row)


def correction_from_row(line: int, raw: dict[str, Any]) -> CsisCorrection:
    field = stripped(raw, "field")
    if field not in tuple(CorrectedField):
        raise RecordError("field", f"{field!r} is not one of {', '.join(CorrectedField)}")
    value = stripped(raw, "value")
    part = stripped(raw, "event_type")
    _check_value(CorrectedField(field), value, part)
    for column in ("csis_event", "reason", "source"):
        if not stripped(raw, column):
            raise RecordError(column, "is missing")
    return CsisCorrection(
        line=line,
        csis_date=parse_date(stripped(raw, "csis_date"), "csis_date"),
        csis_event=stripped(raw, "csis_event"),
        event_type=part,
        field=CorrectedField(field),
        value=value,
        reason=stripped(raw, "reason"),
        source=stripped(raw, "source"),
    )


def _check_value(field: CorrectedField, value: str, part: str) -> None:
    if field == CorrectedField.DATE:
        parse_date(value, "value", allow_future=False)
    elif field == CorrectedField.EVENT_TYPES:
        for name in value.split("+"):
            if name not in EVENT_TYPES:
                raise RecordError("value", f"unknown event type {name!r}")
    elif field == CorrectedField.COUNT:
        if part not in EVENT_TYPES:
            raise RecordError("event_type", f"a count correction needs the event type it applies to, got {part!r}")
        if value and not (value.isdigit() and 1 <= int(value) <= 1000):
            raise RecordError("value", f"{value!r} is not a count from 1 to 1000 (or empty for unknown)")
