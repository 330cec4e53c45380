"""Reading counts of fired weapons out of descriptions."""

from __future__ import annotations

import pytest

from forecasting.ingest.csis import count_phrases, read_count, read_csis_csv
from forecasting.ingest.curation import DEFAULT_CSIS_PATH
from tests.forecasting.ingest.csis import needs_reference


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("North Korea fired two short-range ballistic missiles toward the sea.", "ballistic_missile", 2),
        ("North Korea fired around 10 short-range ballistic missiles on August 20.", "ballistic_missile", 10),
        ("North Korea launched several short-range ballistic missiles from Junghwa.", "ballistic_missile", None),
        (
            "North Korea fired multiple ballistic missiles; they flew 900 kilometers (560 miles).",
            "ballistic_missile",
            None,
        ),
        ("It launched 5 Scud missiles and 2 Nodong missiles from Gitdaeryeong.", "ballistic_missile", 7),
        ("It fired a Hwasong-17 at 7:40am. North Korea also fired 2 SRBMs from Kaechon.", "ballistic_missile", 3),
        ("It fired three short-range missiles. Two missiles travelled 250 km and one blew up.", "ballistic_missile", 3),
        ("It fired 2 missiles at 8:50 a.m. and 8:54 a.m.; the two missiles flew 380 km.", "ballistic_missile", 2),
        ("Kim handed over 250 new tactical ballistic missile launchers to units.", "ballistic_missile", None),
        ("The drill involved two artillery companies and 12 rocket launchers.", "ballistic_missile", None),
        ("It fired 240 mm-caliber controllable multiple rocket launcher shells.", "artillery", None),
        ("It fired the new, solid-fuel Hwasong-18 ICBM on the 11th anniversary.", "ballistic_missile", None),
        ("It fired two rockets, presumed KN-09 projectiles, 180 km.", "ballistic_missile", 2),
        ("It fired 130 rounds of artillery shells from the west coast.", "artillery", 130),
        ("It test-fired a new type of long-range cruise missile.", "cruise_missile", None),
        ("It fired two strategic cruise missiles and three anti-warship missiles.", "cruise_missile", 5),
        ("It fired 3 surface-to-ship missiles and a surface-to-air missile.", "other_weapon", 1),
        ("Japan noted that at least one missile fell into the sea before 3:11 p.m.", "ballistic_missile", None),
        ("North Korea launched an estimated 10 short‑range ballistic missiles.", "ballistic_missile", 10),
        ("The launch consisted of five missiles fired in two rounds.", "ballistic_missile", 5),
    ],
)
def test_count_reading(text: str, kind: str, expected: int | None) -> None:
    main = "ballistic_missile" if kind in ("ballistic_missile", "other_weapon") else kind
    if "surface-to-ship" in text:
        main = "cruise_missile"
    assert read_count(text, kind, main) == expected


@needs_reference
@pytest.mark.parametrize(
    ("day", "event", "kind", "expected"),
    [
        ("2016-03-21", "Short-range Ballistic Missile Launch", "ballistic_missile", 5),
        ("2017-03-06", "Medium-range Ballistic Missile Launch", "ballistic_missile", 4),
        (
            "2026-03-14",
            "Short-range Ballistic Missile Launch",
            "ballistic_missile",
            10,
        ),  # "12 rocket launchers" ignored
        ("2024-08-04", "Tactical Ballistic Missile Launcher Deployment", "ballistic_missile", None),
        ("2023-04-13", "Intercontinental Ballistic Missile", "ballistic_missile", 1),  # not 18 from "Hwasong-18"
        ("2022-11-03", "Intercontinental ballistic missile & SRBM", "ballistic_missile", 3),
        ("2022-10-06", "Short-range Ballistic Missile Launch", "ballistic_missile", 2),  # 217 miles, 350 km ignored
        ("2024-01-05", "Artillery Fire", "artillery", 200),
        ("2024-04-22", "Short-range Ballistic Missile Launch", "ballistic_missile", None),  # "at least one ... fell"
    ],
)
def test_count_reading_on_real_descriptions(day: str, event: str, kind: str, expected: int | None) -> None:
    [source] = [r for r in read_csis_csv(DEFAULT_CSIS_PATH) if r.date.isoformat() == day and r.event == event]
    assert read_count(source.description, kind, kind) == expected


def test_count_phrases_skip_distances_times_and_names() -> None:
    text = "The missile flew 1,000 km for 4,015 seconds at 10:15 a.m. from the Hwasong-15 site."
    assert count_phrases(text) == []
