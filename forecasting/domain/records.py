"""Plain records for the three kinds of history rows, and their validation.

These are the shapes the seed files, the CSV import, the CLI and the API all
agree on. Parsing a CSV either returns every row valid or raises
`RecordFileError` listing each bad row by file, line and field; nothing is
half-accepted.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

from forecasting.domain.safety import event_date_problem, unsafe_character
from forecasting.domain.vocabulary import EVENT_TYPES

EVENT_COLUMNS = ("id", "date", "event_type", "weapons_test", "count", "description", "source")
ELECTION_COLUMNS = ("id", "date", "country", "kind", "source")
# Optional: the date a snap election's date became known (empty for regular ones).
ELECTION_OPTIONAL_COLUMNS = ("announced",)
EXERCISE_COLUMNS = ("id", "name", "start_date", "end_date", "approximate", "source")

COUNTRIES = ("KR", "US")
ELECTION_KINDS = {"KR": ("presidential", "legislative", "local"), "US": ("presidential", "midterm")}

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_TEXT = 4000


@dataclass(frozen=True)
class EventRecord:
    id: str
    date: date
    event_type: str
    weapons_test: bool
    count: int | None
    description: str
    source: str

    def as_row(self) -> dict[str, str]:
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "event_type": self.event_type,
            "weapons_test": "true" if self.weapons_test else "false",
            "count": "" if self.count is None else str(self.count),
            "description": self.description,
            "source": self.source,
        }


@dataclass(frozen=True)
class ElectionRecord:
    id: str
    date: date
    country: str
    kind: str
    source: str
    announced: dt.date | None = None  # `dt.`: the field `date` above shadows the type in this class

    def as_row(self) -> dict[str, str]:
        return {
            **asdict(self),
            "date": self.date.isoformat(),
            "announced": self.announced.isoformat() if self.announced else "",
        }


@dataclass(frozen=True)
class ExerciseRecord:
    id: str
    name: str
    start_date: date
    end_date: date
    approximate: bool
    source: str

    def as_row(self) -> dict[str, str]:
        return {
            **asdict(self),
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "approximate": "true" if self.approximate else "false",
        }


@dataclass
class FieldProblem:
    """One bad field: where it is and what is wrong with it."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: field '{self.field}': {self.message}"


class RecordError(ValueError):
    """A single record failed validation (no file: from the API or CLI flags)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"field '{field_name}': {message}")
        self.field = field_name
        self.message = message


@dataclass
class RecordFileError(ValueError):
    problems: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        return shown + (f"\n... and {more} more problems" if more > 0 else "")


# --- field parsers: each raises RecordError naming its field -----------------


def parse_id(value: str, field_name: str = "id") -> str:
    value = (value or "").strip()
    if not value:
        raise RecordError(field_name, "is missing")
    if not ID_PATTERN.match(value):
        raise RecordError(
            field_name,
            f"{value!r} is not a valid id (letters, digits, '_', '.', ':', '-'; at most 100 characters)",
        )
    return value


def parse_date(value: str, field_name: str = "date", allow_future: bool = True) -> date:
    """An ISO date; `allow_future=False` holds it to an event's bounds (1950-01-01 to tomorrow)."""
    value = (value or "").strip()
    if not value:
        raise RecordError(field_name, "is missing")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise RecordError(field_name, f"{value!r} is not an ISO date (YYYY-MM-DD)")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise RecordError(field_name, f"{value!r} is not a calendar date") from None
    problem = None if allow_future else event_date_problem(parsed)
    if problem:
        raise RecordError(field_name, problem)
    return parsed


def parse_bool(value: str, field_name: str) -> bool:
    text = (value or "").strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    if not text:
        raise RecordError(field_name, "is missing (expected true or false)")
    raise RecordError(field_name, f"{value!r} is not true or false")


