"""GET /v1/events (filters, pages) and POST /v1/events (token; the CLI's validation)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from forecasting.domain.records import read_events_csv
from forecasting.domain.vocabulary import EVENT_GROUPS
from tests.fixtures import shipped_seeds_dir
from tests.service.conftest import TOKEN, Store, auth, running_app, seeded_store

SHIPPED = read_events_csv(shipped_seeds_dir() / "events.csv")
NEW_EVENT = {
    "date": "2026-09-15",
    "event_type": "cruise_missile",
    "count": 2,
    "description": "Two strategic cruise missiles fired over the Yellow Sea (test row).",
    "source": "https://example.org/test-source",
}


def test_pages_newest_first_with_totals(client: TestClient) -> None:
    first = client.get("/v1/events", params={"limit": 3}).json()
    newest = sorted(SHIPPED, key=lambda e: (e.date, e.id), reverse=True)
    assert first["total"] == len(SHIPPED)  # this module's writes come after this test
    assert [e["id"] for e in first["items"]] == [e.id for e in newest[:3]]
    assert first["limit"] == 3 and first["offset"] == 0 and first["next_offset"] == 3
    last = client.get("/v1/events", params={"limit": 500, "offset": first["total"] - 2}).json()
    assert len(last["items"]) == 2 and last["next_offset"] is None


def test_filters(client: TestClient) -> None:
    nuclear = client.get("/v1/events", params={"event_types": "nuclear_test"}).json()
    assert {e["id"] for e in nuclear["items"]} == {e.id for e in SHIPPED if e.event_type == "nuclear_test"}
    missiles = client.get(
        "/v1/events",
        params=[("event_types", "missiles"), ("from", "2022-01-01"), ("to", "2022-12-31"), ("limit", "500")],
    ).json()
    expected = {e.id for e in SHIPPED if e.event_type in EVENT_GROUPS["missiles"] and e.date.year == 2022}
    assert {e["id"] for e in missiles["items"]} == expected and missiles["total"] == len(expected)
    not_weapons = client.get("/v1/events", params={"weapons_test": "false", "limit": 500, "to": "2000-12-31"}).json()
    assert all(not e["weapons_test"] for e in not_weapons["items"])
    assert not_weapons["total"] == sum(1 for e in SHIPPED if not e.weapons_test and e.date.year <= 2000)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"from": "yesterday"}, "from"),
        ({"to": "0"}, "to"),
        ({"from": "20200101"}, "from"),
        ({"event_types": ""}, "event_types"),
        ({"event_types": "missiles,,nuclear"}, "event_types"),
        ({"event_types": "balloons"}, "event_types"),
        ({"weapons_test": "maybe"}, "weapons_test"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client: TestClient, params: dict, field: str) -> None:
    response = client.get("/v1/events", params=params)
    assert response.status_code == 422 and response.json()["error"]["field"] == field


def test_adding_an_event_needs_the_token(client: TestClient) -> None:
    missing = client.post("/v1/events", json=NEW_EVENT)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    malformed = client.post("/v1/events", json=NEW_EVENT, headers={"Authorization": TOKEN})
    assert malformed.status_code == 401
    wrong = client.post("/v1/events", json=NEW_EVENT, headers=auth("not-the-token"))
    assert wrong.status_code == 403 and wrong.json()["error"]["message"] == "the bearer token is not valid"
    # Authentication comes before validation: a bad body without a token is still 401.
    assert client.post("/v1/events", json={"date": "nonsense"}).status_code == 401
    assert client.get("/v1/events", params={"from": "2026-09-15", "to": "2026-09-15"}).json()["total"] == 0


def test_with_no_token_configured_writes_are_refused(store: Store) -> None:
    with running_app(store.url, api_token=None) as client:
        response = client.post("/v1/events", json=NEW_EVENT, headers=auth())
        retrain = client.post("/v1/models/retrain", headers=auth())
    assert response.status_code == 403
    assert (
        response.json()["error"]["message"] == "writes are disabled on this server: it has no PROVOCAST_API_TOKEN set"
    )
    assert retrain.status_code == 403


def test_an_event_added_with_the_token_is_stored_and_listed(client: TestClient) -> None:
    response = client.post("/v1/events", json={**NEW_EVENT, "id": "api-test-added-1"}, headers=auth())

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == "api-test-added-1" and body["origin"] == "manual" and body["weapons_test"] is True
    assert body["count"] == 2 and response.headers["location"] == "/v1/events?from=2026-09-15&to=2026-09-15"
    listed = client.get("/v1/events", params={"from": "2026-09-15", "to": "2026-09-15"}).json()
    assert [e["id"] for e in listed["items"]] == ["api-test-added-1"]

    duplicate = client.post("/v1/events", json={**NEW_EVENT, "id": "api-test-added-1"}, headers=auth())
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == {
        "status": 409,
        "code": "conflict",
        "field": "id",
        "message": "event 'api-test-added-1' is already in the store (origin manual); choose another id",
    }


def test_the_default_id_and_weapons_flag_follow_the_cli(client: TestClient) -> None:
    body = {"date": "2026-09-16", "event_type": "engine_test", "description": "Static engine test.", "source": "test"}
    response = client.post("/v1/events", json=body, headers=auth())
    assert response.status_code == 201
    assert response.json()["id"] == "2026-09-16-engine_test" and response.json()["weapons_test"] is False


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"date": "2026-09-31"}, "date", "'2026-09-31' is not a calendar date"),
        ({"date": "2999-01-01"}, "date", "is in the future"),
        ({"event_type": "cruise_misile"}, "event_type", "unknown event type 'cruise_misile'"),
        ({"count": 0}, "count", "is not a whole number from 1 to 1000"),
        ({"count": "many"}, "count", "valid integer"),
        ({"description": "   "}, "description", "is missing"),
        ({"id": "has spaces; DROP TABLE events"}, "id", "is not a valid id"),
        ({"source": None}, "source", "valid string"),
        ({"weapons": True}, "weapons", "Extra inputs are not permitted"),
    ],
)
def test_invalid_events_are_422_naming_the_field_and_nothing_is_written(
    client: TestClient, change: dict, field: str, says: str
) -> None:
    before = client.get("/v1/events", params={"limit": 1}).json()["total"]
    response = client.post("/v1/events", json={**NEW_EVENT, **change}, headers=auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and says in error["message"]
    assert client.get("/v1/events", params={"limit": 1}).json()["total"] == before


def test_no_model_needed_for_events(backend: str, tmp_path: Path) -> None:
    with seeded_store(backend, tmp_path / "no-model", artifact=None) as empty, running_app(empty.url) as client:
        assert client.get("/v1/events", params={"limit": 1}).status_code == 200


def test_characters_the_store_cannot_hold_are_422_and_nothing_is_written(client: TestClient, backend: str) -> None:
    before = client.get("/v1/events", params={"limit": 1}).json()["total"]
    response = client.post(
        "/v1/events", json={**NEW_EVENT, "id": "nul-test", "description": "a\u0000b"}, headers=auth()
    )
    lookup = client.get("/v1/elections/kr-legislative%00-2028")

    # Control characters are refused in every text field, on both stores (PostgreSQL text could not hold NUL).
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_input", response.text
    assert "U+0000" in response.json()["error"]["message"]
    assert client.get("/v1/events", params={"limit": 1}).json()["total"] == before
    assert lookup.status_code == (422 if backend == "postgres" else 404)


def test_an_empty_date_range_is_an_empty_page(client: TestClient) -> None:
    page = client.get("/v1/events", params={"from": "2020-01-01", "to": "2019-01-01"})
    assert page.status_code == 200 and page.json()["total"] == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date": "1000-01-01"}, "date", "before 1950-01-01"),
        ({"description": "NUL \u0000 inside"}, "description", "U+0000"),
        ({"description": "ESC \u001b[2J"}, "description", "U+001B"),
        ({"source": "https://example.org/\u202egnp.exe"}, "source", "U+202E"),
    ],
)
def test_old_dates_and_unsafe_text_are_refused(client: TestClient, change: dict, field: str, message: str) -> None:
    response = client.post("/v1/events", json={**NEW_EVENT, "id": "unsafe-1", **change}, headers=auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and message in error["message"]


def test_delete_answers_the_row_and_refuses_seed_rows(client: TestClient) -> None:
    added = client.post("/v1/events", json={**NEW_EVENT, "id": "to-delete-1"}, headers=auth())
    assert added.status_code == 201, added.text
    assert client.delete("/v1/events/to-delete-1").status_code == 401
    deleted = client.delete("/v1/events/to-delete-1", headers=auth())
    assert deleted.status_code == 200 and deleted.json()["description"] == NEW_EVENT["description"]
    assert client.delete("/v1/events/to-delete-1", headers=auth()).status_code == 404
    listed = client.get("/v1/events", params={"from": NEW_EVENT["date"], "to": NEW_EVENT["date"]}).json()
    assert "to-delete-1" not in {e["id"] for e in listed["items"]}
    seed = client.delete(f"/v1/events/{SHIPPED[0].id}", headers=auth())
    assert seed.status_code == 409 and "origin seed" in seed.json()["error"]["message"]


def test_405_names_the_methods_of_the_path() -> None:
    from service.main import create_app
    from service.settings import ServiceSettings

    with TestClient(create_app(ServiceSettings(database_url="sqlite://"))) as plain:
        retrain = plain.options("/v1/models/retrain")
        assert retrain.status_code == 405 and retrain.headers["allow"] == "POST"
        events = plain.put("/v1/events")
        assert events.status_code == 405 and events.headers["allow"] == "GET, HEAD, POST"
