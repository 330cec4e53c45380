"""/v1/models, /v1/models/{version}, /v1/jobs/{id} and /v1/backtests; the retrain endpoint's refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from forecasting.store import jobs
from forecasting.store.retrain_lock import DatabaseLock
from tests.service.conftest import Store, auth


def test_models_lists_versions_and_which_one_is_served(client: TestClient, store: Store) -> None:
    response = client.get("/v1/models")

    assert response.status_code == 200
    body = response.json()
    assert store.active is not None
    assert body["active"] == body["serving"] == store.active.id and body["load_error"] is None
    [item] = body["items"]
    assert item["id"] == store.active.id and item["status"] == "active" and item["serving"] is True
    assert (
        item["artifact_sha256"] == store.active.artifact_sha256
        and item["artifact_bytes"] == store.active.artifact_bytes
    )
    assert item["skill"] == {**store.active.metrics["skill"][store.active.default_model]}


def test_one_version_with_its_metrics(client: TestClient, store: Store) -> None:
    assert store.active is not None
    response = client.get(f"/v1/models/{store.active.id}")

    assert response.status_code == 200
    metrics = response.json()["metrics"]
    assert set(metrics["skill"]) == set(store.active.metrics["skill"])
    assert metrics["horizon_days"] == 30
    assert any(row["group"] == "elections" for row in metrics["backtest_summary"])
    assert metrics["election_effect"] == store.active.metrics["election_effect"]
    assert metrics["training"]["groups"] == sorted(store.active.metrics["training"]["groups"])

    missing = client.get("/v1/models/20000101-000000-deadbeef")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "version"


def test_backtests_show_each_models_forecast_and_the_outcome(client: TestClient, store: Store) -> None:
    response = client.get("/v1/backtests")

    assert response.status_code == 200
    body = response.json()
    assert store.active is not None and body["version"] == store.active.id and body["horizon_days"] == 30
    windows = body["items"]
    assert windows and all(w["election_id"] for w in windows)
    assert len(windows) == store.active.metrics["skill"][store.active.default_model]["election_windows"]
    models = {f["model"] for f in windows[0]["forecasts"]}
    assert {"climatology", "trailing_year", store.active.default_model} <= models
    for forecast in windows[0]["forecasts"]:
        assert forecast["cutoff"] < windows[0]["start"]  # made before the window opened
    assert {row["model"] for row in body["summary"]} == models

    one = client.get("/v1/backtests", params={"election_id": windows[-1]["election_id"], "model": "climatology"}).json()
    assert len(one["items"]) == 1 and [f["model"] for f in one["items"][0]["forecasts"]] == ["climatology"]
    assert [row["model"] for row in one["summary"]] == ["climatology"]
    with_control = client.get("/v1/backtests", params={"include_control": "true"}).json()["items"]
    assert len(with_control) > len(windows) and any(w["group"] == "control" for w in with_control)
    assert client.get("/v1/backtests", params={"group": "us_midterm"}).json()["items"][0]["group"] == "us_midterm"
    assert client.get("/v1/backtests", params={"include_control": "often"}).status_code == 422


def test_retrain_needs_the_token_and_creates_no_job_without_it(client: TestClient, store: Store) -> None:
    assert client.post("/v1/models/retrain").status_code == 401
    assert client.post("/v1/models/retrain", headers=auth("guess")).status_code == 403
    bad = client.post("/v1/models/retrain", json={"promote": "sometimes"}, headers=auth())
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "promote"
    future = client.post("/v1/models/retrain", json={"cutoff": "2999-01-01"}, headers=auth())
    assert future.status_code == 422 and future.json()["error"]["field"] == "cutoff"
    with store.factory() as session:
        assert jobs.in_flight_job(session) is None


def test_retrain_is_409_while_another_retrain_holds_the_lock(client: TestClient, store: Store) -> None:
    with DatabaseLock(store.factory, job_id="job-from-elsewhere"):
        response = client.post("/v1/models/retrain", headers=auth())
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and error["message"].startswith("a retrain is already running: process ")
    assert "for job job-from-elsewhere" in error["message"]


def test_unknown_jobs_are_404(client: TestClient) -> None:
    response = client.get("/v1/jobs/job-20000101-000000-abcdef")
    assert response.status_code == 404 and response.json()["error"]["field"] == "job_id"
