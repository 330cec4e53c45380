"""`make bench` (python -m benchmarks.run): every figure of docs/benchmarks.md, in one run.

1. A store of its own (var/bench/store.db, SQLite): migrated, seeded with the shipped seeds.
2. Retraining: the real `provocast retrain --promote always --force` on it, timed (the version it promotes is the
   one served below); then each component model fitted once in-process, timed. With --reuse-artifact the
   version trained by an earlier run (benchmarks/results/cache/) is installed instead and its retrain figures are
   reported as cached.
3. Forecast computation in-process: the version loaded and warmed, then `Forecaster.forecast` on random custom
   windows.
4. Cold start: the service started three times as `make run` starts it, each timed until /readyz is 200.
5. Serving: wrk (a separate process) against three endpoints of the service and against a bare FastAPI endpoint
   answering a constant body of the same size (benchmarks/bare_app.py, same uvicorn command), interleaved in the
   same run: throughput at 64 connections, latency at 8.
6. Memory (RSS) of the service after that load; the question load (every (group, model) pair and 1,000 distinct
   windows, /healthz timed meanwhile, RSS after); then a soak of mixed reads and writes with RSS sampled.
7. Workers: the election forecast GET at 64 connections with 1, 2 and 4 uvicorn workers.

Writes benchmarks/results/latest.json and latest.md and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import engine, load, servers
from benchmarks.report import markdown_tables, targets
from forecasting.lifecycle.training import history_hash
from forecasting.settings import PROJECT_ROOT
from forecasting.store import registry
from forecasting.store.db import create_session_factory, create_store_engine
from forecasting.store.repository import load_history

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = RESULTS / "cache"
WORK = PROJECT_ROOT / "var" / "bench"
SERVICE_PORT, BARE_PORT = 18731, 18732
COLD_STARTS = 3
WINDOW_BODIES = 300
TRAINING_OVERRIDES = ("PROVOCAST_TRAINING_MODELS", "PROVOCAST_TRAINING_GROUPS", "PROVOCAST_BACKTEST_SINCE")


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def provocast(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(servers.VENV_BIN / "provocast"), *args], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"provocast {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


# --- the store and the version served -------------------------------------------------------------------


def fresh_store(env: dict[str, str]) -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    provocast("db", "upgrade", env=env)
    provocast("seed", env=env)


def retrain_or_reuse(env: dict[str, str], factory, reuse: bool) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with factory() as session:
        history = load_history(session)
    cached = _cached_retrain(history) if reuse else None
    if cached is not None:
        say(f"reusing the version trained on {cached['measured_at']} (same data hash); retrain figures are cached")
        with factory.begin() as session:
            version = registry.save_artifact(session, (CACHE / "artifact.json").read_text(encoding="utf-8"))
            registry.promote(session, version.id)
        return {**cached, "cached": True}

    say("retraining (provocast retrain --promote always --force): every model, every group, with backtests")
    started = time.perf_counter()
    done = provocast("retrain", "--promote", "always", "--force", env=env)
    wall = time.perf_counter() - started
    with factory() as session:
        version = registry.active_version(session, with_artifact=True)
    assert version is not None and version.artifact is not None
    timings = version.metrics.get("timings", {})
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cached": False,
        "wall_seconds": wall,
        "backtest_seconds": timings.get("backtest_seconds"),
        "fit_seconds_by_group": {
            k[4:-8]: v for k, v in timings.items() if k.startswith("fit_") and k.endswith("_seconds")
        },
        "artifact_mb": version.artifact_bytes / 1e6,
        "default_model": version.default_model,
        "data_hash": version.data_hash,
        "output_tail": done.stdout.strip().splitlines()[-3:],
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "artifact.json").write_text(version.artifact, encoding="utf-8")
    (CACHE / "retrain.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def _cached_retrain(history) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    try:
        cached = json.loads((CACHE / "retrain.json").read_text(encoding="utf-8"))
        artifact = json.loads((CACHE / "artifact.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cutoff = datetime.fromisoformat(artifact["cutoff"]).date()
    return cached if history_hash(history, cutoff) == artifact["data_hash"] == cached.get("data_hash") else None


# --- serving -------------------------------------------------------------------------------------------


def window_bodies(cutoff, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Custom windows like an election's (61 days), opening on successive days after the cutoff."""
    bodies = []
    for i in range(WINDOW_BODIES):
        start = cutoff + timedelta(days=30 + i)
        bodies.append(json.dumps({"start": start.isoformat(), "end": (start + timedelta(days=60)).isoformat()}))
    path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
    return bodies


