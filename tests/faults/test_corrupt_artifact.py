"""A stored artifact that is broken although its checksum matches (a faulty trainer, a hand edit with the
checksum recomputed): promoted, it is refused when the server loads it, the previous version keeps serving, and
the refusal is made once, not retried at every registry poll (a load costs seconds of CPU).

A checksum mismatch is covered by tests/service/test_retrain_api.py and tests/forecasting/test_registry.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from forecasting.serving.answer_arrays import pack, unpack
from forecasting.store import registry
from tests.faults.live_server import live_server
from tests.service.conftest import seeded_store, wait_for

POLLS_WATCHED = 2.0  # seconds of registry polls (every 0.2 s) after the refusal


def _drop_a_parameter(artifact: dict[str, Any]) -> None:
    """Unreadable: a model of the default group lost one of its parameters."""
    del artifact["models"]["weapons"][artifact["default_model"]]["parameters"]["alpha"]


def _damaged_answers(artifact: dict[str, Any]) -> None:
    """Valid JSON, but the stored answers do not fit together: the default model's daily means lost their last day.

    (Before the answers were stored, the same case was coefficients that did not match their covariates, found
    only when simulating on load; a version is now read, not simulated, so the check is on what it stores.)
    """
    stored = artifact["answers"]["groups"]["weapons"][artifact["default_model"]]
    stored["daily_expected"] = pack(unpack(stored["daily_expected"], np.float64)[:-1])


@pytest.mark.parametrize("damage", [_drop_a_parameter, _damaged_answers], ids=["unreadable", "damaged-answers"])
def test_a_broken_artifact_with_a_valid_checksum_is_refused_once_and_the_previous_version_kept(
    backend: str, tmp_path: Path, trained_artifact: Path, damage: Callable[[dict[str, Any]], None]
) -> None:
    broken = json.loads(trained_artifact.read_text(encoding="utf-8"))
    damage(broken)
    with seeded_store(backend, tmp_path / "store", trained_artifact) as store:
        assert store.active is not None
        good = store.active.id
        with live_server(store.url, tmp_path / "logs", ready="/readyz") as server, server.client() as client:
            before = client.get("/v1/forecasts/upcoming").content
            with store.factory.begin() as session:
                bad = registry.save_artifact(session, json.dumps(broken, separators=(",", ":")))
                registry.promote(session, bad.id)  # its checksum is right, so the registry lets it through

            models = wait_for(lambda: (body := client.get("/v1/models").json())["load_error"] and body, "the refusal")
            assert models["active"] == bad.id and models["serving"] == good
            assert models["load_error"].startswith(f"model version {bad.id} is refused: ")
            assert models["load_error"].endswith(f"still serving {good}")
            time.sleep(POLLS_WATCHED)
            attempts = server.output().count(f"model version {bad.id} is refused")
            assert attempts == 1, f"the broken version was tried {attempts} times"
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["model"]["version"] == good
            assert client.get("/v1/forecasts/upcoming").content == before

            with store.factory.begin() as session:  # roll back
                registry.promote(session, good)
            wait_for(lambda: client.get("/v1/models").json()["load_error"] is None, "the error to clear")
            assert client.get("/v1/forecasts/upcoming").content == before
