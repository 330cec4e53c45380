"""The outside probe's smaller findings, each asked again of a real server (SQLite and PostgreSQL).

- `OPTIONS /v1/models/retrain` answered 405 with `Allow: GET` for a POST-only path;
- `?to=0` was read as 1970-01-01 instead of refused;
- a JSON body nested 40 deep escaped the depth guard when sent as `application/JSON`;
- `/` sent no Content-Security-Policy, `X-Content-Type-Options` or frame-ancestors;
- `/docs` loaded its assets from a CDN (blank offline);
- placeholder or short tokens were accepted at start;
- an event dated 1000-01-01 was stored (the next retrain then died), with text holding NUL, ESC or U+202E.
"""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

from forecasting.settings import PROJECT_ROOT
from tests.faults.conftest import Served
from tests.faults.live_server import server_environment
from tests.service.conftest import auth

EVENT = {
    "date": "2024-02-02",
    "event_type": "artillery",
    "description": "Shells fired into the sea.",
    "source": "https://example.org/probe",
}


def test_405_names_the_documented_methods(served: Served) -> None:
    with served.server.client() as client:
        retrain = client.options("/v1/models/retrain")
        events = client.put("/v1/events")
        one_event = client.post("/v1/events/some-id")
    assert retrain.status_code == 405 and retrain.headers["allow"] == "POST"
    assert events.status_code == 405 and events.headers["allow"] == "GET, HEAD, POST"
    assert one_event.status_code == 405 and one_event.headers["allow"] == "DELETE"


@pytest.mark.parametrize("path", ["/v1/elections", "/v1/events"])
@pytest.mark.parametrize("value", ["0", "20240101", "2024-1-1", "1e9"])
def test_malformed_dates_are_422_naming_the_field(served: Served, path: str, value: str) -> None:
    answer = httpx.get(served.server.base_url + path, params={"to": value}, timeout=30)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "to", answer.text


@pytest.mark.parametrize("content_type", ["application/JSON", "Application/Json; charset=UTF-8"])
def test_the_depth_guard_reads_media_types_without_case(served: Served, content_type: str) -> None:
    body = '{"start": ' + "[" * 40 + "]" * 40 + "}"
    answer = httpx.post(
        served.server.base_url + "/v1/forecasts", content=body, headers={"Content-Type": content_type}, timeout=30
    )
    assert answer.status_code == 422 and "nested" in answer.json()["error"]["message"], answer.text


def test_html_pages_carry_security_headers(served: Served) -> None:
    with served.server.client() as client:
        page = client.get("/")
        api = client.get("/v1/elections")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    assert api.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in api.headers


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documentation_loads_nothing_from_elsewhere(served: Served, page: str) -> None:
    with served.server.client() as client:
        html = client.get(page)
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
        assert html.status_code == 200 and assets
        for asset in assets:
            assert asset.startswith("/docs-assets/"), asset
            assert client.get(asset).status_code == 200, asset
    assert "cdn" not in html.text.lower() and "https://" not in html.text


@pytest.mark.parametrize(
    ("token", "message"),
    [("change-me-too", "placeholder"), ("short-token-123", "has 15 characters; use at least 24")],
)
def test_weak_tokens_stop_the_service_at_start(served: Served, token: str, message: str) -> None:
    env = server_environment(served.store.url, api_token=token)
    started = subprocess.run(
        [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", "0"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert message in started.stderr and "PROVOCAST_API_TOKEN" in started.stderr
    assert token not in started.stderr, "the token is echoed"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "1000-01-01"}, "date"),
        ({"description": "nul \u0000 here"}, "description"),
        ({"description": "\u001b[2Jcleared"}, "description"),
        ({"source": "https://example.org/\u202eexe.gnp"}, "source"),
    ],
)
def test_old_dates_and_unsafe_text_are_refused(served: Served, change: dict, field: str) -> None:
    answer = httpx.post(
        served.server.base_url + "/v1/events", json={**EVENT, "id": "probe-1", **change}, headers=auth(), timeout=30
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field, answer.text
