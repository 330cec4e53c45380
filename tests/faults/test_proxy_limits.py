"""The shipped nginx configuration (deploy/nginx.conf) in front of a real server: slow and greedy clients.

nginx runs from the compose file's own configuration, changed only where a test must: its upstream is the live
server's loopback port instead of the `api` service, it listens on a free port, and it keeps its files in the
test's directory. What the outside probe found open directly on uvicorn must now be closed by the proxy:

- a client that sends one header line every 4 s is cut off (client_header_timeout 10 s; it stayed open 20 s);
- a 200 kB header and 5,000 headers are refused (they were answered 200);
- a burst from one address meets 429s (limit_req), the server behind stays ready;
- an X-Forwarded-For the client sends does not become the address the service logs.

SQLite only: the store plays no part in what the proxy does.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from forecasting.settings import PROJECT_ROOT
from tests.faults.live_server import LiveServer, free_port, live_server
from tests.service.conftest import seeded_store

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CUT_OFF_SECONDS = 20  # what the probe saw a trickling client hold; the configuration allows 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, trained_artifact: Path) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("proxied")
    with seeded_store("sqlite", directory / "store", trained_artifact) as store:
        with live_server(store.url, directory / "logs", ready="/readyz", log_format="json") as live:
            yield live


@pytest.fixture(scope="module")
def proxy(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    directory = tmp_path_factory.mktemp("nginx")
    port = free_port()
    config = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    config = re.sub(r"^\s*resolver .*$", "", config, flags=re.MULTILINE)
    config = re.sub(
        r"set \$provocast_api http://api:\d+;", f"set $provocast_api http://127.0.0.1:{server.port};", config
    )
    config = re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", config)
    config = config.replace("worker_processes 1;", f"worker_processes 1;\ndaemon off;\npid {directory}/nginx.pid;")
    config = config.replace(
        "http {", f"http {{\n    access_log {directory}/access.log;\n    error_log {directory}/error.log;"
    )
    (directory / "nginx.conf").write_text(config, encoding="utf-8")
    process = subprocess.Popen(
        [NGINX, "-c", str(directory / "nginx.conf"), "-p", str(directory), "-e", str(directory / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (directory / "error.log").read_text()
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_client_trickling_its_headers_is_cut_off(proxy: str) -> None:
    host, port = proxy.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=CUT_OFF_SECONDS + 5) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: provocast\r\n")
        started = time.monotonic()
        closed_after = None
        for number in range(CUT_OFF_SECONDS // 4 + 2):
            time.sleep(4)
            try:
                connection.sendall(f"X-Slow-{number}: 1\r\n".encode())
                if connection.recv(4096, socket.MSG_DONTWAIT) == b"":
                    closed_after = time.monotonic() - started
                    break
            except BlockingIOError:
                continue
            except OSError:
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and closed_after < CUT_OFF_SECONDS, closed_after


@pytest.mark.parametrize(
    "headers",
    [{"X-Big": "a" * 200_000}, {f"X-Many-{i}": "value" for i in range(5000)}],
    ids=["a 200 kB header", "5,000 headers"],
)
def test_oversized_headers_are_refused(proxy: str, headers: dict[str, str]) -> None:
    answer = httpx.get(proxy + "/healthz", headers=headers, timeout=30)
    assert answer.status_code in (400, 431, 494), answer.status_code


def test_a_burst_from_one_address_meets_429_and_the_server_stays_ready(proxy: str, server: LiveServer) -> None:
    with httpx.Client(base_url=proxy, timeout=30) as client, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: client.get("/healthz").status_code, range(150)))
    assert 429 in statuses and 200 in statuses, statuses
    assert set(statuses) <= {200, 429}
    time.sleep(2)  # the burst allowance refills at 20 a second
    assert httpx.get(server.base_url + "/readyz", timeout=10).status_code == 200


def test_a_forwarded_for_the_client_sends_is_not_what_the_service_logs(proxy: str, server: LiveServer) -> None:
    time.sleep(1)
    answer = httpx.get(proxy + "/healthz", headers={"X-Forwarded-For": "203.0.113.66", "X-Request-ID": "spoof-1"})
    assert answer.status_code == 200
    (access,) = _access_lines(server, "spoof-1")
    assert access["client"] == "127.0.0.1"


def _access_lines(server: LiveServer, request_id: str) -> list[dict[str, object]]:
    """The access lines of one request; the log is written by a background thread, so it may lag the answer."""
    found: list[dict[str, object]] = []
    for _ in range(50):  # at most about 5 s
        lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
        found = [
            line for line in lines if line.get("request_id") == request_id and line.get("logger") == "provocast.access"
        ]
        if found:
            return found
        time.sleep(0.1)
    return found
