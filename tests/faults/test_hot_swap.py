"""A burst of concurrent forecast requests while a retrain runs and its version is promoted and swapped in.

Every response must be a 200 whose body is, byte for byte, the answer of one
whole version: the old one (before the swap) or the new one (after it), never
an error and never a mixture. The retrain is the real job process started
through the API (quick settings: climatology on the weapons group).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from tests.faults.live_server import live_server
from tests.service.conftest import auth, seeded_store, wait_for

CLIENTS = 8
MAX_REQUESTS = 40_000  # bounds the burst whatever the machine's speed
TAIL_SECONDS = 1.0  # the burst goes on this long after the new version is served


def test_forecasts_during_a_retrain_and_hot_swap_each_come_from_one_whole_version(
    backend: str, tmp_path: Path, trained_artifact: Path
) -> None:
    with seeded_store(backend, tmp_path / "store", trained_artifact) as store:
        assert store.active is not None
        old = store.active.id
        with live_server(store.url, tmp_path / "logs", ready="/readyz") as server, server.client() as client:
            upcoming = client.get("/v1/forecasts/upcoming").json()
            elections = [i["election"]["id"] for i in upcoming["items"] if i["forecast"]][:3]
            start = store.active.data_cutoff + timedelta(days=45)
            window = {"start": start.isoformat(), "end": (start + timedelta(days=60)).isoformat()}
            asks = [("GET", f"/v1/elections/{e}/forecast", None) for e in elections]
            asks += [("GET", "/v1/forecasts/upcoming", None), ("POST", "/v1/forecasts", window)]
            before = {i: _ask(client, ask).content for i, ask in enumerate(asks)}

            answers: list[tuple[int, int, bytes]] = []
            stop = threading.Event()

            def burst(offset: int) -> None:
                with server.client() as own:
                    n = offset
                    while not stop.is_set() and len(answers) < MAX_REQUESTS:
                        which = n % len(asks)
                        response = _ask(own, asks[which])
                        answers.append((which, response.status_code, response.content))
                        n += 1

            workers = [threading.Thread(target=burst, args=(i,)) for i in range(CLIENTS)]
            for worker in workers:
                worker.start()
            try:
                job = client.post("/v1/models/retrain", json={"promote": "always"}, headers=auth())
                assert job.status_code == 202, job.text
                finished = wait_for(
                    lambda: (
                        (body := client.get(f"/v1/jobs/{job.json()['id']}").json())["status"] in ("succeeded", "failed")
                        and body
                    ),
                    "the retrain job",
                    seconds=600,
                )
                assert finished["status"] == "succeeded" and finished["promoted"], finished
                new = finished["version_id"]
                wait_for(lambda: client.get("/readyz").json()["model"]["version"] == new, "the swap", seconds=120)
                time.sleep(TAIL_SECONDS)
            finally:
                stop.set()
                for worker in workers:
                    worker.join()
            after = {i: _ask(client, ask).content for i, ask in enumerate(asks)}

    assert new != old and all(before[i] != after[i] for i in before)
    failed = [(asks[which], status, body[:200]) for which, status, body in answers if status != 200]
    assert not failed, failed[:5]
    mixed = [asks[which] for which, _, body in answers if body not in (before[which], after[which])]
    assert not mixed, f"{len(mixed)} answers matched neither version, e.g. {mixed[:3]}"
    from_old = sum(body == before[which] for which, _, body in answers)
    from_new = sum(body == after[which] for which, _, body in answers)
    print(f"{len(answers)} answers during the retrain and swap: {from_old} from {old}, {from_new} from {new}")
    assert from_old > 0 and from_new > 0, "the burst did not straddle the swap"


def _ask(client: httpx.Client, ask: tuple[str, str, dict | None]) -> httpx.Response:
    method, path, body = ask
    return client.request(method, path, json=body)
