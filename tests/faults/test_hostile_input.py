"""Hostile input over real HTTP: each gets a clear 4xx in the error shape, and the store is left exactly as it was.

Oversized bodies (declared and streamed without a length), deep and huge
JSON, absurd windows, unknown event types, SQL-looking strings in paths,
queries and bodies, broken encodings. The store's every table is
fingerprinted before and after each case. (The single cases of
tests/service/test_forecasts.py and test_events.py check the messages in
detail; here the point is volume, transport and that nothing changes.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.faults.conftest import Served
from tests.faults.live_server import store_fingerprint
from tests.service.conftest import auth

LIMIT = 65_536  # PROVOCAST_MAX_BODY_BYTES's default
SQL = "'; DROP TABLE events; --"
EVENT = {
    "date": "2026-09-22",
    "event_type": "cruise_missile",
    "description": "Test row.",
    "source": "https://example.org/x",
}


def _streamed(size: int) -> Iterator[bytes]:
    yield b'{"start": "'
    for _ in range(size // 4096):
        yield b"x" * 4096
    yield b'"}'


def _window(start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"start": start, "end": end, **more}


# (name, method, path, request keyword arguments, expected status, the field named or None)
CASES: list[tuple[str, str, str, dict[str, Any], int, str | None]] = [
    (
        "declared body over the limit",
        "POST",
        "/v1/forecasts",
        {"content": b"{" + b" " * (LIMIT + 10) + b"}", "headers": {"content-type": "application/json"}},
        413,
        None,
    ),
    (
        "streamed body over the limit, no length",
        "POST",
        "/v1/forecasts",
        {"content": lambda: _streamed(4 * LIMIT), "headers": {"content-type": "application/json"}},
        413,
        None,
    ),
    (
        "oversized event with the token",
        "POST",
        "/v1/events",
        {"json": {**EVENT, "description": "y" * (2 * LIMIT)}, "headers": auth()},
        413,
        None,
    ),
    (
        "nested 100,000 deep",
        "POST",
        "/v1/forecasts",
        {"content": b"[" * 30_000 + b"]" * 30_000, "headers": {"content-type": "application/json"}},
        422,
        "body",
    ),
    (
        "nested objects 40 deep",
        "POST",
        "/v1/events",
        {"content": (b'{"a":' * 40 + b"1" + b"}" * 40), "headers": {"content-type": "application/json", **auth()}},
        422,
        "body",
    ),
    (
        "thousands of unknown keys",
        "POST",
        "/v1/forecasts",
        {"json": {**_window("2027-01-01", "2027-01-31"), **{f"k{i}": i for i in range(4000)}}},
        422,
        None,
    ),
    (
        "thousands of event types",
        "POST",
        "/v1/forecasts",
        {"json": _window("2027-01-01", "2027-01-31", event_types=["weapons"] * 5000)},
        422,
        "event_types",
    ),
    ("a century", "POST", "/v1/forecasts", {"json": _window("2027-01-01", "2126-12-31")}, 422, "end"),
    ("end before start", "POST", "/v1/forecasts", {"json": _window("2027-06-01", "2027-01-01")}, 422, "end"),
    ("year 1", "POST", "/v1/forecasts", {"json": _window("0001-01-01", "0001-01-31")}, 422, "start"),
    ("year 9999", "POST", "/v1/forecasts", {"json": _window("9999-12-01", "9999-12-31")}, 422, "end"),
    ("not a date", "POST", "/v1/forecasts", {"json": _window("tomorrow", "2027-01-31")}, 422, "start"),
    (
        "a billion days before",
        "GET",
        "/v1/elections/kr-legislative-2028-04-12/forecast",
        {"params": {"days_before": 10**9}},
        422,
        "days_before",
    ),
    (
        "negative days after",
        "GET",
        "/v1/elections/kr-legislative-2028-04-12/forecast",
        {"params": {"days_after": -5}},
        422,
        "days_after",
    ),
    (
        "unknown event type",
        "GET",
        "/v1/forecasts/upcoming",
        {"params": {"event_types": "balloons"}},
        422,
        "event_types",
    ),
    (
        "unknown event type in a window",
        "POST",
        "/v1/forecasts",
        {"json": _window("2027-01-01", "2027-01-31", event_types=["ballistic_misile"])},
        422,
        "event_types",
    ),
    ("SQL as an event type", "GET", "/v1/events", {"params": {"event_types": SQL}}, 422, "event_types"),
    ("SQL as a date", "GET", "/v1/events", {"params": {"from": "2020-01-01' OR '1'='1"}}, 422, "from"),
    ("SQL as an election id", "GET", f"/v1/elections/{SQL}/forecast", {}, 404, "election_id"),
    ("SQL as a model", "POST", "/v1/forecasts", {"json": _window("2027-01-01", "2027-01-31", model=SQL)}, 422, "model"),
    ("SQL as an event id", "POST", "/v1/events", {"json": {**EVENT, "id": SQL}, "headers": auth()}, 422, "id"),
    ("SQL as a version", "GET", "/v1/models/x' OR 1=1 --", {}, 404, "version"),
    ("SQL as a job", "GET", "/v1/jobs/1; DELETE FROM jobs", {}, 404, "job_id"),
    (
        "a count beyond any integer",
        "POST",
        "/v1/events",
        {
            "content": json.dumps(EVENT)[:-1].encode() + b', "count": 1' + b"0" * 400 + b"}",
            "headers": {"content-type": "application/json", **auth()},
        },
        422,
        "count",
    ),
    (
        "NaN as a count",
        "POST",
        "/v1/events",
        {
            "content": json.dumps(EVENT)[:-1].encode() + b', "count": NaN}',
            "headers": {"content-type": "application/json", **auth()},
        },
        422,
        "count",
    ),
    (
        "bytes that are not UTF-8",
        "POST",
        "/v1/forecasts",
        {"content": b'{"start": "\xff\xfe", "end": "2027-01-31"}', "headers": {"content-type": "application/json"}},
        422,
        "body",
    ),
    (
        "not JSON at all",
        "POST",
        "/v1/events",
        {
            "content": b"date=2026-09-22&event_type=artillery",
            "headers": {"content-type": "application/x-www-form-urlencoded", **auth()},
        },
        422,
        None,
    ),
    ("a JSON string instead of an object", "POST", "/v1/forecasts", {"json": "2027-01-01..2027-01-31"}, 422, None),
    (
        "a null byte in a query",
        "GET",
        "/v1/events",
        {"params": {"event_types": "nuclear_test\x00"}},
        422,
        "event_types",
    ),
    ("a 60 kB query string", "GET", "/v1/events", {"params": {"event_types": "x" * 60_000}}, 422, "event_types"),
    (
        "an empty body",
        "POST",
        "/v1/forecasts",
        {"content": b"", "headers": {"content-type": "application/json"}},
        422,
        None,
    ),
]


@pytest.fixture
def unchanged(served: Served) -> Iterator[None]:
    before = store_fingerprint(served.store.factory)
    yield
    assert store_fingerprint(served.store.factory) == before, "a refused request changed the store"


@pytest.mark.parametrize(("name", "method", "path", "options", "status", "field"), CASES, ids=[c[0] for c in CASES])
def test_hostile_requests_get_a_clear_4xx_and_change_nothing(
    served: Served,
    unchanged: None,
    name: str,
    method: str,
    path: str,
    options: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    options = {key: value() if callable(value) else value for key, value in options.items()}  # a fresh stream each time
    with served.server.client() as client:
        response = client.request(method, path, **options)
        assert response.status_code == status, f"{name}: {response.status_code} {response.text[:300]}"
        error = response.json()["error"]
        assert error["status"] == status and error["code"] and error["message"]
        assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
        if field is not None:
            assert error.get("field") == field, (name, error)
        assert client.get("/readyz").status_code == 200


def test_sql_looking_text_in_a_valid_event_is_stored_as_text(served: Served) -> None:
    before = store_fingerprint(served.store.factory)
    body = {**EVENT, "id": "sql-looking-text", "description": f"Robert{SQL}", "source": "x' OR '1'='1"}
    with served.server.client() as client:
        added = client.post("/v1/events", json=body, headers=auth())
        assert added.status_code == 201, added.text
        listed = client.get("/v1/events", params={"from": EVENT["date"], "to": EVENT["date"]}).json()
    assert [(e["description"], e["source"]) for e in listed["items"]] == [(body["description"], body["source"])]
    after = store_fingerprint(served.store.factory)
    assert {t for t in after if after[t] != before[t]} == {"events"}
    assert listed["total"] == 1


def test_a_slow_client_that_stops_mid_body_does_not_stop_the_server(served: Served) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", served.server.port), timeout=5) as raw:
        raw.sendall(
            b'POST /v1/forecasts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"st'
        )
    assert httpx.get(served.server.base_url + "/readyz", timeout=10).status_code == 200
