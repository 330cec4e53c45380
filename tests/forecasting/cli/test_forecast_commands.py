"""`provocast forecast` and `provocast backtest` on a real SQLite store seeded with the shipped history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from tests.fixtures import shipped_seeds_dir

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def shipped_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROVOCAST_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("PROVOCAST_SEEDS_DIR", str(shipped_seeds_dir()))
    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("seed").exit_code == 0
    return tmp_path


def test_forecast_as_of_a_past_cutoff_prints_the_forecast_in_plain_words(shipped_store: Path) -> None:
    result = invoke(
        "forecast", "--election", "kr-legislative-2024-04-10", "--cutoff", "2024-02-09", "--model", "hawkes"
    )
    assert result.exit_code == 0, result.output
    assert "Window 2024-03-11 to 2024-05-10 around the KR legislative election of 2024-04-10" in result.stdout
    assert "data cutoff 2024-02-09" in result.stdout
    assert "Chance of at least one weapons test:" in result.stdout
    assert "Election effect: x" in result.stdout
    # No version has been trained in this store, so there is no backtest skill to show.
    assert "Skill: not measured" in result.stdout


def test_forecast_json_for_a_date_window_and_a_plot(shipped_store: Path) -> None:
    plot = shipped_store / "forecast.png"
    result = invoke(
        "forecast",
        "--from",
        "2020-03-01",
        "--to",
        "2020-03-31",
        "--cutoff",
        "2020-01-31",
        "--model",
        "climatology",
        "--json",
        "--plot",
        str(plot),
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["model"] == "climatology" and payload["data_cutoff"] == "2020-01-31"
    assert payload["window"] == {"start": "2020-03-01", "end": "2020-03-31", "days": 31}
    assert payload["horizon_days"] == 30 and payload["summary"].startswith(f"{payload['probability_any']:.0%} chance")
    assert 0 <= payload["probability_any"] <= 1 and len(payload["daily"]) == 31
    assert payload["election_effect"]["ratio"] is None or payload["election_effect"]["model"] != "climatology"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--election", "kr-legislative-1066-01-01", "--cutoff", "2020-01-01"], "no election with id"),
        (["--from", "2020-02-30", "--to", "2020-03-31", "--cutoff", "2020-01-01"], "option '--from'"),
        (
            ["--from", "2020-03-01", "--to", "2020-03-31", "--cutoff", "2020-01-01", "--types", "bogus"],
            "unknown event type",
        ),
        (
            ["--from", "2020-03-01", "--to", "2020-03-31", "--cutoff", "2020-01-01", "--model", "oracle"],
            "unknown model",
        ),
        (["--from", "2020-03-01", "--to", "2020-03-31", "--cutoff", "2020-04-01"], "not after the data cutoff"),
        (["--from", "2020-03-01"], "both"),
        (["--from", "2020-03-01", "--to", "2020-03-31"], "no active model version"),
    ],
)
def test_bad_forecast_requests_are_refused_with_a_message(shipped_store: Path, args: list[str], message: str) -> None:
    result = invoke("forecast", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_backtest_prints_the_table_and_writes_json_and_charts(shipped_store: Path) -> None:
    out = shipped_store / "backtest.json"
    reliability, elections = shipped_store / "reliability.png", shipped_store / "elections.png"
    result = invoke(
        "backtest",
        "--horizon",
        "30",
        "--since",
        "2019-01-01",
        "--models",
        "climatology,trailing_year,hawkes",
        "--samples",
        "300",
        "--workers",
        "1",
        "--out",
        str(out),
        "--reliability-plot",
        str(reliability),
        "--elections-plot",
        str(elections),
    )
    assert result.exit_code == 0, result.output
    assert "horizon 30 days" in result.stdout and "elections" in result.stdout and "control" in result.stdout
    assert "best by log loss on election windows at 30 days:" in result.stdout
    report = json.loads(out.read_text())
    assert report["config"]["models"] == ["climatology", "trailing_year", "hawkes"]
    assert {row["model"] for row in report["summary"]} >= {"climatology", "hawkes", "ensemble", "best_so_far"}
    assert reliability.read_bytes()[:4] == elections.read_bytes()[:4] == b"\x89PNG"


def test_backtest_json_and_bad_options(shipped_store: Path) -> None:
    result = invoke(
        "backtest",
        "--horizon",
        "0",
        "--since",
        "2023-01-01",
        "--models",
        "climatology",
        "--samples",
        "200",
        "--workers",
        "1",
        "--out",
        str(shipped_store / "b.json"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"]["horizons"] == [0]
    bad = invoke("backtest", "--models", "climatology,crystal_ball")
    assert bad.exit_code == 2 and "unknown model 'crystal_ball'" in bad.output
