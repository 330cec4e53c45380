"""`/v1/ledger`: the track record, every published election forecast and how it did once its window closed.

Read-only: the ledger is written when a version becomes active and scored as
windows close (forecasting.lifecycle.ledger); no request writes to it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from forecasting.lifecycle import ledger
from service.deps import ReadSession
from service.schemas import Ledger, LedgerEntryOut, VersionRecordOut, error_responses

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


ABOUT = (
    "Every forecast the service published for an election window that had not closed, recorded once per model "
    "version and window and never changed; scored against what happened once the store's history covers the window. "
    "Brier score: the squared difference between the probability and what happened (1 or 0), 0 is perfect; "
    "climatology is the long-run seasonal rate, the score to beat."
)


def track_record_answer(record: ledger.TrackRecord) -> Ledger:
    return Ledger(
        history_end=record.history_end,
        about=ABOUT,
        versions=[VersionRecordOut.model_validate(v) for v in record.versions],
        items=[LedgerEntryOut.model_validate(e) for e in record.entries],
    )


@router.get(
    "",
    name="list",
    response_model=Ledger,
    summary="The track record: every published election forecast, scored once its window closed",
    responses=error_responses(422, 503),
)
def track_record(
    session: ReadSession,
    version: Annotated[str | None, Query(max_length=40, description="Only this model version.")] = None,
    election_id: Annotated[str | None, Query(max_length=100, description="Only this election.")] = None,
    status: Annotated[Literal["open", "scored"] | None, Query(description="Only open or only scored entries.")] = None,
) -> Ledger:
    scored = None if status is None else status == "scored"
    return track_record_answer(ledger.track_record(session, version_id=version, election_id=election_id, scored=scored))
