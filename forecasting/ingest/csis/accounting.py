"""Accounting for every CSIS row: mapped to its own event(s), merged into another row's, or left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from forecasting.ingest.csis.corrections import CorrectedField, CsisCorrection
from forecasting.ingest.csis.events import EventPart
from forecasting.ingest.csis.rows import CsisRow


class RowOutcome(StrEnum):
    MAPPED = "mapped"  # the row is the first (or only) row of its event(s)
    MERGED = "merged"  # same date and type as an earlier row: added to that row's event
    LEFT_OUT = "left_out"


MAPPED, MERGED, LEFT_OUT = RowOutcome.MAPPED, RowOutcome.MERGED, RowOutcome.LEFT_OUT


@dataclass(frozen=True)
class CsisAccounting:
    line: int
    date: date
    label: str
    outcome: RowOutcome
    event_ids: tuple[str, ...]
    reason: str

    @property
    def event_id(self) -> str:
        return " + ".join(self.event_ids)


@dataclass
class _EventLines:
    """Which rows head each event and which rows were merged into it."""

    heads: dict[int, list[str]]  # line -> ids of the events the row heads
    merged_into: dict[int, list[str]]  # line -> ids of the events the row was merged into
    head_line: dict[str, int]  # event id -> the line of its first row

    @classmethod
    def of(cls, grouped: dict[str, list[EventPart]]) -> _EventLines:
        lines = cls({}, {}, {})
        for eid, group in grouped.items():
            lines.heads.setdefault(group[0].row.line, []).append(eid)
            lines.head_line[eid] = group[0].row.line
            for part in group[1:]:
                lines.merged_into.setdefault(part.row.line, []).append(eid)
        return lines


def account_for_rows(
    rows: list[CsisRow],
    grouped: dict[str, list[EventPart]],
    left_out: dict[int, str],
    corrections: dict[int, list[CsisCorrection]],
) -> list[CsisAccounting]:
    """One entry per row, in the rows' order; `grouped` holds each event's parts, its first row first."""
    lines = _EventLines.of(grouped)
    split_rows = {part.row.line for group in grouped.values() for part in group if part.split}
    result = []
    for row in rows:
        if row.line in left_out:
            result.append(CsisAccounting(row.line, row.date, row.label, LEFT_OUT, (), left_out[row.line]))
            continue
        heads = lines.heads.get(row.line, [])
        into = lines.merged_into.get(row.line, [])
        ids = tuple(sorted(heads + into))
        fixes = _corrections_note(corrections.get(row.line, []))
        if heads:
            reason = "two kinds on one row, two events" if row.line in split_rows else "one event"
            if into:
                reason += f"; merged into {', '.join(sorted(into))} for its other kind"
            result.append(CsisAccounting(row.line, row.date, row.label, MAPPED, ids, reason + fixes))
        else:
            heads_of = ", ".join(f"line {lines.head_line[eid]}" for eid in sorted(into))
            reason = f"same date and type as the row on {heads_of}; counts added when both are known"
            result.append(CsisAccounting(row.line, row.date, row.label, MERGED, ids, reason + fixes))
    return result


def _corrections_note(fixes: list[CsisCorrection]) -> str:
    return "".join(
        f"; corrected {fix.field}" + (f" to {fix.value}" if fix.field == CorrectedField.DATE else "") for fix in fixes
    )