def serving(service: servers.Server, bare: servers.Server, cutoff, seconds: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    status, upcoming = service.get("/v1/forecasts/upcoming")
    assert status == 200, upcoming[:300]
    forecastable = [item["election"]["id"] for item in json.loads(upcoming)["items"] if item["forecast"]]
    election = forecastable[0]
    bodies_file = WORK / "forecast-bodies.txt"
    bodies = window_bodies(cutoff, bodies_file)
    sizes = [
        len(servers.request(service.port, "POST", "/v1/forecasts", b.encode(), {"Content-Type": "application/json"})[1])
        for b in bodies[:20]
    ]
    endpoints = [
        {
            "name": "GET /v1/elections/{id}/forecast",
            "path": f"/v1/elections/{election}/forecast",
            "example": election,
            "bytes": len(service.get(f"/v1/elections/{election}/forecast")[1]),
            "bodies": None,
        },
        {
            "name": "GET /v1/forecasts/upcoming",
            "path": "/v1/forecasts/upcoming",
            "bytes": len(upcoming),
            "bodies": None,
        },
        {
            "name": "POST /v1/forecasts",
            "path": "/v1/forecasts",
            "bytes": int(statistics.median(sizes)),
            "bodies": str(bodies_file),
            "example": f"{WINDOW_BODIES} windows of 61 days, round robin",
        },
    ]
    results = []
    for endpoint in endpoints:
        env = {"BENCH_BODIES": endpoint["bodies"] or ""}
        targets_ = {
            "service": service.url(endpoint["path"]),
            "bare": bare.url(f"/bare/{endpoint['bytes']}"),
        }
        # A short warm-up of each (first answers of the POST windows are computed, then memoised).
        for url in targets_.values():
            servers.run_wrk(url, 8, 1, "measure.lua", env)
        row: dict[str, Any] = {k: v for k, v in endpoint.items() if k != "bodies"}
        for connections, kind in ((64, "throughput"), (8, "latency")):
            for who, url in targets_.items():
                say(f"{endpoint['name']}: {who}, {connections} connections, {seconds} s")
                row[f"{who}_{kind}"] = servers.run_wrk(url, connections, seconds, "measure.lua", env)
        row["throughput_ratio"] = (
            row["service_throughput"]["requests_per_second"] / row["bare_throughput"]["requests_per_second"]
        )
        row["p99_ratio"] = row["service_latency"]["latency_us"]["p99"] / row["bare_latency"]["latency_us"]["p99"]
        results.append(row)
    return {"endpoints": results, "elections": forecastable[:6]}


def soak(service: servers.Server, elections: list[str], token: str, seconds: int, factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    run_id = secrets.token_hex(3)
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    began = time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - began, service.rss_mb()))
            stop.wait(5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    env = {
        "BENCH_TOKEN": token,
        "BENCH_RUN": run_id,
        "BENCH_ELECTIONS": ",".join(elections),
        "BENCH_BODIES": str(WORK / "forecast-bodies.txt"),
    }
    result = servers.run_wrk(service.url("/"), 32, seconds, "soak.lua", env)
    stop.set()
    sampler.join()
    samples.append((time.perf_counter() - began, service.rss_mb()))

    per_second = sorted((int(k), v) for k, v in result.pop("per_second").items())
    whole = [v for _, v in per_second[1:-1]]  # the first and last seconds are partial
    first, last = sum(whole[:10]) / 10, sum(whole[-10:]) / 10
    with factory() as session:
        from sqlalchemy import func, select

        from forecasting.store.tables import EventRow

        stored = session.scalar(select(func.count()).select_from(EventRow).where(EventRow.id.like(f"soak-{run_id}-%")))
    statuses = {int(k): v for k, v in result["by_status"].items()}
    third = [rss for at, rss in samples if at >= seconds / 3]
    return {
        **result,
        "connections": 32,
        "seconds": seconds,
        "first_10s_rps": first,
        "last_10s_rps": last,
        "steady_ratio": last / first if first else None,
        "per_second": [v for _, v in per_second],
        "rss_mb": [[round(at, 1), round(rss, 1)] for at, rss in samples],
        "rss_growth_after_first_third_mb": (third[-1] - third[0]) if len(third) > 1 else 0.0,
        "events_written": statuses.get(201, 0),
        "events_stored": stored,
        "by_status": statuses,
    }


# --- the run -------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg()[0],
        "commit": commit.stdout.strip() or None,
        "wrk": " ".join((wrk.stdout or wrk.stderr).split()[:2]) or None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reuse-artifact",
        action="store_true",
        help="install the version trained by an earlier run instead of retraining (same data only)",
    )
    parser.add_argument("--seconds", type=int, default=6, help="length of each wrk run (default 6)")
    parser.add_argument("--soak-seconds", type=int, default=60)
    parser.add_argument("--windows", type=int, default=1000, help="distinct custom windows of the question load")
    parser.add_argument(
        "--no-workers", dest="workers", action="store_false", help="skip the 1, 2 and 4 worker throughput runs"
    )
    args = parser.parse_args(argv)

    servers.ensure_wrk()
    servers.compile_bytecode()
    started = time.perf_counter()
    token = secrets.token_urlsafe(32)  # the service refuses tokens under 24 characters
    env = {k: v for k, v in os.environ.items() if k not in TRAINING_OVERRIDES}
    env.update(
        PROVOCAST_DATABASE_URL=f"sqlite:///{WORK / 'store.db'}",
        PROVOCAST_API_TOKEN=token,
        PROVOCAST_TRAIN_WHEN_EMPTY="false",
    )
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}

    say(f"store: {WORK / 'store.db'} (migrate, seed)")
    fresh_store(env)
    store = create_store_engine(env["PROVOCAST_DATABASE_URL"])
    factory = create_session_factory(store)
    try:
        results["retrain"] = retrain_or_reuse(env, factory, args.reuse_artifact)
        with factory() as session:
            version = registry.active_version(session, with_artifact=True)
            history = load_history(session)
        assert version is not None
        say("fitting each model once (weapons group)")
        results["retrain"]["fit_seconds_by_model"] = engine.fit_times(history, version.data_cutoff)
        say("forecast computation in-process")
        results["forecast_compute"] = engine.forecast_times(version)
        del history

        command = servers.serve_command("service.main:app", SERVICE_PORT)
        results["serve_command"] = " ".join(command).replace(str(servers.VENV_BIN) + "/", "")
        cold = []
        service = None
        for attempt in range(COLD_STARTS):
            if service is not None:
                service.stop()
            service, seconds = servers.start("service", "service.main:app", SERVICE_PORT, env, WORK, "/readyz")
            cold.append({"seconds": seconds, "rss_mb_when_ready": service.rss_mb()})
            say(f"cold start {attempt + 1}: ready in {seconds:.2f} s, RSS {cold[-1]['rss_mb_when_ready']:.0f} MB")
        assert service is not None
        results["cold_start"] = {"runs": cold, "median_seconds": statistics.median(c["seconds"] for c in cold)}
        bare, _ = servers.start("bare", "benchmarks.bare_app:app", BARE_PORT, env, WORK, "/bare/16")
        try:
            results["serving"] = serving(service, bare, version.data_cutoff, args.seconds)
            results["memory"] = {
                "service_rss_mb_after_load": service.rss_mb(),
                "service_peak_rss_mb": service.peak_rss_mb(),
                "bare_rss_mb": bare.rss_mb(),
                "workers": servers.workers_of(command),
            }
            say(f"question load: every (group, model) pair and {args.windows} distinct windows, /healthz timed")
            results["question_load"] = load.question_load(
                service,
                version.data_cutoff,
                results["serving"]["elections"][0],
                load.servable_pairs(version.artifact or "{}"),
                args.windows,
            )
            say(f"soak: {args.soak_seconds} s of mixed reads and writes")
            results["soak"] = soak(service, results["serving"]["elections"], token, args.soak_seconds, factory)
            results["memory"]["service_rss_mb_after_soak"] = service.rss_mb()
        finally:
            bare.stop()
            service.stop()
        if args.workers:
            say("throughput with 1, 2 and 4 uvicorn workers")
            path = f"/v1/elections/{results['serving']['elections'][0]}/forecast"
            results["workers"] = load.worker_scaling(env, WORK, SERVICE_PORT, path, args.seconds)
    finally:
        store.dispose()
    results["seconds"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    results["targets"] = targets(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    tables = markdown_tables(results)
    (RESULTS / "latest.md").write_text(tables, encoding="utf-8")
    print()
    print(tables)
    say(f"done in {results['seconds']:.0f} s; results in {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
