"""The rules every way in (the API, the CLI, imports, a sync) applies to event dates and free text, and the
escaping every way out to a spreadsheet applies.

- Event dates run from `EARLIEST_EVENT_DATE` to tomorrow (a Korean local date can be a day ahead of UTC).
  The models index daily series from that first date; a row dated 1000-01-01 would break every retrain.
- Free text holds no control characters (tab, line feed and carriage return excepted) and no bidirectional
  formatting characters, which can make a description read differently from what is stored.
- A cell that begins with `=`, `+`, `-`, `@` (or a tab or carriage return) is a formula to a spreadsheet; on the
  way out it is prefixed with an apostrophe, and on the way back in that apostrophe is dropped.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

EARLIEST_EVENT_DATE = date(1950, 1, 1)

# Control characters a multi-line description may legitimately hold.
ALLOWED_CONTROLS = frozenset("\t\n\r")
# Bidirectional embeddings, overrides, isolates and marks (Unicode's Bidi_Control characters).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"


def latest_event_date(today: date | None = None) -> date:
    """The last date an event may carry: tomorrow."""
    return (today or date.today()) + timedelta(days=1)


def event_date_problem(value: date, today: date | None = None) -> str | None:
    """Why an event cannot carry this date, or None."""
    if value < EARLIEST_EVENT_DATE:
        return f"{value} is before {EARLIEST_EVENT_DATE}, the first date the history can hold"
    latest = latest_event_date(today)
    if value > latest:
        return f"{value} is in the future (the latest date accepted is {latest}); the history holds past events only"
    return None


def unsafe_character(text: str) -> str | None:
    """A description of the first character free text may not hold, or None."""
    for position, char in enumerate(text):
        refused = char in BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS)
        if refused:
            name = unicodedata.name(char, "control character")
            return f"holds U+{ord(char):04X} ({name.lower()}) at position {position}; control and bidirectional formatting characters are refused"
    return None


# The same rule as a regular expression, for the OpenAPI document: no refused character anywhere.
UNSAFE_CLASS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f" + "".join(
    f"\\u{ord(c):04x}" for c in sorted(BIDI_CONTROLS)
)
SAFE_TEXT_PATTERN = f"^[^{UNSAFE_CLASS}]*[^\\s{UNSAFE_CLASS}][^{UNSAFE_CLASS}]*$"


def spreadsheet_safe(text: str) -> str:
    """The text as a spreadsheet cell that is never read as a formula."""
    return FORMULA_ESCAPE + text if text.startswith(FORMULA_LEADS) else text


def from_spreadsheet(text: str) -> str:
    """Undo `spreadsheet_safe` (only an apostrophe followed by a formula lead is dropped)."""
    if text.startswith(FORMULA_ESCAPE) and text[1:].startswith(FORMULA_LEADS):
        return text[1:]
    return text
