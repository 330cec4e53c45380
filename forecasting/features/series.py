"""Daily event-count series: the target every model forecasts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from forecasting.features.calendar import day_index


def daily_counts(events: pd.DataFrame, event_types: tuple[str, ...], start: date, end: date) -> pd.Series:
    """Number of weapons-test events of the given types on each day from start to end inclusive.

    An event is one row of the history: one event day and kind. Several
    launches of one kind on a day are one event (their number is in `count`);
    a ballistic and a cruise missile launch on the same day are two.
    """
    days = day_index(start, end)
    selected = events[events["weapons_test"] & events["event_type"].isin(event_types)]
    selected = selected[(selected["date"] >= days[0]) & (selected["date"] <= days[-1])]
    counts = selected.groupby("date").size()
    return counts.reindex(days, fill_value=0).astype(np.int64).rename("count")
