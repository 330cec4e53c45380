"""`provocast events sync`, `provocast coverage ...` and `events import --complete-through` from the shell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from tests.fixtures import FIXTURES
from tests.fixtures.http_server import FixtureServer, Reply, fixture_server

runner = CliRunner()
SLICE = FIXTURES / "sync" / "csis-processed-2025-2026.csv"


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def empty_env(store_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROVOCAST_SYNC_RETRIES", "0")
    assert invoke("db", "upgrade").exit_code == 0
    return store_env


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with fixture_server() as running:
        yield running


def test_sync_prints_what_it_did_and_the_history_lists_every_run(empty_env: str, server: FixtureServer) -> None:
    server.serve(Reply(body=SLICE.read_bytes(), etag='"x"'))
    first = invoke("events", "sync", "--url", server.url)
    assert first.exit_code == 0, first.output
    assert "41 CSIS rows -> 41 events" in first.stdout
    assert "new 41, changed 0, unchanged 0, removed 0; sync coverage through 2026-08-20" in first.stdout
    assert "history complete through 2026-08-20" in first.stdout
    second = invoke("events", "sync", "--url", server.url)
    assert second.exit_code == 0 and "not modified since the last sync (HTTP 304)" in second.stdout

    server.serve(Reply(body=b"<html>oops</html>", content_type="text/html"))
    refused = invoke("events", "sync", "--url", server.url)
    assert refused.exit_code == 2 and "the server sent an HTML page" in refused.stderr
    server.serve(Reply(status=404, body=b"gone"))
    failed = invoke("events", "sync", "--url", server.url)
    assert failed.exit_code == 1 and "HTTP 404" in failed.stderr and "Traceback" not in failed.output

    history = invoke("events", "sync", "--history")
    lines = history.stdout.splitlines()
    assert [line.split()[4].rstrip(":") for line in lines] == ["failed", "refused", "not_modified", "changed"]
    assert "new 41" in lines[-1] and "HTTP 404" in lines[0]


def test_sync_options_are_checked(empty_env: str, tmp_path: Path) -> None:
    both = invoke("events", "sync", "--url", "http://127.0.0.1:9/x.csv", "--file", str(SLICE))
    assert both.exit_code == 2 and "give --url or --file, not both" in both.stderr
    ftp = invoke("events", "sync", "--url", "ftp://example.org/x.csv")
    assert ftp.exit_code == 2 and "is not an http(s) URL" in ftp.stderr
    future = invoke("events", "sync", "--file", str(SLICE), "--complete-through", "2999-01-01")
    assert future.exit_code == 2 and "complete_through" in future.stderr
    dry = invoke("events", "sync", "--file", str(SLICE), "--dry-run")
    assert (
        dry.exit_code == 0
        and "dry run: would have synced " in dry.stdout
        and ": new 41, changed 0" in dry.stdout
        and "nothing written" in dry.stdout
    )
    assert invoke("events", "sync", "--history").stdout.startswith("no sync runs yet")


def test_coverage_show_and_set(empty_env: str) -> None:
    assert "no coverage recorded" in invoke("coverage", "show").stdout
    assert invoke("seed").exit_code == 0
    shown = invoke("coverage", "show")
    assert (
        shown.stdout.startswith("history complete through 2024-05-28") and "seed     through 2024-05-28" in shown.stdout
    )
    moved = invoke("coverage", "set", "--through", "2025-01-31", "--note", "checked by hand")
    assert moved.exit_code == 0
    assert moved.stdout == "curator coverage through 2025-01-31; history complete through 2025-01-31\n"
    assert "curator  through 2025-01-31  (checked by hand;" in invoke("coverage", "show").stdout
    future = invoke("coverage", "set", "--through", "2999-01-01")
    assert future.exit_code == 2 and "field 'through'" in future.stderr


def test_an_import_moves_coverage_only_when_it_says_it_is_complete(empty_env: str, tmp_path: Path) -> None:
    assert invoke("seed").exit_code == 0
    exported = tmp_path / "events.csv"
    assert invoke("events", "export", "--out", str(exported)).exit_code == 0
    plain = invoke("events", "import", str(exported))
    assert plain.exit_code == 0 and "import coverage" not in plain.stdout
    assert invoke("coverage", "show").stdout.startswith("history complete through 2024-05-28")
    complete = invoke("events", "import", str(exported), "--complete-through", "2024-12-31")
    assert complete.exit_code == 0 and "import coverage through 2024-12-31" in complete.stdout
    assert "import   through 2024-12-31" in invoke("coverage", "show").stdout
