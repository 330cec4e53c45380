"""`st run --checks all` with the token against the real server: the OpenAPI document states every rule.

Schemathesis's own command line, as an outside probe runs it, over every operation of the served document with
every check (schema-valid requests accepted, schema-violating ones refused, documented statuses, content types,
headers and bodies, 405 with a right `Allow` for undocumented methods, ...), the examples, coverage and fuzzing
phases, derandomised and bounded in examples and time. It carries the write token, so POST /v1/events and
DELETE /v1/events/{id} are fuzzed past the token check; a retrain it starts is a quick one (the live server's
training settings) and any other while it runs answers 409.

Rules no JSON Schema can state (a window after the served version's data cutoff and within its horizon, an end
on or after the start, event types that make up a group the version has fitted, an event dated up to tomorrow)
are answered 422 to schema-valid input on the operations listed in `SEMANTIC_422`, and only there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from forecasting.store import jobs
from tests.faults.conftest import Served
from tests.service.conftest import TOKEN, wait_for

EXAMPLES = 12
SECONDS = 150  # a bound on a busy 2-core machine, not a target
# Operations whose schema-valid input may break a rule only the served version or the calendar can check.
SEMANTIC_422 = {
    "/v1/forecasts": "POST",
    "/v1/elections/{election_id}/forecast": "GET",
    "/v1/elections/{election_id}/forecast.png": "GET",
    "/v1/forecasts/upcoming": "GET",
    "/v1/events": "POST",
    "/v1/models/retrain": "POST",
}
PROJECT = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
""" + "".join(
    f"""
[[operations]]
include-path = "{path}"
include-method = "{method}"
[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""
    for path, method in SEMANTIC_422.items()
)


def test_schemathesis_with_every_check_finds_nothing(served: Served, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(PROJECT, encoding="utf-8")
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{served.server.base_url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {TOKEN}",
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS * 2, cwd=tmp_path)
    finally:
        # A retrain the run started finishes before the store goes (it runs in a process group of its own).
        def settled() -> bool:
            with served.store.factory() as session:
                return jobs.in_flight_job(session) is None

        wait_for(settled, "the retrain jobs the run started to finish")
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout or "passed" in run.stdout
