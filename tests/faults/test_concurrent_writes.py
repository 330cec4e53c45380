"""Concurrent writes through the HTTP API all succeed: none is lost to a lock or answered 503.

On SQLite, a write transaction that starts as a reader fails at once when
another writer commits first ("database is locked", whatever the busy
timeout); the API's writes take the write lock when they begin
(`forecasting.store.db.write_transaction`), so concurrent writers queue.
Before that fix most of these requests answered 503.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.faults.conftest import Served
from tests.service.conftest import auth

CLIENTS = 16
EVENTS_EACH = 8


def test_concurrent_event_writes_are_all_stored(served: Served) -> None:
    def write(client_number: int) -> list[tuple[int, str]]:
        answers = []
        with served.server.client() as client:
            for i in range(EVENTS_EACH):
                body = {
                    "id": f"concurrent-{client_number}-{i}",
                    "date": "2026-09-24",
                    "event_type": "artillery",
                    "description": "Concurrent write (test row).",
                    "source": "https://example.org/x",
                }
                response = client.post("/v1/events", json=body, headers=auth())
                answers.append((response.status_code, response.text[:200]))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for batch in pool.map(write, range(CLIENTS)) for a in batch]
    refused = [a for a in answers if a[0] != 201]
    assert not refused, f"{len(refused)} of {len(answers)} writes refused, e.g. {refused[:2]}"
    with served.server.client() as client:
        stored = client.get("/v1/events", params={"from": "2026-09-24", "to": "2026-09-24", "limit": 500}).json()
    assert stored["total"] == CLIENTS * EVENTS_EACH
