"""The PNG charts through the real app: drawn off the event loop, cached per version, the same figure as the CLI's."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from forecasting.cli import app as cli
from service.routes import charts
from tests.conftest import install_artifact
from tests.service.conftest import Store, running_app

ELECTION = "us-presidential-2028-11-07"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WAIT_SECONDS = 60  # upper bound on the wait for a swap, not a performance target


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC, "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_election_chart_is_a_png_drawn_once_per_version(client: TestClient, store: Store) -> None:
    first = client.get(f"/v1/elections/{ELECTION}/forecast.png")
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.headers["x-model-version"] == store.active.id
    width, height = png_size(first.content)
    assert width > 800 and height > 500  # two panels: the window and the recent history

    hits_before = charts.CACHE_LOOKUPS.labels("forecast", "hit")._value.get()
    again = client.get(f"/v1/elections/{ELECTION}/forecast.png")
    assert again.content == first.content
    assert charts.CACHE_LOOKUPS.labels("forecast", "hit")._value.get() == hits_before + 1
    other_window = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"days_before": 10, "days_after": 10})
    assert other_window.status_code == 200 and other_window.content != first.content


def test_the_reliability_diagram(client: TestClient) -> None:
    answer = client.get("/v1/backtests/reliability.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert min(png_size(answer.content)) > 400


def test_chart_errors_have_the_api_shape(client: TestClient) -> None:
    missing = client.get("/v1/elections/nowhere-2030-01-01/forecast.png")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "election_id"
    past = client.get("/v1/elections/kr-legislative-2024-04-10/forecast.png")
    assert past.status_code == 422 and past.json()["error"]["field"] == "election_id"
    too_wide = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"days_before": 400})
    assert too_wide.status_code == 422 and too_wide.json()["error"]["field"] == "days_before"


def test_charts_are_drawn_in_a_worker_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, bool]] = []
    original = charts.window_chart_png

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        seen.append((threading.current_thread().name, on_loop))
        return original(*args, **kwargs)

    monkeypatch.setattr(charts, "window_chart_png", spy)
    answer = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"days_before": 20, "days_after": 3})
    assert answer.status_code == 200
    assert len(seen) == 1 and seen[0][1] is False, f"drawn on the event loop: {seen}"


def test_the_cli_plot_is_the_same_figure(
    client: TestClient, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVOCAST_DATABASE_URL", store.url)
    out = tmp_path / "chart.png"
    result = CliRunner().invoke(cli, ["forecast", "--election", ELECTION, "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == client.get(f"/v1/elections/{ELECTION}/forecast.png").content


def test_a_swap_drops_the_cached_charts(fresh_store: Store, trained_artifact: Path) -> None:
    with running_app(fresh_store.url) as client:
        before = client.get(f"/v1/elections/{ELECTION}/forecast.png")
        newer = install_artifact(fresh_store.factory, trained_artifact)
        deadline = time.monotonic() + WAIT_SECONDS
        while client.get("/readyz").json().get("model", {}).get("version") != newer.id:
            assert time.monotonic() < deadline, "the app did not swap to the promoted version"
            time.sleep(0.1)
        misses = charts.CACHE_LOOKUPS.labels("forecast", "miss")._value.get()
        after = client.get(f"/v1/elections/{ELECTION}/forecast.png")
    assert before.headers["x-model-version"] == fresh_store.active.id
    assert after.headers["x-model-version"] == newer.id
    assert charts.CACHE_LOOKUPS.labels("forecast", "miss")._value.get() == misses + 1
    # The same artifact under a new version id: the same figure, drawn again for the new version.
    assert after.content == before.content
