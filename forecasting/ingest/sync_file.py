"""Checking a fetched copy of the CSIS file before anything is mapped: is it the whole CSV it claims to be?

Refused with a clear message (`SyncFileRefused`): an HTML page (an error page
served with 200), bytes that are not UTF-8, a header without the CSIS
columns (the publisher changed its format), a file that does not end with a
line break or has a row shorter than its header (truncated), a file with no
rows. What passes is mapped by `forecasting.ingest.csis` like any CSIS file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from forecasting.ingest.csis import CSIS_COLUMNS

HTML_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")


class SyncFileRefused(ValueError):
    """The fetched file is not a complete CSIS CSV; the message says what is wrong. Nothing was written."""


@dataclass(frozen=True)
class CheckedFile:
    text: str
    rows: int
    columns: tuple[str, ...]
    last_row_date: date | None  # the newest `date` in the file


def check_csis_bytes(body: bytes, content_type: str = "") -> CheckedFile:
    start = body.lstrip()[:64].lower()
    if "html" in content_type.lower() or start.startswith(HTML_STARTS):
        raise SyncFileRefused(
            f"the server sent an HTML page (Content-Type {content_type or 'not given'}), not the CSV file"
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SyncFileRefused(f"the file is not UTF-8 text (byte {error.start}): not the CSV file") from None
    if not text.strip():
        raise SyncFileRefused("the file is empty")
    if not text.endswith("\n"):
        raise SyncFileRefused("the file does not end with a line break: truncated")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = tuple(next(reader))
        missing = [c for c in CSIS_COLUMNS if c not in header]
        if missing:
            raise SyncFileRefused(
                f"the file's columns changed: {', '.join(missing)} missing from the header "
                f"({', '.join(header)[:200]}); expected at least {', '.join(CSIS_COLUMNS)}"
            )
        rows = 0
        newest: date | None = None
        date_at = header.index("date")
        for row in reader:
            if not row:
                continue
            rows += 1
            if len(row) != len(header):
                raise SyncFileRefused(
                    f"row {rows} (line {reader.line_num}) has {len(row)} fields, the header {len(header)}: "
                    "truncated or malformed"
                )
            newest = _later(newest, row[date_at])
    except csv.Error as error:
        raise SyncFileRefused(f"unreadable CSV at line {reader.line_num}: {error}") from None
    if rows == 0:
        raise SyncFileRefused("the file has a header but no rows")
    return CheckedFile(text, rows, header, newest)


def _later(current: date | None, text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return current  # the CSIS mapping names the bad date with its line
    return day if current is None or day > current else current
