"""The dashboard at `/`: the API's numbers in plain words, checked in the page and in a real (headless) browser."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.screenshot import dump_dom, find_chromium, serve
from tests.service.conftest import Store, running_app, seeded_store

REQUIRE_BROWSER_ENV = "PROVOCAST_REQUIRE_BROWSER"


class SectionText(HTMLParser):
    """The visible text of each element with an id, by id (nested ids included in their parents)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str | None, str]] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "br", "meta", "link", "input"):
            return
        self.open.append((dict(attrs).get("id"), tag))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            _, opened = self.open.pop()
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        for element_id, _ in self.open:
            if element_id:
                self.text.setdefault(element_id, []).append(data)


def sections(html: str) -> dict[str, str]:
    parser = SectionText()
    parser.feed(html)
    return {key: " ".join(" ".join(parts).split()) for key, parts in parser.text.items()}


def expected_phrases(forecast: dict) -> list[str]:
    """How the page must show the API's numbers (rounded as a reader reads them)."""
    i80, i95 = forecast["intervals"]
    phrases = [
        f"{round(forecast['probability_any'] * 100)}%",
        f"({round(forecast['climatology_probability_any'] * 100)}%)",
        f"{forecast['expected_count']:.1f} test days expected",
        f"({i80['lower']}–{i80['upper']})",
        f"{i95['lower']}–{i95['upper']} in 95%",
        f"Forecast {forecast['horizon_days']} days before the window opens",
    ]
    effect = forecast["election_effect"]
    if effect["ratio"] is not None:
        phrases.append(f"×{effect['ratio']:.2f}")
        if effect["lower"] is not None:
            phrases.append(f"95% interval {effect['lower']:.2f}–{effect['upper']:.2f}")
    return phrases


def check_page_against_api(html: str, upcoming: dict, ledger: dict, version: str) -> None:
    text = sections(html)
    assert upcoming["items"], "no upcoming election to check"
    for item in upcoming["items"]:
        section = text[f"election-{item['election']['id']}"]
        if item["forecast"] is None:
            assert item["unavailable"] in section
            continue
        for phrase in expected_phrases(item["forecast"]):
            assert phrase in section, f"{phrase!r} is not in the section of {item['election']['id']}: {section}"
        assert " in " in section and "chance of at least one weapons test" in section  # the odds in words
    assert version in text["model"]
    for record in ledger["versions"]:
        assert record["summary"] in text["ledger"]
    for entry in ledger["items"]:
        assert entry["election_id"] in text["ledger"]


def test_the_page_shows_the_numbers_the_api_serves(client: TestClient, store: Store) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    upcoming, ledger = client.get("/v1/forecasts/upcoming").json(), client.get("/v1/ledger").json()
    check_page_against_api(page.text, upcoming, ledger, store.active.id)
    text = sections(page.text)
    latest = client.get("/v1/events", params={"weapons_test": "true", "limit": 1}).json()["items"][0]
    assert latest["date"] in text["events"] and latest["description"][:60] in text["events"]
    assert "Brier" in text["ledger"] and "0 is perfect" in text["ledger"]  # the score is explained where it is shown
    assert (
        "more accurate than simply using the long-run seasonal rate" in text["model"]
        or "less accurate" in text["model"]
    )
    for item in upcoming["items"]:
        assert f'src="/v1/elections/{item["election"]["id"]}/forecast.png"' in page.text
    assert client.get("/static/style.css").status_code == 200


def test_without_a_model_the_page_says_why(tmp_path: Path) -> None:
    with seeded_store("sqlite", tmp_path / "store", None) as empty, running_app(empty.url) as client:
        page = client.get("/")
    assert page.status_code == 503 and page.headers["retry-after"] == "10"
    assert "No forecasts yet" in page.text and "run `provocast retrain`" in page.text


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        reason = "Chromium is not installed (.ci/run installs Debian's chromium package)"
        if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
            pytest.fail(f"{REQUIRE_BROWSER_ENV}=1 but {reason}")
        pytest.skip(reason)
    return binary


def test_in_a_real_browser_the_page_shows_the_api_numbers(
    chromium: str, tmp_path: Path, trained_artifact: Path
) -> None:
    """uvicorn on a loopback port, headless Chromium loads `/`, its DOM holds what /v1/forecasts/upcoming says."""
    log = tmp_path / "uvicorn.log"
    with seeded_store("sqlite", tmp_path / "store", trained_artifact) as store:
        env = {
            "PROVOCAST_DATABASE_URL": store.url,
            "PROVOCAST_TRAIN_WHEN_EMPTY": "false",
            "PROVOCAST_LOG_FORMAT": "json",
        }
        with serve(env, log=log, wait=300) as base:
            upcoming = httpx.get(f"{base}/v1/forecasts/upcoming", timeout=60).json()
            ledger = httpx.get(f"{base}/v1/ledger", timeout=60).json()
            dom = dump_dom(f"{base}/")
        assert store.active is not None
        check_page_against_api(dom, upcoming, ledger, store.active.id)
    # The browser fetched and got every chart on the page.
    access = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    charts = {
        a["path"] for a in access if a.get("route") == "/v1/elections/{election_id}/forecast.png" and a["status"] == 200
    }
    wanted = {f"/v1/elections/{i['election']['id']}/forecast.png" for i in upcoming["items"] if i["forecast"]}
    assert wanted <= charts
    assert any(a.get("route") == "/v1/backtests/reliability.png" and a["status"] == 200 for a in access)


def test_the_page_shows_the_nowcasts_and_a_banner_only_when_the_history_is_stale(store: Store) -> None:
    import time_machine

    assert store.active is not None
    cutoff = store.active.data_cutoff
    for age, stale in ((10, False), (40, True)):
        with time_machine.travel(cutoff + timedelta(days=age), tick=False), running_app(store.url) as client:
            page = client.get("/")
            text = sections(page.text)
            for days in (30, 60, 90):
                nowcast = client.get("/v1/forecasts/next", params={"days": days}).json()
                phrase = f"Next {days} days {round(nowcast['probability_any'] * 100)}%"
                assert phrase in text["nowcast"], (phrase, text["nowcast"])
        assert ("stale" in text) == stale
        if stale:
            assert f"ends on {cutoff}" in text["stale"] and f"{age} days ago (more than 14)" in text["stale"]
