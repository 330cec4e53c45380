"""The description rules: generic launches, 600 mm rockets, hypersonic claims (hedged sentences never count)."""

from __future__ import annotations

from forecasting.ingest.csis import LABELS, description_kinds


def kinds(label: tuple[str, str], text: str) -> tuple[str, ...]:
    return description_kinds(LABELS[label], text)


SHORT = ("Missile Provocation", "Short-range Missile Launch")
SRBM = ("Missile Provocation", "Short-range Ballistic Missile Launch")


def test_generic_launch_labels_follow_the_weapons_named_in_the_text() -> None:
    assert kinds(SHORT, "North Korea fired four surface-to-ship missiles near Wonsan.") == ("cruise_missile",)
    assert kinds(SRBM, "North Korea fired two cruise missiles into the Yellow Sea.") == ("cruise_missile",)
    assert kinds(SRBM, "North Korea launched 7 surface-to-air missiles.") == ("other_weapon",)
    assert kinds(SHORT, "It fired 3 surface-to-ship missiles and a surface-to-air missile.") == (
        "cruise_missile",
        "other_weapon",
    )
    assert kinds(SRBM, "It fired 4 SRBMs, then SAMs. It also fired 100 artillery shells.") == (
        "ballistic_missile",
        "other_weapon",
        "artillery",
    )
    # a hedged sentence does not decide the kind
    assert kinds(SRBM, "The missiles may be modified anti-ship missiles or KN-02 missiles.") == ("ballistic_missile",)


def test_600mm_rockets_are_ballistic_and_other_rockets_artillery() -> None:
    mlrs = ("Missile Provocation", "Multiple Launch Rocket System (MLRS) Test")
    assert kinds(mlrs, "A test of an upgraded 600mm multiple rocket launcher.") == ("ballistic_missile",)
    assert kinds(("Other Provocation", "Artillery Fire"), "Six super-large rockets were fired.") == (
        "ballistic_missile",
    )
    assert kinds(mlrs, "A test of an updated 240mm multiple rocket launcher.") == ("artillery",)


def test_hypersonic_only_when_announced_or_assessed() -> None:
    irbm = ("Missile Provocation", "Intermediate-range Ballistic Missile Launch")
    assert kinds(irbm, "It fired an IRBM carrying a hypersonic warhead.") == ("hypersonic_missile",)
    assert kinds(SRBM, "An analyst said it could have been a hypersonic missile.") == ("ballistic_missile",)
    assert kinds(("Missile Provocation", "Strategic cruise missile"), "A hypersonic claim.") == ("cruise_missile",)
