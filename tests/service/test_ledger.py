"""`GET /v1/ledger` through the real app on SQLite and PostgreSQL: recorded on load, scored at start, never written by a request."""

from __future__ import annotations

import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

from forecasting.domain.vocabulary import CoverageSource
from forecasting.store.db import write_transaction
from forecasting.store.live.coverage import set_coverage
from tests.conftest import install_artifact
from tests.service.conftest import Store, auth, running_app

MIDTERM = "us-midterm-2026-11-03"
WAIT_SECONDS = 60  # upper bound on waits for the registry poll, not a performance target


def test_the_serving_version_is_recorded_with_the_numbers_the_api_serves(client: TestClient, store: Store) -> None:
    body = client.get("/v1/ledger").json()
    assert store.active is not None
    (version,) = body["versions"]
    assert version["version"] == store.active.id
    assert version["scored"] == 0 and version["entries"] == len(body["items"]) >= 3
    assert "none scored yet" in version["summary"] and body["history_end"] == "2026-08-20"
    assert "never changed" in body["about"]

    for item in body["items"]:
        assert item["status"] == "open" and item["observed_count"] is None and item["brier"] is None
        if item["kind"] == "now-cast":  # the next 30 or 90 days from the promotion day: the same as a window forecast
            window = {"start": item["window_start"], "end": item["window_end"]}
            served = client.post("/v1/forecasts", json=window).json()
        else:
            served = client.get(f"/v1/elections/{item['election_id']}/forecast").json()["forecast"]
        assert item["version"] == served["version"] and item["model"] == served["model"]
        assert item["probability_any"] == served["probability_any"]
        assert item["expected_count"] == served["expected_count"]
        assert item["climatology_probability_any"] == served["climatology_probability_any"]
        assert [item["interval_80"], item["interval_95"]] == [[i["lower"], i["upper"]] for i in served["intervals"]]
        assert (item["window_start"], item["window_end"]) == (served["window"]["start"], served["window"]["end"])
        assert item["summary"].startswith(f"said {round(item['probability_any'] * 100)}%")
    assert {i["election_id"] for i in body["items"]} >= {
        "next-30-days",
        "next-90-days",
        MIDTERM,
        "kr-legislative-2028-04-12",
        "us-presidential-2028-11-07",
    }


def test_filters_and_bad_filters(client: TestClient) -> None:
    assert [i["election_id"] for i in client.get("/v1/ledger", params={"election_id": MIDTERM}).json()["items"]] == [
        MIDTERM
    ]
    assert client.get("/v1/ledger", params={"status": "scored"}).json()["items"] == []
    unknown = client.get("/v1/ledger", params={"version": "nope"}).json()
    assert unknown["versions"] == [] and unknown["items"] == []
    bad = client.get("/v1/ledger", params={"status": "closed"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_request_can_write_to_the_ledger(client: TestClient, method: str) -> None:
    before = client.get("/v1/ledger").json()
    answer = client.request(method, "/v1/ledger", headers=auth(), json={"items": []})
    assert answer.status_code == 405
    assert client.request(method, "/v1/ledger/1", headers=auth()).status_code in (404, 405)
    assert client.get("/v1/ledger").json() == before


def test_closed_windows_are_scored_at_start_and_new_versions_recorded_on_swap(
    fresh_store: Store, trained_artifact
) -> None:
    # A short default window (30 days before, 5 after) closes before today, so it can be scored now.
    short = {"default_days_before": 30, "default_days_after": 5}
    with running_app(fresh_store.url, **short) as client:
        first = client.get("/v1/ledger", params={"election_id": MIDTERM}).json()["items"]
        assert [(i["window_start"], i["window_end"], i["status"]) for i in first] == [
            ("2026-10-04", "2026-11-08", "open")
        ]
        for day, kind in (("2026-10-10", "ballistic_missile"), ("2026-11-09", "cruise_missile")):
            added = client.post(
                "/v1/events",
                headers=auth(),
                json={
                    "date": day,
                    "event_type": kind,
                    "description": "Test event for the ledger.",
                    "source": "tests/service/test_ledger.py",
                },
            )
            assert added.status_code == 201, added.text
        # Scoring runs at start-up and on a swap, never on a GET.
        assert client.get("/v1/ledger", params={"election_id": MIDTERM}).json()["items"][0]["status"] == "open"

    # Events alone close no window: the history's coverage must reach its end.
    with running_app(fresh_store.url, **short) as client:
        (waiting,) = client.get("/v1/ledger", params={"election_id": MIDTERM}).json()["items"]
        assert waiting["status"] == "open" and "awaiting data through 2026-11-08" in waiting["summary"]
    with write_transaction(fresh_store.factory) as session:
        set_coverage(session, CoverageSource.CURATOR, date(2026, 11, 9), "tests: complete through the day after")

    with running_app(fresh_store.url, **short) as client:
        (entry,) = client.get("/v1/ledger", params={"election_id": MIDTERM}).json()["items"]
        assert entry["status"] == "scored" and entry["observed_count"] == 1 and entry["observed_any"] is True
        assert entry["brier"] == pytest.approx((entry["probability_any"] - 1) ** 2, abs=1e-6)
        assert entry["history_end"] == "2026-11-09" and entry["recorded_at"] < entry["scored_at"]
        assert entry["inside_80"] == (entry["interval_80"][0] <= 1 <= entry["interval_80"][1])
        assert "1 test day happened" in entry["summary"]
        record = client.get("/v1/ledger").json()["versions"][0]
        assert record["scored"] == 1 and record["brier"] == entry["brier"]
        assert record["climatology_brier"] == entry["climatology_brier"]

        newer = install_artifact(fresh_store.factory, trained_artifact)  # promoted: the app swaps to it
        deadline = time.monotonic() + WAIT_SECONDS
        while client.get("/readyz").json().get("model", {}).get("version") != newer.id:
            assert time.monotonic() < deadline, "the app did not swap to the promoted version"
            time.sleep(0.1)
        client.app.state.provocast.holder.wait_after_serving(WAIT_SECONDS)  # type: ignore[attr-defined]
        versions = client.get("/v1/ledger").json()["versions"]
        assert [v["version"] for v in versions] == [fresh_store.active.id, newer.id]
        # The midterm window had closed before the new version went live: it is not forecast again.
        assert [i["version"] for i in client.get("/v1/ledger", params={"election_id": MIDTERM}).json()["items"]] == [
            fresh_store.active.id
        ]
        assert client.get(
            "/v1/ledger", params={"version": newer.id, "election_id": "us-presidential-2028-11-07"}
        ).json()["items"]
    assert date.fromisoformat(entry["window_end"]) <= date.fromisoformat(entry["history_end"])
