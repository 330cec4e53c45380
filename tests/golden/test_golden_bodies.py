"""Golden bodies: what the API answers on the shipped seeds, byte for byte, before and after a refactor.

The session's model set (trained by the real `provocast retrain` on the
shipped seeds) is served by the real app. Each body below is compared with
its file in `bodies/`. The version id (a timestamp and a digest) is the only
run-specific text; it is replaced by `<version>` before the comparison. The
clock is set to GOLDEN_TODAY so that "upcoming" answers the same every day.

A change that alters forecasts on purpose regenerates the files with
`PROVOCAST_UPDATE_GOLDEN=1 pytest tests/golden` and says why in its commit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.service.conftest import running_app, seeded_store

BODIES = Path(__file__).parent / "bodies"
UPDATE_ENV = "PROVOCAST_UPDATE_GOLDEN"
GOLDEN_TODAY = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# name -> (method, path, JSON body or None)
REQUESTS: dict[str, tuple[str, str, dict[str, object] | None]] = {
    "election_kr_2028": ("GET", "/v1/elections/kr-legislative-2028-04-12/forecast", None),
    "election_us_2028_missiles": (
        "GET",
        "/v1/elections/us-presidential-2028-11-07/forecast?days_before=14&days_after=7&event_types=missiles",
        None,
    ),
    "election_us_2028_climatology": (
        "GET",
        "/v1/elections/us-presidential-2028-11-07/forecast?model=climatology",
        None,
    ),
    "upcoming": ("GET", "/v1/forecasts/upcoming", None),
    "nowcast_30": ("GET", "/v1/forecasts/next?days=30", None),
    "window": ("POST", "/v1/forecasts", {"start": "2027-03-01", "end": "2027-04-15"}),
    "window_nuclear": (
        "POST",
        "/v1/forecasts",
        {"start": "2027-09-01", "end": "2027-09-30", "event_types": ["nuclear"]},
    ),
    "backtests": ("GET", "/v1/backtests", None),
    "backtests_one_election": (
        "GET",
        "/v1/backtests?election_id=kr-legislative-2024-04-10&include_control=false",
        None,
    ),
}


@pytest.fixture(scope="module")
def golden_client(tmp_path_factory: pytest.TempPathFactory, trained_artifact: Path) -> Iterator[TestClient]:
    with time_machine.travel(GOLDEN_TODAY, tick=True):
        with seeded_store("sqlite", tmp_path_factory.mktemp("golden"), trained_artifact) as store:
            with running_app(store.url) as client:
                yield client


def normalised(body: bytes) -> str:
    """The body exactly as sent, with the version id masked."""
    text = body.decode("utf-8")
    version = _version_of(json.loads(body))
    return text.replace(version, "<version>") if version else text


def _version_of(data: object) -> str | None:
    if isinstance(data, dict):
        if isinstance(data.get("version"), str) and data["version"]:
            return str(data["version"])
        for key in ("forecast",):
            if isinstance(data.get(key), dict):
                return _version_of(data[key])
    return None


@pytest.mark.parametrize("name", list(REQUESTS))
def test_body_is_unchanged(golden_client: TestClient, name: str) -> None:
    method, path, payload = REQUESTS[name]
    response = golden_client.request(method, path, json=payload)
    assert response.status_code == 200, response.text
    text = normalised(response.content)
    golden = BODIES / f"{name}.json"
    if os.environ.get(UPDATE_ENV) == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden body {golden.name}; run with {UPDATE_ENV}=1 to write it"
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        at = next(
            (i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b), min(len(text), len(expected))
        )
        pytest.fail(
            f"the {name} body changed at character {at}: {text[at - 80 : at + 80]!r} != {expected[at - 80 : at + 80]!r}"
        )
