"""Every write endpoint, taken from the served OpenAPI schema, refuses requests without the right token.

No header or a malformed one: 401 with WWW-Authenticate; a wrong token: 403.
Nothing is written and no job is started. Write endpoints (anything but GET)
must document 401 unless they are known reads-by-POST, so a new write
endpoint without the token check fails here.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.faults.conftest import Served
from tests.faults.live_server import store_fingerprint
from tests.service.conftest import TOKEN

OPEN_POSTS = {("POST", "/v1/forecasts")}  # a forecast for a custom window: a read with a body
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/events"): {
        "date": "2026-09-23",
        "event_type": "artillery",
        "description": "Test row.",
        "source": "https://example.org/x",
    },
    ("POST", "/v1/models/retrain"): {"promote": "always"},
}
BAD_HEADERS: list[tuple[dict[str, str], int]] = [
    ({}, 401),
    ({"Authorization": ""}, 401),
    ({"Authorization": "Bearer"}, 401),
    ({"Authorization": f"Basic {TOKEN}"}, 401),
    ({"Authorization": TOKEN}, 401),
    ({"Authorization": "Bearer not-the-token"}, 403),
    ({"Authorization": f"Bearer {TOKEN}x"}, 403),
    ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403),
    ({"Authorization": f"Bearer {TOKEN.upper()}"}, 403),
    ({"X-Api-Token": TOKEN}, 401),
]


def _write_operations(client: httpx.Client) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    schema = client.get("/openapi.json").json()
    guarded, unguarded = [], []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method.upper() in ("GET", "HEAD", "OPTIONS"):
                continue
            (guarded if "401" in operation.get("responses", {}) else unguarded).append((method.upper(), path))
    return sorted(guarded), sorted(unguarded)


def test_every_write_needs_the_right_token_and_nothing_changes_without_it(served: Served) -> None:
    before = store_fingerprint(served.store.factory)
    with served.server.client() as client:
        guarded, unguarded = _write_operations(client)
        assert set(unguarded) <= OPEN_POSTS, f"write endpoints that do not document 401: {set(unguarded) - OPEN_POSTS}"
        assert ("POST", "/v1/events") in guarded and ("POST", "/v1/models/retrain") in guarded
        for method, path in guarded:
            url = path.replace("{", "").replace("}", "")  # any value for path parameters: auth comes first
            for headers, status in BAD_HEADERS:
                response = client.request(method, url, json=BODIES.get((method, path), {}), headers=headers)
                assert response.status_code == status, (method, path, headers, response.text[:300])
                error = response.json()["error"]
                assert error["status"] == status and error["message"]
                if status == 401:
                    assert response.headers["www-authenticate"] == "Bearer"
                assert TOKEN not in response.text
    assert store_fingerprint(served.store.factory) == before, "a refused write changed the store"
