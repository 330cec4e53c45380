"""Anonymous questions cannot make a worker hold more memory: every (group, model) pair and thousands of windows.

Before the answers were stored with the version, each (group, model) pair was
simulated the first time anyone asked for it and kept (tens of MB each): a few
dozen anonymous requests took a worker from 0.6 GB to 2.4 GB. Now a worker
holds the stored answers of its version, the response memo and the fast
path's bytes, all bounded. This test asks for everything a client can ask
(every pair, by election and by custom window, then thousands of distinct
windows) from a real uvicorn process and reads its resident set size.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

from forecasting.serving.model_set import loads
from tests.faults.conftest import Served

# The bound `make bench` reports against, with the memo full of window bodies: RSS_LIMIT_MB.
RSS_LIMIT_MB = 400
DISTINCT_WINDOWS = 3000
MAX_WINDOW_DAYS = 366


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


def _decoded_answers_mb(trained_artifact: Path) -> float:
    """What the version's stored answers hold once every (group, model) is decoded (each is, when first asked)."""
    answers = loads(trained_artifact.read_text(encoding="utf-8")).answers
    assert answers is not None
    return sum(a.nbytes for models in answers.values() for a in models.values()) / 2**20


def _servable_pairs(trained_artifact: Path) -> dict[str, list[str]]:
    data = json.loads(trained_artifact.read_text(encoding="utf-8"))
    return {group: sorted(models) for group, models in data["models"].items()}


def test_every_pair_and_thousands_of_windows_keep_the_worker_under_its_memory_bound(
    served: Served, trained_artifact: Path
) -> None:
    server = served.server
    pid = server.process.pid
    pairs = _servable_pairs(trained_artifact)
    assert sum(len(models) for models in pairs.values()) >= 20, pairs
    with server.client() as client:
        upcoming = client.get("/v1/forecasts/upcoming").json()
        cutoff = date.fromisoformat(upcoming["data_cutoff"])
        first_day, last_day = cutoff + timedelta(days=1), cutoff + timedelta(days=1100)
        election = next(i["election"]["id"] for i in upcoming["items"] if i["forecast"])
        at_start = _rss_mb(pid)

        for group, models in pairs.items():
            for model in models:
                answer = client.get(f"/v1/elections/{election}/forecast", params={"event_types": group, "model": model})
                assert answer.status_code == 200, answer.text
                window = {"start": str(first_day + timedelta(days=200)), "end": str(first_day + timedelta(days=260))}
                answer = client.post("/v1/forecasts", json={**window, "event_types": [group], "model": model})
                assert answer.status_code == 200, answer.text
        after_pairs = _rss_mb(pid)

        rng = random.Random(14)
        flat = [(group, model) for group, models in pairs.items() for model in models]
        seen: set[tuple[str, str, str, str]] = set()
        while len(seen) < DISTINCT_WINDOWS:
            start = first_day + timedelta(days=rng.randrange((last_day - first_day).days))
            end = min(start + timedelta(days=rng.randrange(MAX_WINDOW_DAYS)), last_day)
            group, model = rng.choice(flat)
            key = (str(start), str(end), group, model)
            if key in seen:
                continue
            seen.add(key)
            body = {"start": key[0], "end": key[1], "event_types": [group], "model": model}
            answer = client.post("/v1/forecasts", json=body)
            assert answer.status_code == 200, answer.text
        assert client.get("/healthz").status_code == 200
        at_end = _rss_mb(pid)

    decoded = _decoded_answers_mb(trained_artifact)
    report = (
        f"RSS {at_start:.0f} MB at start, {after_pairs:.0f} MB after every pair (their stored answers decode to "
        f"{decoded:.0f} MB), {at_end:.0f} MB after {DISTINCT_WINDOWS} more windows"
    )
    print(report)
    assert at_end < RSS_LIMIT_MB, report
    # Nothing is simulated per question: asking every pair adds its stored answers, decoded once, and no more.
    assert after_pairs - at_start < decoded + 50, report
