"""Load the models' `History` from the store (the only way models see stored data)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forecasting.domain.history import History
from forecasting.store.repository import event_records, list_elections, list_exercises


def load_history(session: Session) -> History:
    return History.from_records(event_records(session), list_elections(session), list_exercises(session))
