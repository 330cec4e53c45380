"""Reading a CSIS-format file (as scraped by github.com/stiles/north-korea-provocations) into rows.

Only the five columns below are read; extra columns (the processed file's
`year`, `weekday`, ...) are ignored. Line numbers are physical lines of the
file (header = line 1), so an error points at the right line even after a
quoted multi-line description.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from forecasting.domain.records import FieldProblem, RecordError, RecordFileError, parse_date, read_csv_rows

CSIS_COLUMNS = ("date", "type", "event", "description", "resources")

Parsed = TypeVar("Parsed")


@dataclass(frozen=True)
class CsisRow:
    line: int
    date: date
    type: str
    event: str
    description: str
    resources: str

    @property
    def label(self) -> str:
        return f"{self.type} / {self.event}"


def read_csis_csv(path: Path) -> list[CsisRow]:
    """Read a CSIS-format CSV; raise RecordFileError naming file, line and field on bad input."""
    return parse_each_row(path, CSIS_COLUMNS, csis_row)


def parse_each_row(
    path: Path, columns: tuple[str, ...], parse: Callable[[int, dict[str, Any]], Parsed]
) -> list[Parsed]:
    """Parse every row of a CSV file that has `columns`; raise RecordFileError listing every bad row."""
    parsed: list[Parsed] = []
    problems: list[FieldProblem] = []
    for line, raw in read_csv_rows(path, columns):
        try:
            parsed.append(parse(line, raw))
        except RecordError as error:
            problems.append(FieldProblem(str(path), line, error.field, error.message))
    if problems:
        raise RecordFileError(problems)
    return parsed


def stripped(raw: dict[str, Any], column: str) -> str:
    """A cell's text without surrounding space; an absent cell (a short row) reads as empty."""
    return str(raw.get(column) or "").strip()


def csis_row(line: int, raw: dict[str, Any]) -> CsisRow:
    return CsisRow(
        line=line,
        date=parse_date(raw.get("date") or "", "date", allow_future=False),
        type=_required(raw, "type"),
        event=_required(raw, "event"),
        description=stripped(raw, "description"),
        resources=stripped(raw, "resources"),
    )


def _required(raw: dict[str, Any], column: str) -> str:
    value = stripped(raw, column)
    if not value:
        raise RecordError(column, "is missing")
    return value
