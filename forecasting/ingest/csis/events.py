"""Building one EventRecord from the CSIS rows of one day and type, with its citation and description.

The description is one sentence in our own words (never the CSIS text): the
type, the count, the weapon class named by the CSIS label, and how the rows
were merged or corrected. The source cites the CSIS database, then each row's
first reference and the sources of the corrections applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from forecasting.domain.records import EventRecord
from forecasting.domain.vocabulary import EVENT_TYPES
from forecasting.ingest.csis.counts import COUNTED_TYPES
from forecasting.ingest.csis.labels import (
    AR,
    ATT,
    BM,
    CLASH,
    CM,
    DRILL,
    ET,
    HAR,
    HM,
    INC,
    NT,
    NUC,
    OW,
    SL,
    LabelRule,
)
from forecasting.ingest.csis.rows import CsisRow

CSIS_CITATION = (
    'CSIS Beyond Parallel, "Database of North Korean Provocations", via github.com/stiles/north-korea-provocations'
)

TYPE_PHRASES = {
    BM: "Ballistic missile launch",
    CM: "Cruise missile launch",
    HM: "Hypersonic missile launch",
    NT: "Underground nuclear test",
    SL: "Satellite launch attempt",
    ET: "Ground test of a rocket engine",
    AR: "Artillery or rocket-launcher fire",
    OW: "Weapons test",
    INC: "Incursion",
    HAR: "Harassment",
    CLASH: "Armed clash",
    ATT: "Attack",
    NUC: "Nuclear programme step",
    DRILL: "Military exercise or declaration",
}
LARGE_ROCKETS = "600 mm rockets, which South Korea counts as short-range ballistic missiles"

URL = re.compile(r"(?:https?://|www\.)[^\s;\"<>]+")
VIDEO_SUFFIX = re.compile(r"Video(?::.*)?$")


@dataclass
class EventPart:
    """One (row, kind) contribution to an event: a row that records two kinds gives two parts."""

    row: CsisRow
    rule: LabelRule
    event_type: str
    event_date: date
    count: int | None
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    split: bool = False


def event_id(day: date, event_type: str) -> str:
    return f"{day.isoformat()}-{event_type}"


def first_reference(resources: str) -> str:
    """The row's first reference: a URL when there is one, else the first citation."""
    text = resources.strip()
    if not text:
        return ""
    first = text.split(";")[0].strip()
    match = URL.search(first)
    if not match:
        return first
    url = VIDEO_SUFFIX.sub("", match.group(0))
    if url.endswith("The") and first[match.end() :].startswith(" US Military"):
        url = url[: -len("The")]  # "https://goo.gl/abcdefThe US Military Experience ..." run together
    return url


def build_event(group: list[EventPart]) -> EventRecord:
    """The event of one day and type; its count is the sum when every part states one."""
    first = group[0]
    counts = [part.count for part in group]
    count = None if None in counts else sum(c for c in counts if c is not None)
    return EventRecord(
        id=event_id(first.event_date, first.event_type),
        date=first.event_date,
        event_type=first.event_type,
        weapons_test=EVENT_TYPES[first.event_type].weapons_test_default,
        count=count,
        description=describe_event(group, count),
        source="; ".join([CSIS_CITATION, *_references(group)]),
    )


def _references(group: list[EventPart]) -> list[str]:
    references: list[str] = []
    for part in group:
        for reference in [first_reference(part.row.resources), *part.sources]:
            if reference and reference not in references:
                references.append(reference)
    return references


def describe_event(group: list[EventPart], count: int | None) -> str:
    """One sentence in our own words: the type, the count, the class named by the CSIS label."""
    first = group[0]
    kind = first.event_type
    text = TYPE_PHRASES[kind]
    if kind in COUNTED_TYPES:
        text += f", {count} fired" if count is not None else ", number fired not stated"
    details = []
    weapon = _weapon_named(first)
    if weapon:
        details.append(f"class named by CSIS: {weapon}")
    labels = list(dict.fromkeys(part.row.event for part in group))
    details.append(f"CSIS label: {'; '.join(labels)}")
    if len(group) > 1:
        details.append(f"{len(group)} CSIS rows of the same day merged")
    if first.split:
        details.append("the CSIS row records more than one kind of event")
    for part in group:
        for note in part.notes:
            if note not in details:
                details.append(note)
    return f"{text} ({'; '.join(details)})."


def _weapon_named(part: EventPart) -> str:
    """The weapon class the label names, when the label's (first) kind is the event's."""
    if part.event_type in (BM, HM) and part.rule.rockets:
        return LARGE_ROCKETS
    if part.rule.types and part.rule.types[0] == part.event_type:
        return part.rule.weapon
    return ""
