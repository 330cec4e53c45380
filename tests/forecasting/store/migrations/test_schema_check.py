"""The start-up schema check, which reads the head from the revision files instead of importing Alembic."""

from pathlib import Path

import pytest
from sqlalchemy import Engine

from forecasting.store.db import StoreUnavailable, create_store_engine
from forecasting.store.migrations.runner import current_revision, downgrade_schema, head_revision, upgrade_schema
from forecasting.store.migrations.schema_check import (
    VERSIONS_DIR,
    head_from_files,
    require_current_schema,
    stored_revision,
)


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_from_files() == head_revision()


def test_a_fork_or_a_file_without_a_revision_is_refused(tmp_path: Path) -> None:
    for path in VERSIONS_DIR.glob("*.py"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    head = head_revision()
    (tmp_path / "9998_fork.py").write_text(f'revision = "9998"\ndown_revision = "{head}"\n', "utf-8")
    (tmp_path / "9999_fork.py").write_text(f"revision: str = '9999'\ndown_revision: str | None = '{head}'\n", "utf-8")
    with pytest.raises(ValueError, match="2 heads: \\['9998', '9999'\\]"):
        head_from_files(tmp_path)
    (tmp_path / "9999_fork.py").write_text("down_revision = '9998'\n", "utf-8")
    with pytest.raises(ValueError, match="9999_fork.py declares no revision"):
        head_from_files(tmp_path)


def test_the_stored_revision_is_alembics_at_every_step(store_engine: Engine) -> None:
    assert stored_revision(store_engine) is None
    upgrade_schema(store_engine, "0002")
    assert stored_revision(store_engine) == current_revision(store_engine) == "0002"
    upgrade_schema(store_engine)
    assert stored_revision(store_engine) == current_revision(store_engine) == head_revision()
    downgrade_schema(store_engine, "base")
    assert stored_revision(store_engine) is None


def test_require_current_schema_refuses_an_unmigrated_or_older_store(store_engine: Engine) -> None:
    with pytest.raises(StoreUnavailable, match="has no schema yet; run `provocast db upgrade`"):
        require_current_schema(store_engine)
    upgrade_schema(store_engine, "0001")
    with pytest.raises(StoreUnavailable, match=f"is at revision 0001, not {head_revision()}; run `provocast db"):
        require_current_schema(store_engine)
    upgrade_schema(store_engine)
    require_current_schema(store_engine)


def test_unreachable_store_is_reported_without_the_password() -> None:
    engine = create_store_engine("postgresql+psycopg://someone:secret@127.0.0.1:1/nowhere?connect_timeout=2")
    with pytest.raises(StoreUnavailable) as caught:
        require_current_schema(engine)
    assert "cannot open the store at postgresql+psycopg://someone:***@127.0.0.1:1/nowhere" in str(caught.value)
    assert "secret" not in str(caught.value)
