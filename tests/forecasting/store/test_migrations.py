import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from forecasting.store.migrations import runner as migrate
from forecasting.store.migrations.runner import (
    current_revision,
    downgrade_schema,
    head_revision,
    upgrade_schema,
)
from forecasting.store.tables import Base

HISTORY_TABLES = {"events", "elections", "exercises"}


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_from_empty_creates_every_model_table(store_engine: Engine) -> None:
    assert table_names(store_engine) == set()
    assert current_revision(store_engine) is None

    upgrade_schema(store_engine)

    assert HISTORY_TABLES <= set(Base.metadata.tables)
    assert table_names(store_engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(store_engine) == head_revision()


def test_migrated_schema_matches_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(migrated_engine: Engine) -> None:
    downgrade_schema(migrated_engine, "base")
    assert table_names(migrated_engine) == {"alembic_version"}
    assert current_revision(migrated_engine) is None

    upgrade_schema(migrated_engine)
    assert HISTORY_TABLES <= table_names(migrated_engine)
    assert current_revision(migrated_engine) == head_revision()


def test_upgrade_twice_is_a_no_op(migrated_engine: Engine) -> None:
    upgrade_schema(migrated_engine)
    assert current_revision(migrated_engine) == head_revision()


def test_new_revision_is_numbered_after_the_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    last = migrate.head_revision()
    following = f"{int(last) + 1:04d}"

    path = migrate.new_revision(url, "add nothing yet", autogenerate=False)

    assert path.parent == migrations / "versions"
    assert path.name == f"{following}_add_nothing_yet.py"
    text = path.read_text()
    assert f"revision: str = '{following}'" in text
    assert f"down_revision: str | None = '{last}'" in text
    assert migrate.head_revision() == following


def test_0004_gives_an_existing_store_the_seeds_coverage_and_nothing_for_manual_events(store_engine: Engine) -> None:
    from sqlalchemy import text

    upgrade_schema(store_engine, "0003")
    with store_engine.begin() as connection:
        for event_id, day, origin in (
            ("2026-08-20-ballistic_missile", "2026-08-20", "seed"),
            ("2026-08-06-ballistic_missile", "2026-08-06", "seed"),
            ("2026-11-20-ballistic_missile", "2026-11-20", "manual"),
            ("2026-10-01-cruise_missile", "2026-10-01", "import"),
        ):
            connection.execute(
                text(
                    "INSERT INTO events (id, date, event_type, weapons_test, count, description, source, origin) "
                    "VALUES (:id, :day, 'ballistic_missile', true, 1, 'x', 'y', :origin)"
                ),
                {"id": event_id, "day": day, "origin": origin},
            )
    upgrade_schema(store_engine)
    with store_engine.connect() as connection:
        rows = connection.execute(text("SELECT source, through FROM coverage")).all()
        assert [(source, str(through)) for source, through in rows] == [("seed", "2026-08-20")]
        # A sync's rows are allowed now; the old origins still are, and nothing else is.
        connection.execute(
            text(
                "INSERT INTO events (id, date, event_type, weapons_test, description, source, origin) "
                "VALUES ('s', '2026-08-21', 'ballistic_missile', true, 'x', 'y', 'sync')"
            )
        )
        with pytest.raises(Exception, match="(?i)check"):
            connection.execute(
                text(
                    "INSERT INTO events (id, date, event_type, weapons_test, description, source, origin) "
                    "VALUES ('t', '2026-08-21', 'ballistic_missile', true, 'x', 'y', 'robot')"
                )
            )
        connection.rollback()
    downgrade_schema(store_engine, "0003")
    assert "coverage" not in table_names(store_engine) and "sync_runs" not in table_names(store_engine)


def test_0004_on_an_empty_store_records_no_coverage(store_engine: Engine) -> None:
    from sqlalchemy import text

    upgrade_schema(store_engine)
    with store_engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM coverage")).scalar() == 0
