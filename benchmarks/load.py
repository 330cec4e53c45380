"""The question load and the worker count: two measures of `make bench` beside wrk's.

- `question_load`: every servable (group, model) pair (by election and by a
  custom window), then distinct custom windows spread over every pair, asked by
  a few client threads while another thread times `/healthz` every 20 ms; then
  the service's RSS. Nothing a client asks may make a worker hold more.
- `worker_scaling`: the election forecast GET under wrk at 64 connections with
  1, 2 and 4 uvicorn workers, each started the way `make run` starts the
  service plus `--workers N`.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks import servers

CLIENTS = 4
HEALTH_EVERY_SECONDS = 0.02
MAX_WINDOW_DAYS = 366
HORIZON_DAYS = 1100


def servable_pairs(artifact: str) -> list[tuple[str, str]]:
    models = json.loads(artifact)["models"]
    return [(group, name) for group, named in models.items() for name in sorted(named)]


def question_load(
    service: servers.Server, cutoff: date, election: str, pairs: list[tuple[str, str]], windows: int
) -> dict[str, Any]:
    asks: list[tuple[str, str, bytes | None]] = []
    for group, model in pairs:
        asks.append(("GET", f"/v1/elections/{election}/forecast?event_types={group}&model={model}", None))
    rng = random.Random(14)
    seen: set[str] = set()
    while len(seen) < windows:
        start = cutoff + timedelta(days=1 + rng.randrange(HORIZON_DAYS))
        end = min(start + timedelta(days=rng.randrange(MAX_WINDOW_DAYS)), cutoff + timedelta(days=HORIZON_DAYS))
        group, model = pairs[len(seen) % len(pairs)]
        body = json.dumps({"start": str(start), "end": str(end), "event_types": [group], "model": model})
        if body not in seen:
            seen.add(body)
            asks.append(("POST", "/v1/forecasts", body.encode()))
    rss_before = service.rss_mb()
    statuses: dict[int, int] = {}
    health_ms: list[float] = []
    done = threading.Event()
    lock = threading.Lock()

    def ask(share: list[tuple[str, str, bytes | None]]) -> None:
        for method, path, body in share:
            status, _ = servers.request(service.port, method, path, body, {"Content-Type": "application/json"})
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    def health() -> None:
        while not done.is_set():
            started = time.perf_counter()
            status, _ = service.get("/healthz")
            health_ms.append((time.perf_counter() - started) * 1000 if status == 200 else float("inf"))
            done.wait(HEALTH_EVERY_SECONDS)

    began = time.perf_counter()
    watcher = threading.Thread(target=health)
    watcher.start()
    clients = [threading.Thread(target=ask, args=(asks[i::CLIENTS],)) for i in range(CLIENTS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    done.set()
    watcher.join()
    ordered = sorted(health_ms)
    return {
        "pairs": len(pairs),
        "windows": windows,
        "requests": len(asks),
        "seconds": time.perf_counter() - began,
        "by_status": statuses,
        "rss_mb_before": rss_before,
        "rss_mb_after": service.rss_mb(),
        "healthz_checks": len(ordered),
        "healthz_p50_ms": statistics.median(ordered),
        "healthz_p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def worker_scaling(
    env: dict[str, str], log_dir: Path, port: int, path: str, seconds: int, counts: tuple[int, ...] = (1, 2, 4)
) -> list[dict[str, Any]]:
    rows = []
    for workers in counts:
        service, ready = servers.start(
            f"service-{workers}w", "service.main:app", port, env, log_dir, "/readyz", extra=("--workers", str(workers))
        )
        try:
            # Every worker must have loaded the version: ask until each has answered a few times.
            servers.run_wrk(service.url(path), 8, 2, "measure.lua")
            result = servers.run_wrk(service.url(path), 64, seconds, "measure.lua")
            rows.append(
                {
                    "workers": workers,
                    "ready_seconds": ready,
                    "requests_per_second": result["requests_per_second"],
                    "p99_ms": result["latency_us"]["p99"] / 1000,
                    "failed": result["failed"],
                    "rss_mb": service.rss_mb(),
                }
            )
        finally:
            service.stop()
    return rows
