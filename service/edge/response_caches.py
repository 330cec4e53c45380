"""Response caches of a loaded version: finished forecast bodies (`ResponseMemo`) and rendered charts
(`ChartCache`, with its bounded queue). Both are dropped with the version they belong to."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

# What the forecast memo may hold, whatever the bodies' sizes (a 366-day window's body is about 28 kB).
MEMO_MAX_BYTES = 64 * 2**20


class ResponseMemo:
    """Finished response bodies by request key (at most `size` of them and `max_bytes` in all), least recently used
    dropped first."""

    def __init__(self, size: int, max_bytes: int | None = None):
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> bytes:
        with self._lock:
            previous = self._items.get(key)
            self.bytes += len(body) - (len(previous) if previous is not None else 0)
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size or (self.max_bytes is not None and self.bytes > self.max_bytes):
                _, dropped = self._items.popitem(last=False)
                self.bytes -= len(dropped)
        return body

    def __len__(self) -> int:
        return len(self._items)


CHART_CACHE_SIZE = 64
CHART_QUEUE_SIZE = 4


class ChartQueueFull(Exception):
    """Too many charts are waiting to be drawn; the request is answered 503 with Retry-After."""

    def __init__(self, waiting: int, retry_after: int):
        super().__init__(f"{waiting} charts are being drawn; try again in {retry_after} s")
        self.retry_after = retry_after


class ChartCache:
    """Rendered charts of one loaded version, by request key; one drawing per key at a time, a bounded queue.

    At most `queue_size` different charts wait or are drawn at once; one more answers ChartQueueFull at once
    rather than waiting behind them. A request for a chart being drawn waits for that drawing (not counted).
    """

    def __init__(self, size: int = CHART_CACHE_SIZE, queue_size: int = CHART_QUEUE_SIZE):
        self._memo = ResponseMemo(size)
        self._drawing: dict[Hashable, asyncio.Lock] = {}
        self.queue_size = queue_size
        self.last_draw_seconds = 1.0

    @property
    def waiting(self) -> int:
        return len(self._drawing)

    async def get(self, key: Hashable, draw: Callable[[], Awaitable[bytes]]) -> tuple[bytes, bool]:
        """The chart and whether this call drew it; concurrent requests for one chart wait for one drawing."""
        png = self._memo.get(key)
        if png is not None:
            return png, False
        lock = self._drawing.get(key)
        if lock is None:
            if len(self._drawing) >= self.queue_size:
                retry_after = max(1, round(self.last_draw_seconds * len(self._drawing)))
                raise ChartQueueFull(len(self._drawing), retry_after)
            lock = self._drawing[key] = asyncio.Lock()
        try:
            async with lock:
                png = self._memo.get(key)
                if png is not None:
                    return png, False
                started = time.perf_counter()
                png = self._memo.put(key, await draw())
                self.last_draw_seconds = time.perf_counter() - started
                return png, True
        finally:
            # Whatever happened (drawn, failed, the client gone), the key leaves the queue; waiters hold the lock.
            if self._drawing.get(key) is lock and not lock.locked():
                del self._drawing[key]
