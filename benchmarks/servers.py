"""Processes under test: uvicorn started as the README's `make run` starts it, and wrk as the load generator."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from forecasting.settings import PROJECT_ROOT

MAKEFILE = PROJECT_ROOT / "Makefile"
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
WRK_SCRIPTS = Path(__file__).resolve().parent / "wrk"
LOOPBACK = "127.0.0.1"


def compile_bytecode() -> None:
    """What `make run` does before it serves: write the project's bytecode (see the Makefile's `run` target)."""
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "compileall", "-q", "forecasting", "service"], cwd=PROJECT_ROOT, check=True
    )


def serve_command(app: str, port: int) -> list[str]:
    """The uvicorn line of the Makefile's `run` target (what `make run` serves), for `app` on a loopback port.

    Read from the Makefile so that the benchmark follows any change to how the
    service is run; only the app, the bind address (loopback: the load never
    leaves this machine) and the port are replaced.
    """
    recipe = re.search(r"^run:.*?\n((?:\t.*\n?)+)", MAKEFILE.read_text(), re.MULTILINE)
    lines = [line.strip() for line in (recipe.group(1).splitlines() if recipe else []) if "uvicorn" in line]
    if not lines:
        raise RuntimeError(f"no uvicorn line in the `run` target of {MAKEFILE}")
    words = shlex.split(lines[-1].replace("$(BIN)/", f"{VENV_BIN}/"))
    command: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--host", "--port"):
            skip = True
            continue
        command.append(app if word == "service.main:app" else word)
    return command + ["--host", LOOPBACK, "--port", str(port)]


def workers_of(command: list[str]) -> int:
    return int(command[command.index("--workers") + 1]) if "--workers" in command else 1


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pids(self) -> list[int]:
        """The uvicorn process and its worker processes, if any."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        extra = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *extra]

    def rss_mb(self) -> float:
        """Resident memory of the server (every process of it), in MB."""
        return sum(_status_kb(pid, "VmRSS") for pid in self.pids) / 1024

    def peak_rss_mb(self) -> float:
        return sum(_status_kb(pid, "VmHWM") for pid in self.pids) / 1024

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        return request(self.port, "GET", path, timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def start(
    name: str,
    app: str,
    port: int,
    env: dict[str, str],
    log_dir: Path,
    ready_path: str,
    timeout: float = 120,
    extra: tuple[str, ...] = (),
) -> tuple[Server, float]:
    """Start a server (`extra`: more uvicorn options) and wait until `ready_path` answers 200; returns it and the seconds that took."""
    log = log_dir / f"{name}.log"
    command = serve_command(app, port) + list(extra)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    server = Server(name, process, port, log)
    deadline = started + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode}; see {log}")
        try:
            status, _ = server.get(ready_path, timeout=2)
            if status == 200:
                return server, time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() > deadline:
            server.stop()
            raise RuntimeError(f"{name} was not ready within {timeout:.0f} s; see {log}")
        time.sleep(0.01)


def ensure_wrk() -> str:
    found = subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True, text=True)
    if found.returncode != 0:
        raise RuntimeError("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    return found.stdout.strip()


def run_wrk(
    url: str, connections: int, seconds: int, script: str, env: dict[str, str] | None = None, threads: int = 2
) -> dict:
    """One wrk run; the Lua script's `done` prints one BENCH_JSON line, returned as a dict with requests/s added."""
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPTS / script),
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=seconds + 60
    )
    marker = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not marker:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    result = json.loads(marker[-1].removeprefix("BENCH_JSON "))
    result["requests_per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    result["failed"] = sum(result["errors"].values())
    result["connections"] = connections
    result["seconds"] = seconds
    return result
