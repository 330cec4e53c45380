"""/v1/forecasts/upcoming and POST /v1/forecasts."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from forecasting.domain.records import read_elections_csv
from forecasting.domain.vocabulary import EVENT_GROUPS, EVENT_TYPES
from tests.fixtures import shipped_seeds_dir
from tests.service.conftest import Store

SHIPPED = read_elections_csv(shipped_seeds_dir() / "elections.csv")


@pytest.fixture(scope="module")
def cutoff(store: Store) -> date:
    assert store.active is not None
    return store.active.data_cutoff


def test_upcoming_covers_every_election_in_the_next_two_years(client: TestClient, store: Store, cutoff: date) -> None:
    today = date.today()
    response = client.get("/v1/forecasts/upcoming")

    assert response.status_code == 200
    body = response.json()
    assert store.active is not None
    assert body["version"] == store.active.id and body["data_cutoff"] == cutoff.isoformat()
    assert body["from"] == today.isoformat() and body["to"] == (today + timedelta(days=730)).isoformat()
    expected = sorted(
        (e for e in SHIPPED if today <= e.date <= today + timedelta(days=730)), key=lambda e: (e.date, e.id)
    )
    assert [item["election"]["id"] for item in body["items"]] == [e.id for e in expected]
    for item, election in zip(body["items"], expected, strict=False):
        opens = election.date - timedelta(days=30)
        if opens > cutoff and election.date + timedelta(days=30) <= cutoff + timedelta(days=1100):
            assert item["forecast"]["window"]["start"] == opens.isoformat() and item["unavailable"] is None
            assert item["forecast"]["skill"]["election_windows"] > 0
        else:
            assert item["forecast"] is None and item["unavailable"]


def test_upcoming_is_precomputed_when_the_version_loads(client: TestClient) -> None:
    loaded = client.app.state.provocast.holder.current  # type: ignore[attr-defined]
    before = len(loaded.memo)
    client.get("/v1/forecasts/upcoming")
    assert len(loaded.memo) == before


def test_upcoming_for_another_group_and_bad_parameters(client: TestClient) -> None:
    missiles = client.get("/v1/forecasts/upcoming", params={"event_types": "missiles"}).json()
    assert all(i["forecast"] is None or i["forecast"]["event_group"] == "missiles" for i in missiles["items"])
    assert client.get("/v1/forecasts/upcoming", params={"model": "oracle"}).json()["error"]["field"] == "model"
    assert client.get("/v1/forecasts/upcoming", params={"days_before": 999}).json()["error"]["field"] == "days_before"


def test_any_window_after_the_cutoff(client: TestClient, store: Store, cutoff: date) -> None:
    start, end = cutoff + timedelta(days=100), cutoff + timedelta(days=130)
    response = client.post(
        "/v1/forecasts", json={"start": start.isoformat(), "end": end.isoformat(), "event_types": ["missiles"]}
    )

    assert response.status_code == 200
    body = response.json()
    assert store.active is not None and body["version"] == store.active.id
    assert body["window"] == {"start": start.isoformat(), "end": end.isoformat(), "days": 31}
    assert body["event_group"] == "missiles" and body["horizon_days"] == 100
    assert body["skill"] is None  # only the weapons group is backtested, and the notes say so
    assert any("not backtested" in note for note in body["notes"])

    again = client.post(
        "/v1/forecasts", json={"start": start.isoformat(), "end": end.isoformat(), "event_types": ["missiles"]}
    )
    assert again.content == response.content

    weapons = client.post(
        "/v1/forecasts", json={"start": start.isoformat(), "end": end.isoformat(), "model": "climatology"}
    ).json()
    assert (
        weapons["event_group"] == "weapons"
        and weapons["model"] == "climatology"
        and weapons["skill"]["model"] == "climatology"
    )


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"start": "2027-03-01", "end": "2027-02-01"}, "end", "before its start"),
        ({"start": "2027-01-01", "end": "2126-12-31"}, "end", "at most 366"),
        ({"start": "2001-01-01", "end": "2001-02-01"}, "start", "not after the data cutoff"),
        ({"start": "2099-01-01", "end": "2099-02-01"}, "end", "beyond the forecast horizon"),
        (
            {"start": "2027-01-01", "end": "2027-02-01", "event_types": ["missiles'; DROP TABLE events;--"]},
            "event_types",
            "unknown event type",
        ),
        (
            {"start": "2027-01-01", "end": "2027-02-01", "model": "crystal_ball"},
            "model",
            "Input should be 'climatology'",
        ),
        ({"start": "2027-02-30", "end": "2027-03-01"}, "start", "valid date"),
        ({"end": "2027-03-01"}, "start", "Field required"),
        ({"start": "2027-01-01", "end": "2027-02-01", "colour": "red"}, "colour", "Extra inputs are not permitted"),
        (
            {"start": "2027-01-01", "end": "2027-02-01", "event_types": ["weapons"] * 21},
            "event_types",
            "at most 20 items",
        ),
        ({"start": "2027-01-01", "end": "2027-02-01", "event_types": "missiles"}, "event_types", "valid list"),
    ],
)
def test_bad_windows_are_422_naming_the_field(client: TestClient, body: dict, field: str, says: str) -> None:
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and says in error["message"], error


def test_bodies_that_are_not_json_objects_are_refused(client: TestClient) -> None:
    broken = client.post("/v1/forecasts", content=b'{"start": ', headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_input"
    array = client.post("/v1/forecasts", json=[1, 2, 3])
    assert array.status_code == 422
    deep = client.post(
        "/v1/forecasts", content=("[" * 5000 + "]" * 5000).encode(), headers={"content-type": "application/json"}
    )
    assert deep.status_code == 422 and "nested more than 32 levels" in deep.json()["error"]["message"]
    huge = client.post(
        "/v1/forecasts",
        content=json.dumps({"start": "x" * 100_000}).encode(),
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"


def test_cli_json_prints_exactly_what_the_api_serves(
    client: TestClient, store: Store, cutoff: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from forecasting.cli import app as cli

    monkeypatch.setenv("PROVOCAST_DATABASE_URL", store.url)
    start, end = cutoff + timedelta(days=40), cutoff + timedelta(days=70)
    served = client.post("/v1/forecasts", json={"start": start.isoformat(), "end": end.isoformat()}).json()
    printed = CliRunner().invoke(cli, ["forecast", "--from", start.isoformat(), "--to", end.isoformat(), "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == served

    election = next(
        e for e in SHIPPED if e.date - timedelta(days=30) > cutoff and e.date < cutoff + timedelta(days=700)
    )
    served = client.get(f"/v1/elections/{election.id}/forecast").json()
    printed = CliRunner().invoke(cli, ["forecast", "--election", election.id, "--json"])
    assert printed.exit_code == 0, printed.output
    cli_body = json.loads(printed.stdout)
    assert cli_body["forecast"] == served["forecast"]
    assert {k: served["election"][k] for k in cli_body["election"]} == cli_body["election"]
    assert (cli_body["days_before"], cli_body["days_after"]) == (served["days_before"], served["days_after"])


TYPE_QUESTIONS = [
    *EVENT_GROUPS,
    *EVENT_TYPES,
    "ballistic,satellite",
    "ballistic_missile,satellite_launch",
    "cruise_missile,artillery,nuclear",
    "incursion,attack",
]


@pytest.mark.parametrize("types", TYPE_QUESTIONS)
def test_the_cli_and_the_api_accept_the_same_types_and_unions(
    client: TestClient, store: Store, cutoff: date, types: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every type, group and union: both answer, or both refuse with the same count-naming message."""
    from typer.testing import CliRunner

    from forecasting.cli import app

    start, end = cutoff + timedelta(days=40), cutoff + timedelta(days=100)
    response = client.post("/v1/forecasts", json={"start": str(start), "end": str(end), "event_types": [types]})
    monkeypatch.setenv("PROVOCAST_DATABASE_URL", store.url)
    result = CliRunner().invoke(app, ["forecast", "--from", str(start), "--to", str(end), "--types", types, "--json"])
    if response.status_code == 200:
        assert result.exit_code == 0, result.output
        cli = json.loads(result.stdout)
        assert cli["event_group"] == response.json()["event_group"]
        assert cli["probability_any"] == response.json()["probability_any"]
    else:
        error = response.json()["error"]
        assert response.status_code == 422 and error["field"] == "event_types"
        assert "events of" in error["message"] and "a forecast needs at least" in error["message"]
        assert result.exit_code != 0 and error["message"] in result.output
