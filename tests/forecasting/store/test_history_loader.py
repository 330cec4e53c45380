import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from forecasting.domain.history import History
from forecasting.store.db import transaction
from forecasting.store.history_loader import load_history
from forecasting.store.seeding import seed_store
from tests.fixtures import FIXTURE_SEEDS


def test_history_from_the_store_equals_history_from_the_seed_files(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        seed_store(session, FIXTURE_SEEDS)
    with transaction(sessions) as session:
        loaded = load_history(session)
    expected = History.from_seed_files(FIXTURE_SEEDS)

    pd.testing.assert_frame_equal(loaded.events, expected.events)
    pd.testing.assert_frame_equal(loaded.elections, expected.elections)
    pd.testing.assert_frame_equal(loaded.exercises, expected.exercises)
    assert loaded.events["count"].isna().sum() == 2  # unknown counts stay missing, not zero
    assert loaded.elections.set_index("id").loc["kr-presidential-2025", "announced"] == pd.Timestamp("2025-04-08")


def test_empty_store_gives_an_empty_history(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        history = load_history(session)
    assert history.events.empty and history.elections.empty and history.exercises.empty
    assert list(history.events.columns) == ["id", "date", "event_type", "weapons_test", "count"]
