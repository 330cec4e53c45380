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
    other_window = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"window": "quarter"})
    assert other_window.status_code == 200 and other_window.content != first.content
    named_default = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"window": "default"})
    assert named_default.content == first.content


def test_the_reliability_diagram(client: TestClient) -> None:
    answer = client.get("/v1/backtests/reliability.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert min(png_size(answer.content)) > 400


def test_chart_errors_have_the_api_shape(client: TestClient) -> None:
    missing = client.get("/v1/elections/nowhere-2030-01-01/forecast.png")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "election_id"
    past = client.get("/v1/elections/kr-legislative-2024-04-10/forecast.png")
    assert past.status_code == 422 and past.json()["error"]["field"] == "election_id"
    # Any window but a named one would be a new drawing per request: refused.
    free = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"days_before": 29})
    assert free.status_code == 422 and free.json()["error"]["field"] == "days_before"
    assert "window=default|two_weeks|quarter" in free.json()["error"]["message"]
    unknown = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"window": "decade"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "window"


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
    answer = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"window": "two_weeks"})
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


def test_a_full_drawing_queue_answers_503_with_retry_after(fresh_store: Store) -> None:
    with running_app(fresh_store.url, chart_queue_size=1) as client:
        started, release = threading.Event(), threading.Event()
        original = charts.window_chart_png

        def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
            started.set()
            release.wait(WAIT_SECONDS)
            return original(*args, **kwargs)

        answers: list[int] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(charts, "window_chart_png", slow)
            first = threading.Thread(
                target=lambda: answers.append(client.get(f"/v1/elections/{ELECTION}/forecast.png").status_code)
            )
            first.start()
            assert started.wait(WAIT_SECONDS)
            busy = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"window": "quarter"})
            release.set()
            first.join(WAIT_SECONDS)
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "busy"
        assert int(busy.headers["retry-after"]) >= 1
        assert answers == [200]
        later = client.get(f"/v1/elections/{ELECTION}/forecast.png", params={"window": "quarter"})
        assert later.status_code == 200


def test_a_failed_drawing_leaves_the_queue() -> None:
    from service.edge.response_caches import ChartCache, ChartQueueFull

    cache = ChartCache(queue_size=1)

    async def broken() -> bytes:
        raise RuntimeError("matplotlib fell over")

    async def fine() -> bytes:
        return b"png"

    async def scenario() -> None:
        for attempt in range(3):  # before the fix the first failure's key stayed queued: the second was 503
            with pytest.raises(RuntimeError):
                await cache.get(("chart", attempt), broken)
            assert cache.waiting == 0
        assert await cache.get(("chart", "good"), fine) == (b"png", True)
        assert await cache.get(("chart", "good"), fine) == (b"png", False)

        gate = asyncio.Event()

        async def held() -> bytes:
            await gate.wait()
            return b"held"

        drawing = asyncio.ensure_future(cache.get(("chart", "held"), held))
        await asyncio.sleep(0)
        with pytest.raises(ChartQueueFull):
            await cache.get(("chart", "other"), fine)
        same = asyncio.ensure_future(cache.get(("chart", "held"), held))  # waits for the drawing, not queued
        await asyncio.sleep(0)
        gate.set()
        assert await drawing == (b"held", True) and await same == (b"held", False)
        assert cache.waiting == 0

    asyncio.run(scenario())
