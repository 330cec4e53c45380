from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from forecasting.records import EventRecord
from forecasting.store.db import create_session_factory, create_store_engine, display_url, transaction
from forecasting.store.migrate import upgrade_schema
from forecasting.store.models import EventRow


def test_sqlite_file_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'nested' / 'store.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (tmp_path / "nested" / "store.db").exists()
    engine.dispose()


def test_display_url_hides_the_password() -> None:
    shown = display_url("postgresql+psycopg://provocast:hunter2@db.example:5432/provocast")
    assert shown == "postgresql+psycopg://provocast:***@db.example:5432/provocast"


def test_transaction_rolls_back_everything_on_error(store_engine: Engine) -> None:
    upgrade_schema(store_engine)
    sessions = create_session_factory(store_engine)
    record = EventRecord("e1", date(2017, 9, 3), "nuclear_test", True, 1, "d", "s")
    with pytest.raises(RuntimeError):
        with transaction(sessions) as session:
            session.add(EventRow.from_record(record, "manual"))
            session.flush()
            raise RuntimeError("stop half-way")
    with transaction(sessions) as session:
        assert session.scalars(select(EventRow)).all() == []
