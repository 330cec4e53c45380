"""Mapping CSIS rows onto event records, in the order the rules apply to a row.

1. The label table (`LABELS`) gives the row's event type(s) or leaves it out;
   an unknown (type, event) pair is refused.
2. The description rules (`description_kinds`) may change the kind.
3. The corrections fix single rows (date, kinds, count) or leave them out.
4. Counts are read from the description; rows with the same date and type
   merge into one event (counts added when all are known); every row is
   accounted for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from forecasting.domain.records import EventRecord, FieldProblem, RecordFileError
from forecasting.ingest.csis.accounting import CsisAccounting, account_for_rows
from forecasting.ingest.csis.corrections import CorrectedField, CsisCorrection
from forecasting.ingest.csis.counts import COUNTED_TYPES, read_count
from forecasting.ingest.csis.description_rules import description_kinds
from forecasting.ingest.csis.events import EventPart, build_event, event_id
from forecasting.ingest.csis.labels import AR, CM, HM, LABELS, OW, LabelRule
from forecasting.ingest.csis.rows import CsisRow

KIND_FROM_TEXT = {
    CM: "kind read from the CSIS text, which names cruise or anti-ship missiles",
    OW: "kind read from the CSIS text, which names surface-to-air missiles",
    AR: "kind read from the CSIS text, which names artillery shells fired the same day",
    HM: "kind read from the CSIS text: announced or assessed as hypersonic",
}


@dataclass
class CsisMapping:
    events: list[EventRecord]
    accounting: list[CsisAccounting]


def map_csis_rows(rows: list[CsisRow], file_name: str, corrections: Sequence[CsisCorrection] = ()) -> CsisMapping:
    """Map CSIS rows onto event records; account for every row.

    Raises RecordFileError for a label pair not in `LABELS` (field `event`) and
    for a correction that matches no row or several.
    """
    _check_labels(rows, file_name)
    by_row = _corrections_by_row(rows, corrections, file_name)
    parts: list[EventPart] = []
    left_out: dict[int, str] = {}
    for row in rows:
        rule = LABELS[(row.type, row.event)]
        fixes = by_row.get(row.line, [])
        leave = next((fix for fix in fixes if fix.field == CorrectedField.LEAVE_OUT), None)
        if leave is not None:
            left_out[row.line] = f"correction: {leave.reason} ({leave.source})"
        elif not rule.types:
            left_out[row.line] = rule.left_out
        else:
            parts.extend(_row_parts(row, rule, fixes))

    grouped: dict[str, list[EventPart]] = {}
    for part in sorted(parts, key=lambda p: (p.event_date, p.row.date, p.row.line)):
        grouped.setdefault(event_id(part.event_date, part.event_type), []).append(part)
    events = sorted((build_event(group) for group in grouped.values()), key=lambda e: (e.date, e.id))
    return CsisMapping(events=events, accounting=account_for_rows(rows, grouped, left_out, by_row))


def _check_labels(rows: list[CsisRow], file_name: str) -> None:
    unknown = [
        FieldProblem(
            file_name,
            row.line,
            "event",
            f"unknown CSIS label {row.event!r} (type {row.type!r}); add it to forecasting.ingest.csis.LABELS",
        )
        for row in rows
        if (row.type, row.event) not in LABELS
    ]
    if unknown:
        raise RecordFileError(unknown)


def _corrections_by_row(
    rows: list[CsisRow], corrections: Sequence[CsisCorrection], file_name: str
) -> dict[int, list[CsisCorrection]]:
    by_row: dict[int, list[CsisCorrection]] = {}
    problems: list[FieldProblem] = []
    for correction in corrections:
        matches = [r for r in rows if r.date == correction.csis_date and r.event == correction.csis_event]
        if len(matches) != 1:
            problems.append(
                FieldProblem(
                    file_name,
                    correction.line,
                    "csis_event",
                    f"correction for {correction.csis_date} {correction.csis_event!r} matches "
                    f"{len(matches)} CSIS rows (expected exactly one)",
                )
            )
            continue
        by_row.setdefault(matches[0].line, []).append(correction)
    if problems:
        raise RecordFileError(problems)
    return by_row


def _row_parts(row: CsisRow, rule: LabelRule, fixes: list[CsisCorrection]) -> list[EventPart]:
    """The row's contributions, one per kind, after the description rules and the row's corrections."""
    kinds = description_kinds(rule, row.description)
    event_date = row.date
    notes: list[str] = []
    sources: list[str] = []
    for fix in fixes:
        if fix.field == CorrectedField.EVENT_TYPES:
            kinds = tuple(fix.value.split("+"))
            notes.append(f"type corrected ({fix.reason})")
            sources.append(fix.source)
        elif fix.field == CorrectedField.DATE:
            event_date = date.fromisoformat(fix.value)
            notes.append(f"CSIS date {row.date.isoformat()} corrected to the Korean local date")
            sources.append(fix.source)
    kinds_corrected = any(fix.field == CorrectedField.EVENT_TYPES for fix in fixes)
    parts = []
    for kind in kinds:
        part = EventPart(row, rule, kind, event_date, None, list(notes), list(sources), split=len(kinds) > 1)
        if kind in COUNTED_TYPES:
            part.count = read_count(row.description, kind, kinds[0])
        if kind not in rule.types and kind in KIND_FROM_TEXT and not kinds_corrected:
            part.notes.insert(0, KIND_FROM_TEXT[kind])
        _apply_count_corrections(part, fixes)
        parts.append(part)
    return parts


def _apply_count_corrections(part: EventPart, fixes: list[CsisCorrection]) -> None:
    for fix in fixes:
        if fix.field == CorrectedField.COUNT and fix.event_type == part.event_type:
            part.count = int(fix.value) if fix.value else None
            part.notes.append(f"count {'set' if fix.value else 'left unknown'} by correction ({fix.reason})")
            part.sources.append(fix.source)
