"""Fetching a published file over HTTP: a timeout, a size cap, retries with backoff, conditional requests.

Plain standard library (`urllib`), no database: `forecasting.lifecycle.syncing`
hands in the validators of the last file it merged and gets back either the
new body or "not modified" (a 304 costs one request and no body).

Retried (with exponential backoff): connection errors, timeouts, 5xx and 429.
Not retried: other 4xx (a wrong URL stays wrong), and a body over the cap.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

USER_AGENT = "provocast-sync (+https://github.com/stiles/north-korea-provocations)"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    timeout_seconds: float
    max_bytes: int
    retries: int  # attempts after the first
    backoff_seconds: float  # wait before the first retry; doubles each time


@dataclass(frozen=True)
class Fetched:
    """A 200 with its body, or a 304 (body None) when the file is unchanged since the validators given."""

    url: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str
    attempts: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def sha256(self) -> str | None:
        return None if self.body is None else hashlib.sha256(self.body).hexdigest()


class FetchFailed(RuntimeError):
    """The file could not be fetched; `status` is the last HTTP status seen (None: no answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def fetch(
    url: str,
    limits: FetchLimits,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """GET the URL, conditionally when validators are given; raise FetchFailed once retries are spent."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/csv, text/plain;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    attempts = limits.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return _fetch_once(url, headers, limits, attempt)
        except _Retryable as error:
            if attempt == attempts:
                raise FetchFailed(f"{error} (after {attempts} attempts)", error.status) from None
            sleep(limits.backoff_seconds * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _fetch_once(url: str, headers: dict[str, str], limits: FetchLimits, attempt: int) -> Fetched:
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=limits.timeout_seconds)  # noqa: S310 (http(s) checked by the caller)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 304:
            return Fetched(url, 304, None, headers.get("If-None-Match"), headers.get("If-Modified-Since"), "", attempt)
        message = f"{url} answered HTTP {error.code} {error.reason}"
        if error.code >= 500 or error.code == 429:
            raise _Retryable(message, error.code) from None
        raise FetchFailed(message, error.code) from None
    except TimeoutError as error:
        raise _Retryable(f"{url}: no answer within {limits.timeout_seconds:g} s ({error})") from None
    except urllib.error.URLError as error:
        raise _Retryable(f"{url}: cannot connect ({error.reason})") from None
    with response:
        status = response.status
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes:
            raise FetchFailed(
                f"{url} is {int(declared)} bytes, over the cap of {limits.max_bytes} (PROVOCAST_SYNC_MAX_BYTES)", status
            )
        body = _read_capped(response, url, limits, status)
        if declared is not None and declared.isdigit() and len(body) != int(declared):
            raise _Retryable(f"{url}: the body ended after {len(body)} of {declared} bytes (truncated)", status)
        return Fetched(
            url,
            status,
            body,
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
            response.headers.get("Content-Type", ""),
            attempt,
        )


def _read_capped(response: http.client.HTTPResponse, url: str, limits: FetchLimits, status: int) -> bytes:
    deadline = time.monotonic() + limits.timeout_seconds * 4  # a trickling server cannot hold the run for ever
    parts: list[bytes] = []
    size = 0
    try:
        while chunk := response.read1(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchFailed(
                    f"{url} sent more than the cap of {limits.max_bytes} bytes (PROVOCAST_SYNC_MAX_BYTES)", status
                )
            if time.monotonic() > deadline:
                raise _Retryable(f"{url}: the body took longer than {limits.timeout_seconds * 4:g} s", status)
            parts.append(chunk)
    except TimeoutError:
        raise _Retryable(f"{url}: the body stalled for {limits.timeout_seconds:g} s", status) from None
    except http.client.IncompleteRead as error:
        raise _Retryable(f"{url}: the body ended early ({error})", status) from None
    return b"".join(parts)
