"""The label table: what each CSIS (type, event) label pair becomes in our vocabulary.

The pair gives the row's event type(s), a short phrase for the weapon class, or
a reason to leave the row out. An unknown pair is refused by the mapping (a
newer copy of the database may bring one). The short names below (`BM`, `CM`,
...) are the event types of `forecasting.domain.vocabulary.EVENT_TYPES`, named
once here for every module of the package.
"""

from __future__ import annotations

from dataclasses import dataclass

# The three CSIS provocation types.
MISSILE, OTHER, NUCLEAR = "Missile Provocation", "Other Provocation", "Nuclear Provocation"

# Weapons event types, then the others.
BM, CM, HM, NT, SL, ET, AR, OW = (
    "ballistic_missile",
    "cruise_missile",
    "hypersonic_missile",
    "nuclear_test",
    "satellite_launch",
    "engine_test",
    "artillery",
    "other_weapon",
)
INC, HAR, CLASH, ATT, NUC, DRILL = (
    "incursion",
    "harassment",
    "armed_clash",
    "attack",
    "nuclear_program",
    "military_drill",
)


@dataclass(frozen=True)
class LabelRule:
    """What a CSIS (type, event) label pair becomes.

    `types` holds one event type, or two when the label itself names two kinds
    ("Nuclear Test / Short-range missile launch"). `weapon` is the class named
    by the label, used in the generated description. `generic` marks labels
    whose description decides the kind (see `description_kinds`); `rockets`
    marks artillery/rocket-launcher labels subject to the 600 mm rule. An empty
    `types` with a `left_out` reason drops the row (it is still accounted for).
    """

    types: tuple[str, ...]
    weapon: str = ""
    generic: bool = False
    rockets: bool = False
    left_out: str = ""


def _rule(*types: str, weapon: str = "", generic: bool = False, rockets: bool = False) -> LabelRule:
    return LabelRule(types=types, weapon=weapon, generic=generic, rockets=rockets)


