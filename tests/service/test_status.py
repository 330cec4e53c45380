"""/v1/status, /v1/sync-runs, the now-cast (/v1/forecasts/next), /v1/jobs, and freshness in every forecast body."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from forecasting.domain.vocabulary import CoverageSource, SyncOutcome
from forecasting.lifecycle.syncing import SyncSource, sync
from forecasting.settings import Settings
from forecasting.store.db import write_transaction
from forecasting.store.live.coverage import set_coverage
from tests.fixtures import FIXTURE_SEEDS, FIXTURES
from tests.service.conftest import Store, auth, running_app

SLICE = FIXTURES / "sync" / "csis-processed-2025-2026.csv"


def test_every_forecast_body_says_how_old_its_history_is(client: TestClient, store: Store) -> None:
    assert store.active is not None
    cutoff = store.active.data_cutoff
    age = (date.today() - cutoff).days
    bodies = [
        client.get("/v1/elections/us-presidential-2028-11-07/forecast").json()["forecast"],
        client.post("/v1/forecasts", json={"start": "2027-03-01", "end": "2027-03-31"}).json(),
        client.get("/v1/forecasts/next?days=30").json(),
    ]
    for body in bodies:
        assert body["history_through"] == cutoff.isoformat() and body["history_age_days"] == age
        stale = [note for note in body["notes"] if "days before today" in note]
        assert bool(stale) == (age > 14)
    upcoming = client.get("/v1/forecasts/upcoming").json()
    assert all(i["forecast"]["history_age_days"] == age for i in upcoming["items"] if i["forecast"])


def test_the_stale_note_follows_the_setting_and_the_day(store: Store) -> None:
    assert store.active is not None
    cutoff = store.active.data_cutoff
    path = "/v1/forecasts/next?days=60"
    with time_machine.travel(cutoff + timedelta(days=10), tick=False):
        with running_app(store.url) as client:
            fresh = client.get(path).json()
            stale_soon = client.get("/v1/forecasts/upcoming").json()
    assert fresh["history_age_days"] == 10 and not any("days before today" in n for n in fresh["notes"])
    with time_machine.travel(cutoff + timedelta(days=40), tick=False):
        with running_app(store.url, stale_after_days=60) as client:
            lenient = client.get(path).json()
        with running_app(store.url) as client:
            strict = client.get(path).json()
    assert lenient["history_age_days"] == 40 and not any("days before today" in n for n in lenient["notes"])
    assert f"complete through {cutoff}, 40 days before today (more than 14)" in strict["notes"][-1]
    assert stale_soon["items"]


def test_the_nowcast_starts_today_and_counts_its_horizon_from_the_cutoff(client: TestClient, store: Store) -> None:
    assert store.active is not None
    cutoff, today = store.active.data_cutoff, date.today()
    for days in (30, 60, 90, 366):
        body = client.get(f"/v1/forecasts/next?days={days}").json()
        start = max(today, cutoff + timedelta(days=1))
        assert body["window"] == {
            "start": start.isoformat(),
            "end": (start + timedelta(days=days - 1)).isoformat(),
            "days": days,
        }
        assert body["horizon_days"] == (start - cutoff).days and 0 <= body["probability_any"] <= 1
    # The same window asked as POST /v1/forecasts answers the same numbers.
    window = client.get("/v1/forecasts/next?days=30").json()["window"]
    same = client.post("/v1/forecasts", json={"start": window["start"], "end": window["end"]}).json()
    assert same["probability_any"] == client.get("/v1/forecasts/next").json()["probability_any"]
    missiles = client.get("/v1/forecasts/next?days=30&event_types=missiles").json()
    assert missiles["event_group"] == "missiles"


@pytest.mark.parametrize("query", ["days=0", "days=367", "days=x", "days=30&model=nope", "event_types=nope"])
def test_a_bad_nowcast_question_is_a_422_naming_the_field(client: TestClient, query: str) -> None:
    response = client.get(f"/v1/forecasts/next?{query}")
    assert response.status_code == 422
    field = response.json()["error"]["field"]
    assert field in {"days", "model", "event_types"} and field in query


def test_the_nowcast_of_a_history_that_reaches_today_starts_the_day_after(store: Store) -> None:
    assert store.active is not None
    cutoff = store.active.data_cutoff
    with time_machine.travel(cutoff, tick=False), running_app(store.url) as client:
        body = client.get("/v1/forecasts/next?days=30").json()
    assert body["window"]["start"] == (cutoff + timedelta(days=1)).isoformat() and body["horizon_days"] == 1
    assert body["history_age_days"] == 0


def test_status_reports_coverage_per_source_the_last_sync_and_the_served_version(fresh_store: Store) -> None:
    factory = fresh_store.factory
    with running_app(fresh_store.url) as client:
        before = client.get("/v1/status").json()
        assert before["coverage"][0]["source"] == "seed" and before["last_sync"] is None
        assert before["history_through"] == "2026-08-20" and before["events_after_coverage"] == 0
        assert before["stale"] == ((date.today() - date(2026, 8, 20)).days > 14)
        assert before["served"]["version"] == fresh_store.active.id if fresh_store.active else False

        # The slice holds 41 of the seeds' 492 CSIS rows: allow the removals it implies (a fresh store of its own).
        settings = Settings(seeds_dir=FIXTURE_SEEDS, sync_retries=0, sync_max_removed_share=1.0)
        report = sync(factory, settings, SyncSource(file=SLICE, complete_through=date.today()), say=lambda _: None)
        assert report.outcome == SyncOutcome.CHANGED
        after = client.get("/v1/status").json()
        runs = client.get("/v1/sync-runs").json()["items"]

    assert after["history_through"] == date.today().isoformat() and after["history_age_days"] == 0
    assert not after["stale"]
    assert {c["source"]: c["through"] for c in after["coverage"]} == {
        "sync": date.today().isoformat(),
        "seed": "2026-08-20",
    }
    assert after["last_sync"]["id"] == runs[0]["id"] and runs[0]["url"] == str(SLICE.resolve())
    assert runs[0]["outcome"] == "changed" and runs[0]["rows_removed"] > 0 and runs[0]["error"] is None
    assert runs[0]["covered_through"] == date.today().isoformat()


def test_status_counts_events_kept_after_coverage(fresh_store: Store) -> None:
    event = {
        "date": "2026-11-20",
        "event_type": "ballistic_missile",
        "description": "A launch added by hand after the coverage date.",
        "source": "https://example.org/report",
    }
    with running_app(fresh_store.url) as client:
        assert client.post("/v1/events", json=event, headers=auth()).status_code == 201
        status = client.get("/v1/status").json()
    assert status["history_through"] == "2026-08-20" and status["events_after_coverage"] == 1
    with write_transaction(fresh_store.factory) as session:
        set_coverage(session, CoverageSource.CURATOR, date(2026, 11, 30), "tests")
    with running_app(fresh_store.url) as client:
        moved = client.get("/v1/status").json()
    assert moved["history_through"] == "2026-11-30" and moved["events_after_coverage"] == 0


def test_bad_list_parameters_are_422s(client: TestClient) -> None:
    assert client.get("/v1/jobs?kind=other").status_code == 422
    assert client.get("/v1/jobs?limit=0").status_code == 422
    assert client.get("/v1/sync-runs?limit=0").status_code == 422


def test_the_history_age_is_a_prometheus_gauge(client: TestClient, store: Store) -> None:
    assert store.active is not None
    age = (date.today() - store.active.data_cutoff).days
    assert f"provocast_history_age_days {float(age)}" in client.get("/metrics").text
