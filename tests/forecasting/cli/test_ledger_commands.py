"""`provocast ledger`, `ledger record` and `ledger score` on a seeded store with the run's model set active."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.store.db import create_session_factory, create_store_engine
from tests.conftest import install_artifact
from tests.fixtures import shipped_seeds_dir

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def seeded_env(store_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(shipped_seeds_dir()))
    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("seed").exit_code == 0
    return store_env


def activate(url: str, artifact: Path) -> str:
    engine = create_store_engine(url)
    try:
        return install_artifact(create_session_factory(engine), artifact).id
    finally:
        engine.dispose()


def test_record_show_and_score(seeded_env: str, trained_artifact: Path) -> None:
    empty = invoke("ledger")
    assert empty.exit_code == 0 and "no forecasts recorded yet" in empty.output
    no_model = invoke("ledger", "record")
    assert no_model.exit_code == 1 and "no active model version yet" in no_model.stderr

    version = activate(seeded_env, trained_artifact)
    recorded = invoke("ledger", "record")
    assert recorded.exit_code == 0, recorded.output
    first_line = recorded.output.splitlines()[0]
    assert first_line.startswith(f"ledger: version {version}: recorded ") and "already recorded 0" in first_line
    assert "beyond the forecast horizon" in recorded.output  # the 2030 elections, named with the reason
    again = invoke("ledger", "record")
    assert "recorded 0, already recorded" in again.output

    shown = invoke("ledger")
    assert shown.exit_code == 0
    assert f"version {version}: " in shown.output and "none scored yet" in shown.output
    assert "us-midterm-2026-11-03" in shown.output and "2026-10-04..2026-12-03" in shown.output

    as_json = json.loads(invoke("ledger", "--json", "--election", "us-midterm-2026-11-03").output)
    (entry,) = as_json["entries"]
    assert entry["version_id"] == version and entry["scored_at"] is None and 0 < entry["probability_any"] < 1
    assert as_json["versions"][0]["entries"] >= 3 and as_json["history_end"] == "2026-08-20"
    assert invoke("ledger", "--json", "--version", "nope").output.strip().startswith("{")

    scored = invoke("ledger", "score")
    assert scored.exit_code == 0 and scored.output.startswith("ledger: scored 0 closed window(s)")


def test_an_unmigrated_store_exits_1(store_env: str) -> None:
    for command in (["ledger"], ["ledger", "score"], ["ledger", "record"]):
        result = invoke(*command)
        assert result.exit_code == 1 and "run `provocast db upgrade`" in result.stderr
