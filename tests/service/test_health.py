"""/healthz, /readyz and the OpenAPI documents."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.service.conftest import Store, running_app, seeded_store


def test_healthz_answers_while_the_process_is_up(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_names_the_served_version_and_the_store(client: TestClient, store: Store) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["reasons"] == []
    assert store.active is not None
    assert body["model"]["version"] == store.active.id == body["model"]["registry_active"]
    assert body["model"]["data_cutoff"] == store.active.data_cutoff.isoformat()
    assert body["model"]["settled"] is True  # the client fixture waits for the after-serving work
    assert body["store"]["reachable"] is True


def test_readyz_is_503_with_the_reason_when_no_version_is_active(backend: str, tmp_path: Path) -> None:
    with seeded_store(backend, tmp_path / "empty", artifact=None) as empty, running_app(empty.url) as client:
        ready = client.get("/readyz")
        forecast = client.get("/v1/forecasts/upcoming")
        health = client.get("/healthz")

    assert ready.status_code == 503
    error = ready.json()["error"]
    assert error["code"] == "not_ready" and "no model version is active; run `provocast retrain`" in error["message"]
    assert ready.json()["checks"]["store"]["reachable"] is True
    assert forecast.status_code == 503 and forecast.json()["error"]["code"] == "model_unavailable"
    assert forecast.headers["retry-after"] == "10"
    assert health.status_code == 200


def test_readyz_is_503_on_a_store_that_is_not_migrated(tmp_path: Path) -> None:
    with running_app(f"sqlite:///{tmp_path / 'new.db'}") as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "run `provocast db upgrade`" in ready.json()["error"]["message"]


def test_openapi_documents_every_endpoint_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/healthz",
        "/readyz",
        "/v1/elections",
        "/v1/elections/{election_id}",
        "/v1/elections/{election_id}/forecast",
        "/v1/forecasts/upcoming",
        "/v1/forecasts",
        "/v1/events",
        "/v1/models",
        "/v1/models/{version}",
        "/v1/models/retrain",
        "/v1/jobs/{job_id}",
        "/v1/backtests",
        "/v1/ledger",
        "/v1/elections/{election_id}/forecast.png",
        "/v1/backtests/reliability.png",
    }
    components = schema["components"]["schemas"]
    assert components["ForecastRequest"]["examples"][0]["start"] == "2028-03-13"
    assert components["Skill"]["properties"]["brier_skill_vs_climatology"]["examples"] == [0.204]
    assert "ErrorBody" in components
    forecast = schema["paths"]["/v1/elections/{election_id}/forecast"]["get"]
    assert forecast["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ElectionForecast")
    assert {"404", "422", "503"} <= set(forecast["responses"])
    assert "Swagger UI" in client.get("/docs").text


def test_operation_ids_read_as_methods_and_are_unique(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ids = [operation["operationId"] for path in schema["paths"].values() for operation in path.values()]
    assert len(ids) == len(set(ids)), ids
    assert all(re.fullmatch(r"[a-z]+_[a-z_]+", operation_id) for operation_id in ids), ids
    assert {"forecasts_window", "forecasts_upcoming", "elections_forecast", "elections_list", "events_list"} <= set(ids)
