"""The fast path below the router: a hit is byte for byte what the normal path (FastAPI) answered, headers included."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from service.edge.fast_path import FastPathMiddleware, canonical_query

# Every route the fast path serves, with the query variants that reach distinct code.
ROUTES = (
    "/v1/elections/kr-legislative-2028-04-12/forecast",
    "/v1/elections/us-presidential-2028-11-07/forecast?days_before=14&days_after=7&event_types=missiles",
    "/v1/elections/us-presidential-2028-11-07/forecast?model=climatology",
    "/v1/forecasts/upcoming",
    "/v1/forecasts/upcoming?event_types=nuclear&days_before=10",
)
# Request ids differ per request by design; everything else must not.
PER_REQUEST = {"x-request-id"}


def fast_path(client: TestClient) -> FastPathMiddleware:
    layer = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, FastPathMiddleware):
        layer = layer.app
    return layer


@pytest.fixture
def fast(client: TestClient) -> Iterator[FastPathMiddleware]:
    client.get("/healthz")  # builds the middleware stack
    layer = fast_path(client)
    layer.clear()
    yield layer


def _headers(response: object) -> list[tuple[str, str]]:
    raw = response.headers.raw  # type: ignore[attr-defined]
    return [(k.decode().lower(), v.decode()) for k, v in raw if k.decode().lower() not in PER_REQUEST]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "headers",
    [{"accept-encoding": "identity"}, {"accept-encoding": "gzip, deflate"}, {"accept-encoding": "br, gzip;q=0"}],
    ids=["plain", "gzip", "gzip-refused"],
)
def test_a_hit_is_byte_identical_to_the_normal_path(
    client: TestClient, fast: FastPathMiddleware, route: str, headers: dict[str, str]
) -> None:
    hits = fast.hits
    normal = client.get(route, headers=headers)  # a miss: FastAPI answers, the layer keeps it
    assert normal.status_code == 200, normal.text
    assert fast.hits == hits
    served = client.get(route, headers=headers)
    assert fast.hits == hits + 1
    assert served.status_code == normal.status_code
    assert _headers(served) == _headers(normal)
    assert served.content == normal.content
    encoded = dict(_headers(served))
    assert encoded["etag"].startswith('"') and encoded["vary"] == "accept-encoding"
    assert encoded["cache-control"].startswith("public, max-age=")
    gzipped = headers["accept-encoding"] == "gzip, deflate"
    assert (encoded.get("content-encoding") == "gzip") == gzipped
    sent = gzip.compress(served.content, compresslevel=6, mtime=0) if gzipped else served.content  # httpx decodes
    assert int(encoded["content-length"]) == len(sent)


@pytest.mark.parametrize("route", ROUTES)
def test_gzip_and_plain_carry_the_same_body_and_etag(client: TestClient, fast: FastPathMiddleware, route: str) -> None:
    plain = client.get(route, headers={"accept-encoding": "identity"})
    zipped = client.get(route, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes the gzip
    assert zipped.headers["etag"] == plain.headers["etag"]


@pytest.mark.parametrize("route", ROUTES)
def test_if_none_match_gets_a_304_on_both_roads(client: TestClient, fast: FastPathMiddleware, route: str) -> None:
    etag = client.get(route).headers["etag"]
    fast.clear()
    normal = client.get(route, headers={"if-none-match": etag})  # through FastAPI
    served = client.get(route, headers={"if-none-match": f'"other", {etag}'})  # from kept bytes
    assert normal.status_code == served.status_code == 304
    assert normal.content == served.content == b""
    assert _headers(normal) == _headers(served)
    assert served.headers["etag"] == etag
    assert client.get(route, headers={"if-none-match": '"stale"'}).status_code == 200


def test_the_query_is_keyed_canonically_and_errors_are_not_kept(client: TestClient, fast: FastPathMiddleware) -> None:
    base = "/v1/elections/us-presidential-2028-11-07/forecast"
    one = client.get(f"{base}?days_before=14&days_after=7")
    hits = fast.hits
    other = client.get(f"{base}?days_after=7&days_before=14")
    assert fast.hits == hits + 1 and other.content == one.content
    # The last of a repeated parameter wins in FastAPI; canonical order keeps the values' order.
    assert canonical_query(b"days_before=1&model=x&days_before=2") != canonical_query(b"days_before=2&days_before=1")
    kept = len(fast)
    bad = client.get(f"{base}?days_before=-3")
    assert bad.status_code == 422 and "etag" not in bad.headers
    assert len(fast) == kept
    assert client.get(f"{base}?days_before=-3").status_code == 422


def test_one_access_line_and_one_metric_per_request_on_a_hit(
    client: TestClient, fast: FastPathMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    route = ROUTES[0]
    client.get(route)

    def count() -> float:
        for line in client.get("/metrics").text.splitlines():
            if (
                line.startswith("provocast_http_requests_total{")
                and 'route="/v1/elections/{election_id}/forecast"' in line
            ):
                if 'method="GET"' in line and 'status="200"' in line:
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = count()
    hits = fast.hits
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="provocast.access"):
        for _ in range(3):
            client.get(route)
    assert fast.hits == hits + 3
    lines = [
        r for r in caplog.records if r.name == "provocast.access" and r.getMessage().startswith("GET /v1/elections")
    ]
    assert len(lines) == 3
    assert all(getattr(r, "route", None) == "/v1/elections/{election_id}/forecast" for r in lines)
    assert all(getattr(r, "version", None) for r in lines)
    assert count() == before + 3


def test_a_body_that_depends_on_today_is_keyed_on_the_day(client: TestClient, fast: FastPathMiddleware) -> None:
    today = datetime.now(UTC).replace(hour=12)
    with time_machine.travel(today, tick=False):
        first = client.get("/v1/forecasts/upcoming").json()
        assert client.get("/v1/forecasts/upcoming").json() == first
    with time_machine.travel(today + timedelta(days=1), tick=False):
        later = client.get("/v1/forecasts/upcoming").json()
    assert later["from"] != first["from"]


def test_the_gzip_encoding_is_deterministic(client: TestClient, fast: FastPathMiddleware) -> None:
    route = ROUTES[0]
    first = client.get(route, headers={"accept-encoding": "gzip"})
    raw = gzip.compress(first.content, compresslevel=6, mtime=0)
    fast.clear()
    again = client.get(route, headers={"accept-encoding": "gzip"})
    assert first.headers["content-length"] == again.headers["content-length"] == str(len(raw))


def test_the_kept_responses_are_bounded_in_bytes() -> None:
    """A pure ASGI check (no model needed): distinct queries of a large body never hold more than max_bytes."""
    import asyncio

    from service.edge.fast_path import ServingState

    body = b"{" + b"x" * 4000 + b"}"

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    layer = FastPathMiddleware(app, lambda: ServingState("v1", 0), max_age_seconds=5, max_entries=100, max_bytes=20_000)

    async def ask(query: bytes) -> None:
        async def receive():  # type: ignore[no-untyped-def]
            return {"type": "http.request", "body": b""}

        async def send(message):  # type: ignore[no-untyped-def]
            pass

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/v1/forecasts/upcoming",
            "query_string": query,
            "headers": [],
        }
        await layer(scope, receive, send)

    for n in range(30):
        asyncio.run(ask(b"days_before=%d" % n))
    assert 0 < len(layer) < 30 and layer.bytes <= 20_000
