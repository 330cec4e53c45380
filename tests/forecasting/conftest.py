"""Fixtures for the engine tests: the shipped history, real models fitted on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from forecasting.domain.history import History
from forecasting.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def shipped_history() -> History:
    return History.from_seed_files(PROJECT_ROOT / "seeds")


def with_events_changed_after(history: History, cutoff: date) -> History:
    """The same history with every event after the cutoff removed and made-up ones put in their place.

    Used only to prove that nothing after a cutoff can reach a forecast.
    """
    events = history.events
    kept = events[events["date"] <= pd.Timestamp(cutoff)]
    later_days = pd.date_range(pd.Timestamp(cutoff) + pd.Timedelta(days=1), periods=400, freq="3D")
    invented = pd.DataFrame(
        {
            "id": [f"probe-{i}" for i in range(len(later_days))],
            "date": later_days.astype("datetime64[ns]"),
            "event_type": "ballistic_missile",
            "weapons_test": True,
            "count": pd.array([5] * len(later_days), dtype="Int64"),
        }
    )
    return replace(history, events=pd.concat([kept, invented], ignore_index=True))
