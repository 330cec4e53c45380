"""A pure ASGI layer below the router that answers the memoised GETs with pre-encoded bytes.

The forecast GETs (`/v1/elections/{id}/forecast` and `/v1/forecasts/upcoming`)
change only when another version is served, when the election calendar
changes, or (for a window counted from today) when the day changes. This layer
keys each 200 response on exactly that: (version, calendar generation, today,
path, canonical query). The first request for a key goes through FastAPI as
any other; its response is kept with its ETag, its gzip encoding (made once,
deterministic) and the headers below, and every later request for the key is
answered from those bytes without routing, dependencies or validation.

This layer writes the representation headers of these routes on both roads,
so a miss and a hit are byte-identical: `ETag` (a digest of the body),
`Cache-Control` (`public, max-age=<registry poll seconds>`: a client
revalidates about as often as a worker looks for a new version), and
`Vary: Accept-Encoding`. A matching `If-None-Match` gets a 304. The request
id, the access line and the metrics stay with `ObservabilityMiddleware`
outside this layer, which sees one request either way: the route template
and the version are put in the scope as the router and the route would.

Memory: at most `max_entries` responses and `max_bytes` of bodies (least
recently used dropped first), all dropped when the served version changes.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The GET routes whose 200 bodies depend only on (version, calendar, today, path, query).
FAST_ROUTES = re.compile(r"^/v1/(elections/[^/]+/forecast|forecasts/upcoming)$")
GZIP_MIN_BYTES = 512
MAX_BYTES = 32 * 2**20  # what the kept responses may hold in all (plain and gzip bodies)


@dataclass(frozen=True)
class ServingState:
    """What a memoised body depends on besides the request: the served version and the calendar's generation."""

    version: str
    calendar: int


@dataclass(frozen=True)
class Encoded:
    """One memoised response: headers and body, plain and gzip."""

    route: Any  # the router's matched route, put back in the scope on a hit (the metrics read its template)
    etag: bytes
    headers: list[tuple[bytes, bytes]]  # without Content-Length and Content-Encoding
    body: bytes
    gzipped: bytes | None  # None when the body is too small to be worth it

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


class FastPathMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        serving: Callable[[], ServingState | None],
        max_age_seconds: int,
        max_entries: int,
        max_bytes: int = MAX_BYTES,
        enabled: bool = True,
    ):
        self.app = app
        self.serving = serving
        self.cache_control = f"public, max-age={max_age_seconds}".encode()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.enabled = enabled
        self._entries: OrderedDict[Hashable, Encoded] = OrderedDict()
        self._version: str | None = None
        self._lock = threading.Lock()
        self.hits = 0  # requests answered from kept bytes (for tests and the benchmark's report)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not FAST_ROUTES.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = self.serving()
        if state is None:  # not ready: FastAPI answers the 503
            await self.app(scope, receive, send)
            return
        key = (state, date.today(), scope["path"], canonical_query(scope.get("query_string", b"")))
        entry = self._get(key, state.version) if self.enabled else None
        if entry is None:
            entry = await self._through_app(scope, receive, send)
            if entry is None:
                return  # not a 200: already sent as FastAPI made it
            if self.enabled:
                self._put(key, entry)
        else:
            self.hits += 1
            scope["route"] = entry.route
            scope.setdefault("state", {})["model_version"] = state.version
        await self._send_entry(entry, scope, send)

    async def _through_app(self, scope: Scope, receive: Receive, send: Send) -> Encoded | None:
        """Run the request through FastAPI; a 200 is held back and returned, anything else sent as is."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))

        await self.app(scope, receive, hold)
        if start is None:
            return None
        return encode(scope.get("route"), start, b"".join(chunks))

    def _get(self, key: Hashable, version: str) -> Encoded | None:
        with self._lock:
            if version != self._version:  # another version is served: nothing kept is valid
                self._entries.clear()
                self.bytes = 0
                self._version = version
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _put(self, key: Hashable, entry: Encoded) -> None:
        with self._lock:
            previous = self._entries.pop(key, None)
            self.bytes += entry.size - (previous.size if previous is not None else 0)
            self._entries[key] = entry
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= dropped.size

    async def _send_entry(self, entry: Encoded, scope: Scope, send: Send) -> None:
        common = [
            *entry.headers,
            (b"etag", entry.etag),
            (b"cache-control", self.cache_control),
            (b"vary", b"accept-encoding"),
        ]
        if _matches(if_none_match(scope), entry.etag):
            headers = [(k, v) for k, v in common if k.lower() != b"content-type"]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = entry.body
        if entry.gzipped is not None and accepts_gzip(scope):
            body = entry.gzipped
            common.append((b"content-encoding", b"gzip"))
        common.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": common})
        await send({"type": "http.response.body", "body": body})


def canonical_query(query: bytes) -> str:
    """The query with its parameters ordered by name (values of one name keep their order: the last one wins)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def encode(route: Any, start: Message, body: bytes) -> Encoded:
    etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
    drop = (b"content-length", b"content-encoding", b"etag", b"cache-control", b"vary")
    headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", []) if k.lower() not in drop]
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return Encoded(route, etag, headers, body, gzipped)


def accepts_gzip(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding":
            for part in value.decode("latin-1").split(","):
                token, _, params = part.strip().partition(";")
                if token.strip().lower() == "gzip":
                    quality = params.strip().lower()
                    return not (quality.startswith("q=") and _zero(quality[2:]))
    return False


def _zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def if_none_match(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name == b"if-none-match":
            return bytes(value)
    return None


def _matches(wanted: bytes | None, etag: bytes) -> bool:
    if wanted is None:
        return False
    tags = [tag.strip().removeprefix(b"W/") for tag in wanted.split(b",")]
    return b"*" in tags or etag in tags
