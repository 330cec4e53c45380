"""The typed backtest report reads and writes the stored JSON exactly."""

from __future__ import annotations

import json
from pathlib import Path

from forecasting.evaluation.report import BacktestReport
from forecasting.serving.model_set import dumps, loads


def test_the_trained_artifact_reads_back_to_the_same_text(trained_artifact: Path) -> None:
    text = trained_artifact.read_text()
    model_set = loads(text)
    assert isinstance(model_set.backtest, BacktestReport)
    assert dumps(model_set) == text


def test_the_report_keeps_every_key_in_its_order(trained_artifact: Path) -> None:
    stored = json.loads(trained_artifact.read_text())["backtest"]
    report = BacktestReport.from_dict(stored)
    assert json.dumps(report.to_dict()) == json.dumps(stored)
    assert report.config.horizons == (30,)
    assert report.best_model_by_horizon[30] == stored["best_model_by_horizon"]["30"]
    assert all(
        row.cutoff.isoformat() == raw["cutoff"] for row, raw in zip(report.forecasts, stored["forecasts"], strict=True)
    )
