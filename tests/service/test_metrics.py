"""`/metrics`, request ids and JSON log lines through the real app; retrain outcomes counted and logged."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from forecasting.lifecycle import metrics as retrain_metrics
from forecasting.lifecycle.retraining import RetrainFailed, retrain
from forecasting.settings import Settings
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.migrations.runner import upgrade_schema
from forecasting.store.retrain_lock import RETRAIN_LOCK, DatabaseLock, LockHeld
from tests.service.conftest import FAST_TRAINING, Store, auth, new_store, running_app

ELECTION = "kr-legislative-2028-04-12"
WAIT_SECONDS = 120  # upper bound on waits for a job's process, not a performance target


def samples(client: TestClient) -> dict[tuple[str, frozenset], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_per_route_template(client: TestClient, store: Store) -> None:
    before = samples(client)
    for _ in range(3):
        assert client.get(f"/v1/elections/{ELECTION}/forecast").status_code == 200
    assert client.get("/v1/elections/no-such-election/forecast").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    after = samples(client)

    route = "/v1/elections/{election_id}/forecast"
    assert value(after, "provocast_http_requests_total", method="GET", route=route, status="200") == (
        value(before, "provocast_http_requests_total", method="GET", route=route, status="200") + 3
    )
    assert value(after, "provocast_http_requests_total", method="GET", route=route, status="404") >= 1
    assert value(after, "provocast_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert not any(ELECTION in dict(labels).get("route", "") for _, labels in after)  # templates, never raw paths
    assert value(after, "provocast_http_request_duration_seconds_count", method="GET", route=route) >= 4
    assert value(after, "provocast_forecasts_served_total", version=store.active.id, route=route) == (
        value(before, "provocast_forecasts_served_total", version=store.active.id, route=route) + 3
    )


def test_the_active_model_and_its_age(client: TestClient, store: Store) -> None:
    found = samples(client)
    version = store.active
    assert (
        value(
            found,
            "provocast_model_info",
            version=version.id,
            default_model=version.default_model,
            data_cutoff=version.data_cutoff.isoformat(),
        )
        == 1
    )
    age = value(found, "provocast_model_age_seconds")
    assert 0 < age < 86_400 * 2  # installed by this test run
    data_age = value(found, "provocast_model_data_age_seconds")
    assert data_age == pytest.approx((date.today() - version.data_cutoff).days * 86_400, abs=86_400 * 2)
    assert value(found, "provocast_model_loaded_seconds") >= 0


def test_request_ids_are_taken_or_made_and_returned(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42.a"})
    assert given.headers["x-request-id"] == "trace-42.a"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    refused = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" * 20})
    assert refused.headers["x-request-id"] != "bad id\twith spaces" * 20 and len(refused.headers["x-request-id"]) == 32
    error = client.get("/v1/elections/nope")
    assert error.status_code == 404 and len(error.headers["x-request-id"]) == 32


def test_log_lines_are_json_with_the_request_id(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    # A window of its own, so that the chart is drawn in this test (not served from the cache).
    params = {"window": "quarter"}
    answer = client.get(
        f"/v1/elections/{ELECTION}/forecast.png", params=params, headers={"X-Request-ID": "chart-request-1"}
    )
    assert answer.status_code == 200
    client.get("/v1/ledger", headers={"X-Request-ID": "ledger-request-2"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    mine = [line for line in lines if line["request_id"] == "chart-request-1"]
    access = [line for line in mine if line["logger"] == "provocast.access"]
    assert len(access) == 1
    assert access[0]["route"] == "/v1/elections/{election_id}/forecast.png" and access[0]["status"] == 200
    assert access[0]["duration_ms"] > 0 and access[0]["path"] == f"/v1/elections/{ELECTION}/forecast.png"
    # Lines written from the worker thread that drew the chart carry the same request id.
    drawn = [line for line in mine if line["logger"] == "provocast.charts"]
    assert drawn and "drew forecast chart" in drawn[0]["message"]
    assert any(line["request_id"] == "ledger-request-2" and line.get("route") == "/v1/ledger" for line in lines)


def test_a_failed_retrain_job_is_counted_and_logged_by_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A retrain job on a store with no events fails; the process that launched it counts it and logs why."""
    with new_store("sqlite", tmp_path / "empty") as url:
        engine = create_store_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        with running_app(url) as client:
            before = samples(client)
            started = client.post("/v1/models/retrain", headers=auth(), json={"promote": "never"})
            assert started.status_code == 202, started.text
            job_url = started.json()["url"]
            deadline = time.monotonic() + WAIT_SECONDS
            while client.get(job_url).json()["status"] in ("queued", "running"):
                assert time.monotonic() < deadline, "the retrain job did not finish"
                time.sleep(0.2)
            job = client.get(job_url).json()
            # The job's row is final before its process has exited; the count follows the exit.
            while value(samples(client), "provocast_retrain_jobs_total", outcome="failed") == value(
                before, "provocast_retrain_jobs_total", outcome="failed"
            ):
                assert time.monotonic() < deadline, "the finished job was never counted"
                time.sleep(0.2)
            after = samples(client)
    assert job["status"] == "failed" and "no events" in job["message"]
    assert value(after, "provocast_retrain_job_duration_seconds_count", outcome="failed") >= 1
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    failures = [line for line in logged if line["logger"] == "provocast.retrain" and line["level"] == "ERROR"]
    assert any(job["id"] in line["message"] and "no events" in line["message"] for line in failures)


def test_retrain_runs_are_counted_by_outcome_with_the_cause_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_schema(engine)
    factory = create_session_factory(engine)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}", **FAST_TRAINING)
    runs = retrain_metrics.RETRAIN_RUNS
    failed, locked = runs.labels("failed")._value.get(), runs.labels("locked")._value.get()
    with caplog.at_level("INFO", logger="provocast.retrain"):
        with pytest.raises(RetrainFailed, match="no events"):
            retrain(factory, settings=settings, say=lambda line: None)
        with DatabaseLock(factory, RETRAIN_LOCK, 60):
            with pytest.raises(LockHeld):
                retrain(factory, settings=settings, say=lambda line: None)
    engine.dispose()
    assert runs.labels("failed")._value.get() == failed + 1
    assert runs.labels("locked")._value.get() == locked + 1
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "RetrainFailed: the store holds no events" in errors[0].getMessage()


def test_metrics_can_be_put_behind_the_token(store: Store) -> None:
    with running_app(store.url, metrics_public=False) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all-00000"}).status_code == 403
        answer = client.get("/metrics", headers=auth())
    assert answer.status_code == 200 and "provocast_http_requests_total" in answer.text
