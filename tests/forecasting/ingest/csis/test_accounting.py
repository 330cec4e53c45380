"""The accounting: every row once, with a reason that names merges, corrections and left-out rows."""

from __future__ import annotations

from datetime import date

from forecasting.ingest.csis import CsisCorrection, RowOutcome, map_csis_rows
from tests.forecasting.ingest.csis import csis_row

SRBM = "Short-range Ballistic Missile Launch"


def fix(line: int, day: str, field: str, value: str) -> CsisCorrection:
    return CsisCorrection(line, date.fromisoformat(day), SRBM, "", field, value, "a reason", "a source")


def test_reasons_name_the_first_row_the_corrections_and_the_leave_out_source() -> None:
    rows = [
        csis_row(2, "2019-08-05", "Missile Provocation", SRBM, "Two SRBMs were fired."),
        csis_row(3, "2019-08-06", "Missile Provocation", SRBM, "One more SRBM."),
        csis_row(4, "2019-09-10", "Missile Provocation", SRBM, "A misdated duplicate."),
    ]
    corrections = [fix(7, "2019-08-05", "date", "2019-08-06"), fix(8, "2019-09-10", "leave_out", "")]
    accounting = {a.line: a for a in map_csis_rows(rows, "csis.csv", corrections).accounting}

    assert (accounting[2].outcome, accounting[2].reason) == (
        RowOutcome.MAPPED,
        "one event; corrected date to 2019-08-06",
    )
    assert (accounting[3].outcome, accounting[3].event_id) == (RowOutcome.MERGED, "2019-08-06-ballistic_missile")
    assert accounting[3].reason == "same date and type as the row on line 2; counts added when both are known"
    assert (accounting[4].outcome, accounting[4].event_ids) == (RowOutcome.LEFT_OUT, ())
    assert accounting[4].reason == "correction: a reason (a source)"