def parse_text(value: str, field_name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise RecordError(field_name, "is missing")
    if len(text) > MAX_TEXT:
        raise RecordError(field_name, f"is longer than {MAX_TEXT} characters")
    problem = unsafe_character(text)
    if problem:
        raise RecordError(field_name, problem)
    return text


def parse_count(value: str, field_name: str = "count") -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1 or int(text) > 1000:
        raise RecordError(field_name, f"{value!r} is not a whole number from 1 to 1000 (or empty when unknown)")
    return int(text)


def parse_event_type(value: str, field_name: str = "event_type") -> str:
    text = (value or "").strip()
    if not text:
        raise RecordError(field_name, "is missing")
    if text not in EVENT_TYPES:
        raise RecordError(field_name, f"unknown event type {text!r}; expected one of: {', '.join(EVENT_TYPES)}")
    return text


# --- whole records ------------------------------------------------------------


def event_from_row(row: dict[str, Any]) -> EventRecord:
    return EventRecord(
        id=parse_id(row.get("id", "")),
        date=parse_date(row.get("date", ""), allow_future=False),
        event_type=parse_event_type(row.get("event_type", "")),
        weapons_test=parse_bool(row.get("weapons_test", ""), "weapons_test"),
        count=parse_count(row.get("count", "")),
        description=parse_text(row.get("description", ""), "description"),
        source=parse_text(row.get("source", ""), "source"),
    )


def election_from_row(row: dict[str, Any]) -> ElectionRecord:
    country = (row.get("country") or "").strip()
    if country not in COUNTRIES:
        raise RecordError("country", f"{country!r} is not one of {', '.join(COUNTRIES)}")
    kind = (row.get("kind") or "").strip()
    if kind not in ELECTION_KINDS[country]:
        raise RecordError(
            "kind", f"{kind!r} is not an election kind of {country}: {', '.join(ELECTION_KINDS[country])}"
        )
    held = parse_date(row.get("date", ""))
    announced_text = (row.get("announced") or "").strip()
    announced = parse_date(announced_text, "announced") if announced_text else None
    if announced is not None and announced > held:
        raise RecordError("announced", f"{announced} is after the election date {held}")
    return ElectionRecord(
        id=parse_id(row.get("id", "")),
        date=held,
        country=country,
        kind=kind,
        source=parse_text(row.get("source", ""), "source"),
        announced=announced,
    )


def exercise_from_row(row: dict[str, Any]) -> ExerciseRecord:
    start = parse_date(row.get("start_date", ""), "start_date")
    end = parse_date(row.get("end_date", ""), "end_date")
    if end < start:
        raise RecordError("end_date", f"{end} is before start_date {start}")
    return ExerciseRecord(
        id=parse_id(row.get("id", "")),
        name=parse_text(row.get("name", ""), "name"),
        start_date=start,
        end_date=end,
        approximate=parse_bool(row.get("approximate", ""), "approximate"),
        source=parse_text(row.get("source", ""), "source"),
    )


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def parse_rows(
    numbered_rows: Iterable[tuple[int, dict[str, Any]]],
    parse: Callable[[dict[str, Any]], R],
    file_name: str,
) -> list[R]:
    """Parse (line number, row) pairs; raise RecordFileError with every problem, or return all records.

    Ids must be unique within the input.
    """
    records: list[R] = []
    problems: list[FieldProblem] = []
    seen_ids: dict[str, int] = {}
    for line, row in numbered_rows:
        try:
            record = parse(row)
        except RecordError as error:
            problems.append(FieldProblem(file_name, line, error.field, error.message))
            continue
        record_id = record.id
        if record_id in seen_ids:
            problems.append(
                FieldProblem(file_name, line, "id", f"duplicate id {record_id!r} (first on line {seen_ids[record_id]})")
            )
            continue
        seen_ids[record_id] = line
        records.append(record)
    if problems:
        raise RecordFileError(problems)
    return records


def read_csv_records(path: Path, columns: tuple[str, ...], parse: Callable[[dict[str, Any]], R]) -> list[R]:
    """Read a CSV file with the given required columns into validated records."""
    return parse_rows(read_csv_rows(path, columns), parse, str(path))


def read_csv_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    """The (line number, row) pairs of a CSV file that has the required columns."""
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise RecordFileError([FieldProblem(name, 0, "-", f"cannot open file: {error.strerror}")]) from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise RecordFileError([FieldProblem(name, 1, c, "column is missing from the header") for c in missing])
            # csv counts physical lines, which matters for quoted multi-line fields.
            numbered: list[tuple[int, dict[str, Any]]] = []
            start = reader.line_num + 1
            for row in reader:
                numbered.append((start, row))
                start = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise RecordFileError([FieldProblem(name, reader.line_num, "-", f"unreadable CSV: {error}")]) from None
    return numbered


def read_events_csv(path: Path) -> list[EventRecord]:
    return read_csv_records(path, EVENT_COLUMNS, event_from_row)


def read_elections_csv(path: Path) -> list[ElectionRecord]:
    return read_csv_records(path, ELECTION_COLUMNS, election_from_row)


def read_exercises_csv(path: Path) -> list[ExerciseRecord]:
    return read_csv_records(path, EXERCISE_COLUMNS, exercise_from_row)


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
