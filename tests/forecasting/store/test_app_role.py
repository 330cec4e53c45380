"""The app role on PostgreSQL: rows only. The owner migrates and grants (`provocast db grant ROLE`); the role the
service and the jobs connect as cannot drop or disable the ledger's triggers, truncate, or change the schema.

Needs a second login role on the test server (`PROVOCAST_TEST_POSTGRES_APP_URL`; .ci/run creates
`provocast_app`). On SQLite there are no roles: the store is guarded by its file's permissions, and `db grant`
says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.domain.records import EventRecord
from forecasting.store.db import create_session_factory, write_transaction
from forecasting.store.repository import add_event, delete_event, event_deletions

APP_URL_ENV = "PROVOCAST_TEST_POSTGRES_APP_URL"
runner = CliRunner()
EVENT = EventRecord("app-role-1", date(2024, 1, 2), "artillery", True, None, "Guns.", "https://example.org/a")


@pytest.fixture
def app_engine(store_url: str, store_env: str) -> Iterator[Engine]:
    if not store_url.startswith("postgresql"):
        result = runner.invoke(app, ["db", "upgrade"])
        refused = runner.invoke(app, ["db", "grant", "provocast_app"])
        assert result.exit_code == 0 and refused.exit_code == 2 and "file's permissions" in refused.output
        pytest.skip("SQLite has no roles")
    app_url = os.environ.get(APP_URL_ENV)
    if not app_url:
        if os.environ.get("PROVOCAST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{APP_URL_ENV} is not set (.ci/run sets it)")
        pytest.skip(f"{APP_URL_ENV} is not set: no second role to test with")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    role = make_url(app_url).username
    granted = runner.invoke(app, ["db", "grant", str(role)])
    assert granted.exit_code == 0, granted.output
    options = make_url(store_url).query["options"]
    engine = create_engine(make_url(app_url).update_query_dict({"options": options}))
    try:
        yield engine
    finally:
        engine.dispose()


def test_the_app_role_reads_and_writes_rows(app_engine: Engine) -> None:
    factory = create_session_factory(app_engine)
    with write_transaction(factory) as session:
        add_event(session, EVENT)
    with write_transaction(factory) as session:
        delete_event(session, EVENT.id, "test")
    with factory() as session:
        assert [d["event_id"] for d in event_deletions(session)] == [EVENT.id]


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TRIGGER forecast_ledger_guard_rows ON forecast_ledger",
        "ALTER TABLE forecast_ledger DISABLE TRIGGER ALL",
        "TRUNCATE events",
        "DROP TABLE events",
        "CREATE TABLE sneaky (id integer)",
        "DELETE FROM forecast_ledger",
        "DELETE FROM event_deletions",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
def test_the_app_role_cannot_change_the_schema_or_the_guards(app_engine: Engine, statement: str) -> None:
    with app_engine.connect() as connection:
        with pytest.raises(DBAPIError, match="permission denied|must be owner"):
            connection.execute(text(statement))
