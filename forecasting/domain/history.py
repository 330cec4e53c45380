"""The history the models learn from: events and the two calendars, as DataFrames.

This is the boundary between the store and the models. The store loads a
`History` (see `forecasting.store.repository.load_history`); tests and offline tools
can build one straight from the seed files. Models never see a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from forecasting.domain.records import (
    ElectionRecord,
    EventRecord,
    ExerciseRecord,
    read_elections_csv,
    read_events_csv,
    read_exercises_csv,
)

EVENT_FRAME_COLUMNS = ["id", "date", "event_type", "weapons_test", "count"]
ELECTION_FRAME_COLUMNS = ["id", "date", "country", "kind", "announced"]
EXERCISE_FRAME_COLUMNS = ["id", "name", "start_date", "end_date", "approximate"]


@dataclass(frozen=True)
class History:
    """Events (one row per event day and kind) and the election and exercise calendars.

    Dates are `datetime64[ns]` normalised to midnight (local Korean dates).
    `elections.announced` is the date an election's date became known (snap
    elections); NaT means it was on the regular calendar well in advance.
    """

    events: pd.DataFrame
    elections: pd.DataFrame
    exercises: pd.DataFrame

    @property
    def last_event_date(self) -> date:
        if self.events.empty:
            raise ValueError("the history holds no events")
        last: date = self.events["date"].max().date()
        return last

    def events_through(self, cutoff: date) -> pd.DataFrame:
        """Events on or before the cutoff: the only events a model fitted at the cutoff may read."""
        return self.events[self.events["date"] <= pd.Timestamp(cutoff)]

    def known_at(self, cutoff: date) -> History:
        """The history as it stood on the cutoff day.

        Events after the cutoff are dropped. Elections stay if they were on the
        calendar by then (announced on or before the cutoff, or regular).
        Exercises that had started by the cutoff stay; later ones are not known
        (the features project them from past years instead).
        """
        stamp = pd.Timestamp(cutoff)
        elections = self.elections[self.elections["announced"].isna() | (self.elections["announced"] <= stamp)]
        exercises = self.exercises[self.exercises["start_date"] <= stamp]
        return History(self.events_through(cutoff).copy(), elections.copy(), exercises.copy())

    @classmethod
    def from_records(
        cls,
        events: Iterable[EventRecord],
        elections: Iterable[ElectionRecord],
        exercises: Iterable[ExerciseRecord],
    ) -> History:
        event_frame = pd.DataFrame(
            [(e.id, e.date, e.event_type, e.weapons_test, e.count) for e in events],
            columns=EVENT_FRAME_COLUMNS,
        )
        election_frame = pd.DataFrame(
            [(e.id, e.date, e.country, e.kind, e.announced) for e in elections],
            columns=ELECTION_FRAME_COLUMNS,
        )
        exercise_frame = pd.DataFrame(
            [(x.id, x.name, x.start_date, x.end_date, x.approximate) for x in exercises],
            columns=EXERCISE_FRAME_COLUMNS,
        )
        return cls(
            events=_normalise(event_frame, ["date"]).sort_values(["date", "id"]).reset_index(drop=True),
            elections=_normalise(election_frame, ["date", "announced"]).sort_values("date").reset_index(drop=True),
            exercises=_normalise(exercise_frame, ["start_date", "end_date"])
            .sort_values("start_date")
            .reset_index(drop=True),
        )

    @classmethod
    def from_seed_files(cls, seeds_dir: Path) -> History:
        return cls.from_records(
            read_events_csv(seeds_dir / "events.csv"),
            read_elections_csv(seeds_dir / "elections.csv"),
            read_exercises_csv(seeds_dir / "exercises.csv"),
        )


def _normalise(frame: pd.DataFrame, date_columns: list[str]) -> pd.DataFrame:
    for column in date_columns:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    if "count" in frame.columns:
        frame["count"] = frame["count"].astype("Int64")
    if "weapons_test" in frame.columns:
        frame["weapons_test"] = frame["weapons_test"].astype(bool)
    return frame