LABELS: dict[tuple[str, str], LabelRule] = {
    # Missile Provocation
    (MISSILE, "Anti-Ship Cruise Missile Launch"): _rule(CM, weapon="anti-ship cruise missile"),
    (MISSILE, "Anti-aircraft Missile Launch"): _rule(OW, weapon="anti-aircraft missile"),
    (MISSILE, "Artillery Fire"): _rule(AR, weapon="artillery rocket", rockets=True),
    (MISSILE, "Ballistic Missile Launch"): _rule(BM, weapon="ballistic missile", generic=True),
    (MISSILE, "Ballistic Missile Launch (type unknown)"): _rule(BM, weapon="ballistic missile", generic=True),
    (MISSILE, "Inter-Continental Ballistic Missile/Short-Range Missile Launches"): _rule(
        BM, weapon="intercontinental and shorter-range ballistic missile"
    ),
    (MISSILE, "Intercontinental Ballistic Missile"): _rule(BM, weapon="intercontinental ballistic missile"),
    (MISSILE, "Intercontinental ballistic missile & SRBM"): _rule(
        BM, weapon="intercontinental and short-range ballistic missile"
    ),
    (MISSILE, "Intermediate-range Ballistic Missile Launch"): _rule(BM, weapon="intermediate-range ballistic missile"),
    (MISSILE, "Joint Missile Test with China"): LabelRule(
        types=(),
        left_out="a reported joint test on Chinese territory, known from a single press report "
        "and dated only to the month; not a North Korean launch",
    ),
    (MISSILE, "Long-range Cruise Missile Launch"): _rule(CM, weapon="long-range cruise missile"),
    (MISSILE, "Long-range Surface-to-Air Missile Launch"): _rule(OW, weapon="long-range surface-to-air missile"),
    (MISSILE, "Medium-range Ballistic Missile Launch"): _rule(BM, weapon="medium-range ballistic missile"),
    (MISSILE, "Mixed Tactical Weapons Test"): _rule(OW, weapon="mix of tactical weapons"),
    (MISSILE, "Multiple Lanuch Rocket System (MLRS) Test"): _rule(
        AR, weapon="multiple-rocket-launcher rocket", rockets=True
    ),
    (MISSILE, "Multiple Launch Rocket System (MLRS) Test"): _rule(
        AR, weapon="multiple-rocket-launcher rocket", rockets=True
    ),
    # The one Missile Provocation row with this label is the January 2022
    # Hwasong-8 launch; the label is a CSIS slip, the row is a missile launch.
    (MISSILE, "Nuclear Detonation Device"): _rule(BM, weapon="ballistic missile"),
    (MISSILE, "Rocket Engine Test"): _rule(ET, weapon="rocket engine"),
    (MISSILE, "Satellite Launch"): _rule(SL, weapon="space launch vehicle"),
    (MISSILE, "Satellite Launch (Other Provocation)"): _rule(SL, weapon="space launch vehicle"),
    (MISSILE, "Short-range Ballistic Missile Launch"): _rule(BM, weapon="short-range ballistic missile", generic=True),
    (MISSILE, "Short-range Missile Launch"): _rule(BM, weapon="short-range missile", generic=True),
    (MISSILE, "Short-range Surface-to-Air Missile Launch"): _rule(OW, weapon="short-range surface-to-air missile"),
    (MISSILE, "Strategic cruise missile"): _rule(CM, weapon="strategic cruise missile"),
    (MISSILE, "Submarine Launched Ballistic Missile Launch"): _rule(BM, weapon="submarine-launched ballistic missile"),
    # Nuclear Provocation
    (NUCLEAR, "Nuclear Test"): _rule(NT, weapon="nuclear device"),
    (NUCLEAR, "Nuclear Test / Short-range missile launch"): _rule(NT, BM, weapon="nuclear device"),
    # Other Provocation
    (OTHER, "Aircraft Interception"): _rule(HAR),
    (OTHER, "Airplane Exercise"): _rule(DRILL),
    (OTHER, "Airport Terror Bombing"): _rule(ATT),
    (OTHER, "Ambush on U.S. Soldiers"): _rule(ATT),
    (OTHER, "Artillery Fire"): _rule(AR, weapon="artillery", rockets=True),
    (OTHER, "Assault and Assassination Attempt"): _rule(ATT),
    (OTHER, "Assault by NK Armed Agents"): _rule(ATT),
    (OTHER, "Attack on U.S. Military Barracks"): _rule(ATT),
    (OTHER, "Attack on U.S. Reconnaissance Plane"): _rule(ATT),
    (OTHER, "Attempted Assasination of President Park Chung-hee"): _rule(ATT),
    (OTHER, "Attempted Hijacking of KAL aircraft"): _rule(ATT),
    (OTHER, "Balloon-floating Trash"): _rule(HAR),
    (OTHER, "Bombing of South Korean Civilian Aircraft"): _rule(ATT),
    (OTHER, "Bombing of Train Station Terror Act"): _rule(ATT),
    (OTHER, "Capture of NK Spy Naval Vessel"): _rule(INC),
    (OTHER, "Collision and Sinking of North Korean Vessel"): _rule(INC),
    (OTHER, "Controlled Rocket Experiment"): _rule(AR, weapon="guided multiple-rocket-launcher rocket", rockets=True),
    (OTHER, "DMZ Enroachment"): _rule(INC),
    (OTHER, "DMZ Exchange of Fire"): _rule(CLASH),
    (OTHER, "Daecheong Naval Campaign"): _rule(CLASH),
    (OTHER, "Detainment of South Korean Vessel"): _rule(ATT),
    (OTHER, "Drones (UAVs)"): _rule(INC),
    (OTHER, "Exchange at the inter-Korean Joint Liaison Office"): _rule(HAR),
    (OTHER, "Exchange of Fire"): _rule(CLASH),
    (OTHER, "Exchange of Fire (Ground)"): _rule(CLASH),
    (OTHER, "Exchange of Fire (Maritime)"): _rule(CLASH),
    (OTHER, "Exchange of Fire and Sinking of NK Vessel"): _rule(CLASH),
    (OTHER, "Exchange of Fire at DMZ"): _rule(CLASH),
    (OTHER, "Exchange of Fire from Manhunt - Final Incident"): _rule(CLASH),
    (OTHER, "Explosion"): _rule(HAR),
    (OTHER, "Explosion at U.S. Cultural Center in Taegu"): _rule(ATT),
    (OTHER, "Fishing Boat Seizure at NLL"): _rule(ATT),
    (OTHER, "GPS Signal Jamming"): _rule(HAR),
    (OTHER, "Hijacking of JAL aircraft (Boeing 727)"): _rule(ATT),
    (OTHER, "Hijacking of South Korean Plane"): _rule(ATT),
    (OTHER, "Infiltration and Capture of North Korean Vessel"): _rule(INC),
    (OTHER, "Infiltration and Discovery of NK Tunnel System"): _rule(INC),
    (OTHER, "Infiltration and Incursion"): _rule(INC),
    (OTHER, "Infiltration and Incursion (Maritime)"): _rule(INC),
    (OTHER, "Infiltration and Incursion (Territorial)"): _rule(INC),
    (OTHER, "Infiltration and Incursion - Arrest of Spy Ring Jeju Island"): _rule(INC),
    (OTHER, "Infiltration and Incursion - Exchange of Fire"): _rule(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at DMZ"): _rule(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at Jeju Island"): _rule(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at Uljin"): _rule(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at Uljin & Samcheok"): _rule(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at West MDL"): _rule(CLASH),
    (OTHER, "Infiltration and Sinking of North Korean Vessel"): _rule(INC),
    (OTHER, "Killing of South Korean Civilians"): _rule(ATT),
    (OTHER, "Land Mine Explosion"): _rule(ATT),
    (OTHER, "Loudspeakers at the DMZ"): _rule(HAR),
    (OTHER, "Major Henderson Incident"): _rule(ATT),
    (OTHER, "Maritime Boundary Declaration"): _rule(DRILL),
    (OTHER, "Military Exercise"): _rule(DRILL),
    # KCNA called the launch of 26 June 2024 a multiple-warhead test; it was a
    # ballistic missile launch and merges with the other row of that day.
    (OTHER, "Multiple Independently Targetable Rentry Vehicle (MIRV) Test"): _rule(
        BM, weapon="ballistic missile announced as a multiple-warhead test"
    ),
    (OTHER, "Multiple Lanuch Rocket System (MLRS) Test"): _rule(
        AR, weapon="multiple-rocket-launcher rocket", rockets=True
    ),
    (OTHER, "NK Attacks U.S. Airforce Plane"): _rule(ATT),
    (OTHER, "NK Fighter Jets Attack U.S. Navy Plane"): _rule(ATT),
    (OTHER, "NK Fighter Jets Attack U.S. Reconnaissance Plane"): _rule(ATT),
    (OTHER, "NK Fires at US Reconnaissance Plane"): _rule(ATT),
    (OTHER, "NLL Exchange of Fire"): _rule(CLASH),
    (OTHER, "No-Sail Zone Declared"): _rule(DRILL),
    # Under "Other Provocation" this label is a reported trigger-device test,
    # a programme step, not a nuclear detonation.
    (OTHER, "Nuclear Detonation Device"): _rule(NUC),
    (OTHER, "Nuclear Fuel Reactor Operation"): _rule(NUC),
    (OTHER, "Nuclear-powered submarine"): _rule(NUC),
    (OTHER, "Panmunjom Axe Murder Incident"): _rule(ATT),
    (OTHER, "Raid on Blue House (Cheong Wa Dae)"): _rule(ATT),
    (OTHER, "Rocket Engine Test"): _rule(ET, weapon="rocket engine"),
    (OTHER, "Satellite Launch"): _rule(SL, weapon="space launch vehicle"),
    (OTHER, "Seizure of South Korean Broadcasting Vessel"): _rule(ATT),
    (OTHER, "Seizure of USS Pueblo"): _rule(ATT),
    # Fire aimed at South Korean forces or territory is a clash, never a test.
    (OTHER, "Shelling of Yeonpyeong Island"): _rule(CLASH),
    (OTHER, "Sinking of NK Spy Naval Vessel"): _rule(INC),
    (OTHER, "Sinking of SK Fishing Boats and 30 Fishermen Detained"): _rule(ATT),
    (OTHER, "Sinking of South Korean Coast Guard Vessel"): _rule(ATT),
    (OTHER, "Sinking of South Korean Patrol Boat"): _rule(ATT),
    (OTHER, "Sinking of the ROKS Cheonan"): _rule(ATT),
    (OTHER, "Tactical Ballistic Missile Launcher Deployment"): _rule(DRILL),
    (OTHER, "Territorial Incursion (Air)"): _rule(INC),
    (OTHER, "Territorial Incursion (Ground)"): _rule(INC),
    (OTHER, "Territorial Incursion (Maritime)"): _rule(INC),
    (OTHER, "Territorial Provocation (Ground)"): _rule(INC),
    (OTHER, "Territorial Provocation (Maritime)"): _rule(INC),
    (OTHER, "The First Yeonpyeong Naval Campaign"): _rule(CLASH),
    (OTHER, "The Rangoon Bombing"): _rule(ATT),
    (OTHER, "The Second Yeonpyeong Naval Campaign"): _rule(CLASH),
    (OTHER, "U.S. Helicopter Shot Down"): _rule(ATT),
    (OTHER, "Underwater nuclear attack drone"): _rule(OW, weapon="underwater attack drone"),
    (OTHER, "Uranium Facility Visit"): _rule(NUC),
    (OTHER, "Withdrawal from NPT"): _rule(NUC),
}
