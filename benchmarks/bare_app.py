"""The baseline of every serving figure: a bare FastAPI app returning a constant JSON body.

`GET /bare/{size}` and `POST /bare/{size}` answer a JSON document of exactly
`size` bytes, built once and kept, so each service endpoint is compared with
a bare endpoint that sends a body of the same size. Served by the same
uvicorn command and worker count as the service, in the same benchmark run.
"""

from __future__ import annotations

from fastapi import FastAPI, Path, Request, Response

MAX_SIZE = 1_000_000

app = FastAPI(title="bare baseline")
_bodies: dict[int, bytes] = {}


def constant_body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes (at least 16)."""
    body = _bodies.get(size)
    if body is None:
        frame = b'{"padding":""}'
        body = frame[:-2] + b"x" * max(size - len(frame), 0) + frame[-2:]
        _bodies[size] = body
    return body


@app.get("/bare/{size}")
async def bare_get(size: int = Path(ge=16, le=MAX_SIZE)) -> Response:
    return Response(constant_body(size), media_type="application/json")


@app.post("/bare/{size}")
async def bare_post(request: Request, size: int = Path(ge=16, le=MAX_SIZE)) -> Response:
    await request.body()  # read what the client sent, as the service must
    return Response(constant_body(size), media_type="application/json")
