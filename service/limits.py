"""At the edge: refuse oversized and pathologically nested request bodies before anything parses them, and add
the security headers to every response."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response

MAX_JSON_DEPTH = 32


class BodyLimitMiddleware:
    """Reads a request body up to `max_bytes` (413 beyond), and refuses JSON nested deeper than 32 levels (422).

    The body is then handed on unchanged. Python's JSON parser recurses, so a
    body of 60,000 brackets would otherwise end in a RecursionError.
    """

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send, 413, f"the request body is larger than {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, 413, f"the request body is larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        # Media types are case-insensitive: `application/JSON` is JSON too.
        if body and b"json" in headers.get(b"content-type", b"json").lower() and _too_deep(body):
            await self._refuse(
                scope, receive, send, 422, f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep", "body"
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str, field: str | None = None
    ) -> None:
        code = "payload_too_large" if status == 413 else "invalid_input"
        await error_response(status, code, message, field)(scope, receive, send)


def _too_deep(body: bytes) -> bool:
    """Whether brackets outside strings nest deeper than MAX_JSON_DEPTH (a linear scan, no parsing)."""
    depth = 0
    in_string = False
    escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


# The dashboard has no script and no inline style; the API documentation pages start their (local) bundle with
# an inline script and ReDoc draws with inline styles and a worker.
PAGE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PAGES = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """`X-Content-Type-Options: nosniff` on every response; on HTML pages also a Content-Security-Policy (scripts
    and styles from this origin only, no framing), `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PAGES else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.lower().startswith(b"text/html"):
                    headers += [
                        (b"content-security-policy", policy.encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"no-referrer"),
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
