from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.store.db import create_store_engine, display_url
from forecasting.store.migrations.runner import head_revision

runner = CliRunner()


def test_upgrade_creates_the_schema_once(store_env: str) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    second = runner.invoke(app, ["db", "upgrade"])
    current = runner.invoke(app, ["db", "current"])

    assert first.exit_code == 0, first.output
    assert first.stdout == f"{display_url(store_env)}: upgraded from an empty database to revision {head_revision()}\n"
    assert second.stdout == f"{display_url(store_env)}: already at revision {head_revision()}\n"
    assert current.stdout == f"{display_url(store_env)}: revision {head_revision()}; latest is {head_revision()}\n"
    engine = create_store_engine(store_env)
    assert {"events", "elections", "exercises"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_downgrade_to_base_drops_the_tables(store_env: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["db", "downgrade", "base", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("now at revision base (no tables)\n")
    engine = create_store_engine(store_env)
    assert "events" not in inspect(engine).get_table_names()
    engine.dispose()


def test_seed_reports_inserted_then_unchanged(store_env: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    first = runner.invoke(app, ["seed"])
    second = runner.invoke(app, ["seed"])

    assert first.exit_code == 0, first.output
    assert "  events: inserted 10, updated 0, unchanged 0\n" in first.stdout
    assert "  elections: inserted 6, updated 0, unchanged 0\n" in first.stdout
    assert "  exercises: inserted 2, updated 0, unchanged 0\n" in first.stdout
    assert "  events: inserted 0, updated 0, unchanged 10\n" in second.stdout


def test_seed_before_upgrade_says_what_to_do(store_env: str) -> None:
    result = runner.invoke(app, ["seed"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the store at {display_url(store_env)} has no schema yet; run `provocast db upgrade`\n"
    )


def test_bad_seed_file_exits_2_naming_file_line_and_field(
    store_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures import copy_fixture_seeds

    seeds = copy_fixture_seeds(tmp_path / "seeds")
    text = (seeds / "events.csv").read_text(encoding="utf-8")
    (seeds / "events.csv").write_text(text.replace("2013-02-12,nuclear_test", "2013-02-12,nuclear"), encoding="utf-8")
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(seeds))
    runner.invoke(app, ["db", "upgrade"])

    result = runner.invoke(app, ["seed"])

    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {seeds / 'events.csv'}:6: field 'event_type': unknown event type 'nuclear'"
    )
    assert "Traceback" not in result.output


def test_revision_against_an_unmigrated_store_is_refused(
    store_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from forecasting.store.migrations import runner as migrate

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    shipped = sorted(p.name for p in (copy / "versions").glob("*.py"))

    result = runner.invoke(app, ["db", "revision", "add a table"])

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot write a revision against {display_url(store_env)}: Target database is not up to date.\n"
    )
    assert sorted(p.name for p in (copy / "versions").glob("*.py")) == shipped


def test_downgrade_asks_and_without_a_terminal_needs_yes(store_env: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    refused = runner.invoke(app, ["db", "downgrade", "base"])
    assert refused.exit_code == 2 and "pass --yes" in refused.output
    engine = create_store_engine(store_env)
    assert "events" in inspect(engine).get_table_names()
    engine.dispose()
