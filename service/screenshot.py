"""Headless Chromium against a running dashboard: `python -m service.screenshot OUT.png` (what `make screenshot` runs).

Starts `uvicorn service.main:app` on a free loopback port against the
configured store (PROVOCAST_DATABASE_URL), waits until it is ready, lets
Chromium render `/` and write a PNG, then stops the server. The browser test
(tests/service/test_dashboard.py) uses the same helpers to load the page.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
READY_WAIT_SECONDS = 600.0  # a store with no model version trains one first


class BrowserMissing(RuntimeError):
    pass


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium(arguments: list[str], url: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on `url` with the flags for a sandbox-less, offline, throwaway profile."""
    binary = find_chromium()
    if binary is None:
        raise BrowserMissing("no Chromium found (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="provocast-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium refuses its sandbox as root
            *arguments,
            url,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def dump_dom(url: str) -> str:
    """The page's DOM after Chromium has loaded and rendered it."""
    done = chromium(["--dump-dom", "--virtual-time-budget=10000"], url)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom failed with exit code {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def screenshot(url: str, out: Path, width: int = 1280, height: int = 2400) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    done = chromium(
        [f"--screenshot={out.resolve()}", f"--window-size={width},{height}", "--virtual-time-budget=15000"], url
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"chromium --screenshot failed with exit code {done.returncode}: {done.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
            status: int = answer.status
            return status == 200
    except OSError:
        return False


@contextmanager
def serve(
    env: dict[str, str] | None = None, log: Path | None = None, wait: float = READY_WAIT_SECONDS
) -> Iterator[str]:
    """`uvicorn service.main:app` on a free loopback port until ready; yields its base URL, then stops it."""
    port = free_port()
    output = open(log, "w") if log is not None else None  # closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL if output is None else output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while not _ready(base):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with code {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready within {wait:.0f} s")
            time.sleep(0.25)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if output is not None:
            output.close()


def warm_charts(base: str) -> None:
    """Fetch the page's charts once, so that they are drawn (and cached) before a browser asks for them."""
    with urllib.request.urlopen(f"{base}/", timeout=60) as page:
        html = page.read().decode("utf-8")
    for path in re.findall(r'src="(/[^"]+\.png)"', html):
        with urllib.request.urlopen(f"{base}{path}", timeout=120) as chart:
            chart.read()


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print("usage: python -m service.screenshot OUT.png", file=sys.stderr)
        return 2
    out = Path(arguments[0])
    try:
        with serve() as base:
            # Draw every chart once before the shot, so the page is complete when Chromium renders it.
            warm_charts(base)
            screenshot(f"{base}/", out)
    except (BrowserMissing, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
