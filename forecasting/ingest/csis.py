"""Mapping from the CSIS "Database of North Korean Provocations" onto our event records.

The CSIS file (as scraped by github.com/stiles/north-korea-provocations) has one
row per reported provocation with a free-text `event` label. This module reads
such a file, maps every (type, event) label pair onto the closed vocabulary in
`forecasting.domain.vocabulary`, reads missile counts out of the descriptions, merges
rows that fall on the same day and type, and accounts for every input row.

The rules, in the order they are applied to a row:

1. `LABELS`: the (CSIS type, CSIS event) pair gives the row's event type(s), a
   short phrase for the weapon class, or a reason to leave the row out. An
   unknown pair is refused (a newer copy of the database may bring one).
2. Description rules (`description_kinds`), each explicit:
   - generic launch labels (short-range / ballistic of unknown type) become a
     cruise missile when the text names cruise or surface-to-ship missiles, an
     `other_weapon` when it names surface-to-air missiles, and gain an
     `artillery` event when it names artillery shells/rounds fired the same day;
   - artillery and rocket-launcher labels become `ballistic_missile` when the
     text names 600 mm / "super-large" rockets (KN-25), which South Korea's JCS
     counts as short-range ballistic missiles;
   - any ballistic label becomes `hypersonic_missile` when the text says the
     weapon was announced or assessed as hypersonic (hedged sentences with
     "could", "possibly", "speculating", ... do not count).
3. Corrections (`CsisCorrection`, from seeds/curation/corrections.csv): per-row
   fixes with their own source (a date a day off, a wrong type, a misread count).
4. Counts (`read_count`), merging of rows with the same date and type, and
   generated one-sentence descriptions in our own words.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from forecasting.domain.records import (
    EventRecord,
    FieldProblem,
    RecordError,
    RecordFileError,
    parse_date,
)
from forecasting.domain.vocabulary import EVENT_TYPES

CSIS_COLUMNS = ("date", "type", "event", "description", "resources")
CSIS_CITATION = (
    'CSIS Beyond Parallel, "Database of North Korean Provocations", via github.com/stiles/north-korea-provocations'
)

MAPPED, MERGED, LEFT_OUT = "mapped", "merged", "left_out"

MISSILE, OTHER, NUCLEAR = "Missile Provocation", "Other Provocation", "Nuclear Provocation"


# --- 1. the label table --------------------------------------------------------


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


def _t(*types: str, weapon: str = "", generic: bool = False, rockets: bool = False) -> LabelRule:
    return LabelRule(types=types, weapon=weapon, generic=generic, rockets=rockets)


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

LABELS: dict[tuple[str, str], LabelRule] = {
    # Missile Provocation
    (MISSILE, "Anti-Ship Cruise Missile Launch"): _t(CM, weapon="anti-ship cruise missile"),
    (MISSILE, "Anti-aircraft Missile Launch"): _t(OW, weapon="anti-aircraft missile"),
    (MISSILE, "Artillery Fire"): _t(AR, weapon="artillery rocket", rockets=True),
    (MISSILE, "Ballistic Missile Launch"): _t(BM, weapon="ballistic missile", generic=True),
    (MISSILE, "Ballistic Missile Launch (type unknown)"): _t(BM, weapon="ballistic missile", generic=True),
    (MISSILE, "Inter-Continental Ballistic Missile/Short-Range Missile Launches"): _t(
        BM, weapon="intercontinental and shorter-range ballistic missile"
    ),
    (MISSILE, "Intercontinental Ballistic Missile"): _t(BM, weapon="intercontinental ballistic missile"),
    (MISSILE, "Intercontinental ballistic missile & SRBM"): _t(
        BM, weapon="intercontinental and short-range ballistic missile"
    ),
    (MISSILE, "Intermediate-range Ballistic Missile Launch"): _t(BM, weapon="intermediate-range ballistic missile"),
    (MISSILE, "Joint Missile Test with China"): LabelRule(
        types=(),
        left_out="a reported joint test on Chinese territory, known from a single press report "
        "and dated only to the month; not a North Korean launch",
    ),
    (MISSILE, "Long-range Cruise Missile Launch"): _t(CM, weapon="long-range cruise missile"),
    (MISSILE, "Long-range Surface-to-Air Missile Launch"): _t(OW, weapon="long-range surface-to-air missile"),
    (MISSILE, "Medium-range Ballistic Missile Launch"): _t(BM, weapon="medium-range ballistic missile"),
    (MISSILE, "Mixed Tactical Weapons Test"): _t(OW, weapon="mix of tactical weapons"),
    (MISSILE, "Multiple Lanuch Rocket System (MLRS) Test"): _t(
        AR, weapon="multiple-rocket-launcher rocket", rockets=True
    ),
    (MISSILE, "Multiple Launch Rocket System (MLRS) Test"): _t(
        AR, weapon="multiple-rocket-launcher rocket", rockets=True
    ),
    # The one Missile Provocation row with this label is the January 2022
    # Hwasong-8 launch; the label is a CSIS slip, the row is a missile launch.
    (MISSILE, "Nuclear Detonation Device"): _t(BM, weapon="ballistic missile"),
    (MISSILE, "Rocket Engine Test"): _t(ET, weapon="rocket engine"),
    (MISSILE, "Satellite Launch"): _t(SL, weapon="space launch vehicle"),
    (MISSILE, "Satellite Launch (Other Provocation)"): _t(SL, weapon="space launch vehicle"),
    (MISSILE, "Short-range Ballistic Missile Launch"): _t(BM, weapon="short-range ballistic missile", generic=True),
    (MISSILE, "Short-range Missile Launch"): _t(BM, weapon="short-range missile", generic=True),
    (MISSILE, "Short-range Surface-to-Air Missile Launch"): _t(OW, weapon="short-range surface-to-air missile"),
    (MISSILE, "Strategic cruise missile"): _t(CM, weapon="strategic cruise missile"),
    (MISSILE, "Submarine Launched Ballistic Missile Launch"): _t(BM, weapon="submarine-launched ballistic missile"),
    # Nuclear Provocation
    (NUCLEAR, "Nuclear Test"): _t(NT, weapon="nuclear device"),
    (NUCLEAR, "Nuclear Test / Short-range missile launch"): _t(NT, BM, weapon="nuclear device"),
    # Other Provocation
    (OTHER, "Aircraft Interception"): _t(HAR),
    (OTHER, "Airplane Exercise"): _t(DRILL),
    (OTHER, "Airport Terror Bombing"): _t(ATT),
    (OTHER, "Ambush on U.S. Soldiers"): _t(ATT),
    (OTHER, "Artillery Fire"): _t(AR, weapon="artillery", rockets=True),
    (OTHER, "Assault and Assassination Attempt"): _t(ATT),
    (OTHER, "Assault by NK Armed Agents"): _t(ATT),
    (OTHER, "Attack on U.S. Military Barracks"): _t(ATT),
    (OTHER, "Attack on U.S. Reconnaissance Plane"): _t(ATT),
    (OTHER, "Attempted Assasination of President Park Chung-hee"): _t(ATT),
    (OTHER, "Attempted Hijacking of KAL aircraft"): _t(ATT),
    (OTHER, "Balloon-floating Trash"): _t(HAR),
    (OTHER, "Bombing of South Korean Civilian Aircraft"): _t(ATT),
    (OTHER, "Bombing of Train Station Terror Act"): _t(ATT),
    (OTHER, "Capture of NK Spy Naval Vessel"): _t(INC),
    (OTHER, "Collision and Sinking of North Korean Vessel"): _t(INC),
    (OTHER, "Controlled Rocket Experiment"): _t(AR, weapon="guided multiple-rocket-launcher rocket", rockets=True),
    (OTHER, "DMZ Enroachment"): _t(INC),
    (OTHER, "DMZ Exchange of Fire"): _t(CLASH),
    (OTHER, "Daecheong Naval Campaign"): _t(CLASH),
    (OTHER, "Detainment of South Korean Vessel"): _t(ATT),
    (OTHER, "Drones (UAVs)"): _t(INC),
    (OTHER, "Exchange at the inter-Korean Joint Liaison Office"): _t(HAR),
    (OTHER, "Exchange of Fire"): _t(CLASH),
    (OTHER, "Exchange of Fire (Ground)"): _t(CLASH),
    (OTHER, "Exchange of Fire (Maritime)"): _t(CLASH),
    (OTHER, "Exchange of Fire and Sinking of NK Vessel"): _t(CLASH),
    (OTHER, "Exchange of Fire at DMZ"): _t(CLASH),
    (OTHER, "Exchange of Fire from Manhunt - Final Incident"): _t(CLASH),
    (OTHER, "Explosion"): _t(HAR),
    (OTHER, "Explosion at U.S. Cultural Center in Taegu"): _t(ATT),
    (OTHER, "Fishing Boat Seizure at NLL"): _t(ATT),
    (OTHER, "GPS Signal Jamming"): _t(HAR),
    (OTHER, "Hijacking of JAL aircraft (Boeing 727)"): _t(ATT),
    (OTHER, "Hijacking of South Korean Plane"): _t(ATT),
    (OTHER, "Infiltration and Capture of North Korean Vessel"): _t(INC),
    (OTHER, "Infiltration and Discovery of NK Tunnel System"): _t(INC),
    (OTHER, "Infiltration and Incursion"): _t(INC),
    (OTHER, "Infiltration and Incursion (Maritime)"): _t(INC),
    (OTHER, "Infiltration and Incursion (Territorial)"): _t(INC),
    (OTHER, "Infiltration and Incursion - Arrest of Spy Ring Jeju Island"): _t(INC),
    (OTHER, "Infiltration and Incursion - Exchange of Fire"): _t(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at DMZ"): _t(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at Jeju Island"): _t(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at Uljin"): _t(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at Uljin & Samcheok"): _t(CLASH),
    (OTHER, "Infiltration and Incursion - Exchange of Fire at West MDL"): _t(CLASH),
    (OTHER, "Infiltration and Sinking of North Korean Vessel"): _t(INC),
    (OTHER, "Killing of South Korean Civilians"): _t(ATT),
    (OTHER, "Land Mine Explosion"): _t(ATT),
    (OTHER, "Loudspeakers at the DMZ"): _t(HAR),
    (OTHER, "Major Henderson Incident"): _t(ATT),
    (OTHER, "Maritime Boundary Declaration"): _t(DRILL),
    (OTHER, "Military Exercise"): _t(DRILL),
    # KCNA called the launch of 26 June 2024 a multiple-warhead test; it was a
    # ballistic missile launch and merges with the other row of that day.
    (OTHER, "Multiple Independently Targetable Rentry Vehicle (MIRV) Test"): _t(
        BM, weapon="ballistic missile announced as a multiple-warhead test"
    ),
    (OTHER, "Multiple Lanuch Rocket System (MLRS) Test"): _t(
        AR, weapon="multiple-rocket-launcher rocket", rockets=True
    ),
    (OTHER, "NK Attacks U.S. Airforce Plane"): _t(ATT),
    (OTHER, "NK Fighter Jets Attack U.S. Navy Plane"): _t(ATT),
    (OTHER, "NK Fighter Jets Attack U.S. Reconnaissance Plane"): _t(ATT),
    (OTHER, "NK Fires at US Reconnaissance Plane"): _t(ATT),
    (OTHER, "NLL Exchange of Fire"): _t(CLASH),
    (OTHER, "No-Sail Zone Declared"): _t(DRILL),
    # Under "Other Provocation" this label is a reported trigger-device test,
    # a programme step, not a nuclear detonation.
    (OTHER, "Nuclear Detonation Device"): _t(NUC),
    (OTHER, "Nuclear Fuel Reactor Operation"): _t(NUC),
    (OTHER, "Nuclear-powered submarine"): _t(NUC),
    (OTHER, "Panmunjom Axe Murder Incident"): _t(ATT),
    (OTHER, "Raid on Blue House (Cheong Wa Dae)"): _t(ATT),
    (OTHER, "Rocket Engine Test"): _t(ET, weapon="rocket engine"),
    (OTHER, "Satellite Launch"): _t(SL, weapon="space launch vehicle"),
    (OTHER, "Seizure of South Korean Broadcasting Vessel"): _t(ATT),
    (OTHER, "Seizure of USS Pueblo"): _t(ATT),
    # Fire aimed at South Korean forces or territory is a clash, never a test.
    (OTHER, "Shelling of Yeonpyeong Island"): _t(CLASH),
    (OTHER, "Sinking of NK Spy Naval Vessel"): _t(INC),
    (OTHER, "Sinking of SK Fishing Boats and 30 Fishermen Detained"): _t(ATT),
    (OTHER, "Sinking of South Korean Coast Guard Vessel"): _t(ATT),
    (OTHER, "Sinking of South Korean Patrol Boat"): _t(ATT),
    (OTHER, "Sinking of the ROKS Cheonan"): _t(ATT),
    (OTHER, "Tactical Ballistic Missile Launcher Deployment"): _t(DRILL),
    (OTHER, "Territorial Incursion (Air)"): _t(INC),
    (OTHER, "Territorial Incursion (Ground)"): _t(INC),
    (OTHER, "Territorial Incursion (Maritime)"): _t(INC),
    (OTHER, "Territorial Provocation (Ground)"): _t(INC),
    (OTHER, "Territorial Provocation (Maritime)"): _t(INC),
    (OTHER, "The First Yeonpyeong Naval Campaign"): _t(CLASH),
    (OTHER, "The Rangoon Bombing"): _t(ATT),
    (OTHER, "The Second Yeonpyeong Naval Campaign"): _t(CLASH),
    (OTHER, "U.S. Helicopter Shot Down"): _t(ATT),
    (OTHER, "Underwater nuclear attack drone"): _t(OW, weapon="underwater attack drone"),
    (OTHER, "Uranium Facility Visit"): _t(NUC),
    (OTHER, "Withdrawal from NPT"): _t(NUC),
}


# --- input rows -------------------------------------------------------------------


@dataclass(frozen=True)
class CsisRow:
    line: int
    date: date
    type: str
    event: str
    description: str
    resources: str

    @property
    def label(self) -> str:
        return f"{self.type} / {self.event}"


def read_csis_csv(path: Path) -> list[CsisRow]:
    """Read a CSIS-format CSV; raise RecordFileError naming file, line and field on bad input."""
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise RecordFileError([FieldProblem(name, 0, "-", f"cannot open file: {error.strerror}")]) from None
    rows: list[CsisRow] = []
    problems: list[FieldProblem] = []
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            missing = [c for c in CSIS_COLUMNS if c not in header]
            if missing:
                raise RecordFileError([FieldProblem(name, 1, c, "column is missing from the header") for c in missing])
            start = reader.line_num + 1
            for raw in reader:
                try:
                    rows.append(_csis_row(start, raw))
                except RecordError as error:
                    problems.append(FieldProblem(name, start, error.field, error.message))
                start = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise RecordFileError([FieldProblem(name, reader.line_num, "-", f"unreadable CSV: {error}")]) from None
    if problems:
        raise RecordFileError(problems)
    return rows


def _csis_row(line: int, raw: dict[str, str | None]) -> CsisRow:
    def text(column: str, required: bool) -> str:
        value = (raw.get(column) or "").strip()
        if required and not value:
            raise RecordError(column, "is missing")
        return value

    return CsisRow(
        line=line,
        date=parse_date(raw.get("date") or "", "date", allow_future=False),
        type=text("type", True),
        event=text("event", True),
        description=text("description", False),
        resources=text("resources", False),
    )


# --- 2. description rules ----------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
HEDGE = re.compile(r"\b(could|may be|might|possibl\w*|speculat\w*|thought to be|or new)\b", re.I)
CRUISE_WORDS = re.compile(r"cruise missile|surface-to-ship|ship-to-ship|anti-ship|anti-warship", re.I)
SAM_WORDS = re.compile(r"surface-to-air|anti-aircraft|anti-air\b|\bSAMs?\b", re.I)
SHELL_WORDS = re.compile(r"artillery (?:shells|rounds|shots)", re.I)
BALLISTIC_WORDS = re.compile(
    r"ballistic|\b(?:SRBM|CRBM|MRBM|IRBM|ICBM|SLBM)s?\b|scud|KN-0?2\b|KN-2\d|hwasong|projectile|rocket|super-large",
    re.I,
)
LARGE_ROCKET_WORDS = re.compile(r"600\s?mm|600-millimet|super-large|KN-25", re.I)
HYPERSONIC_WORDS = re.compile(r"hypersonic", re.I)


def normalise(text: str) -> str:
    """Plain hyphens and spaces, so that "short‑range" (U+2011) reads like "short-range"."""
    return re.sub(r"[\u2010-\u2013]", "-", text).replace("\u00a0", " ")


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(normalise(text).strip()) if s]


def _firm_mention(pattern: re.Pattern[str], text: str) -> bool:
    """True when a sentence that is not hedged ("could", "possibly", ...) matches the pattern."""
    return any(pattern.search(s) and not HEDGE.search(s) for s in sentences(text))


def description_kinds(rule: LabelRule, description: str) -> tuple[str, ...]:
    """The event types a row stands for, after the explicit description rules."""
    kinds = list(rule.types)
    if rule.generic:
        named: list[str] = []
        if _firm_mention(CRUISE_WORDS, description):
            named.append(CM)
        if _firm_mention(SAM_WORDS, description):
            named.append(OW)
        if named and not _firm_mention(BALLISTIC_WORDS, description):
            kinds = named
        else:
            kinds = [BM] + named
        if _firm_mention(SHELL_WORDS, description):
            kinds.append(AR)
    if rule.rockets and LARGE_ROCKET_WORDS.search(description):
        kinds = [BM if k == AR else k for k in kinds]
    if BM in kinds and _firm_mention(HYPERSONIC_WORDS, description):
        kinds = [HM if k == BM else k for k in kinds]
    return tuple(dict.fromkeys(kinds))


# --- 4a. count reading -----------------------------------------------------------------

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
# Head nouns that name what was fired; "launches" only counts after missile/rocket.
WEAPON_NOUN = (
    r"(?:missiles?|projectiles?|rockets?|shells?|rounds|shots|"
    r"(?:SRBM|CRBM|MRBM|IRBM|ICBM|SLBM|SAM)s?|scuds?|nodongs?|musudans?|"
    r"hwasongs?-\d+\w*|pukguksong-\d\w*|taepodong-\d)"
)
# A count phrase: [verb ... a/an] | [qualifier] NUMBER, up to five modifier words, the head noun.
STOP_WORDS = (
    r"of|the|a|an|and|or|from|into|to|toward|towards|in|on|at|by|near|with|for|that|which|was|were|"
    r"is|are|had|has|its|their|over|off|after|before|during|between|than|fired|launched"
)
MODIFIER = (
    r"(?:(?<!\ban\s)(?<!\ba\s)type\s+of\s+|(?!(?:"
    + STOP_WORDS
    + "|"
    + "|".join(NUMBER_WORDS)
    + r")\b)[\"“”'(]?(?=[\w\-]*[A-Za-z])\w[\w\-]*[\"“”')]?,?\s+)"
)
COUNT_PHRASE = re.compile(
    r"(?P<lead>\b(?:also\s+)?(?:fired|launched|launch|launching|test-fired|test-launched|test\s+fired|tested|"
    r"firing|firing\s+of|launch\s+of)"
    r"(?:\s+what\s+(?:appeared|appears|is|was)\s+(?:to\s+be|believed\s+to\s+be))?\s+)?"
    r"(?P<qualifier>(?:around|about|approximately|roughly|some|nearly|an\s+estimated|at\s+least|more\s+than|over)\s+)?"
    r"(?<![\w.,-])(?P<number>\d{1,4}|" + "|".join(NUMBER_WORDS) + r"|an?)\s+"
    r"(?P<modifiers>" + MODIFIER + r"{0,5})"
    r"(?P<noun>" + WEAPON_NOUN + r")\b",
    re.I,
)
NOT_A_COUNT_AFTER_NOUN = re.compile(
    r"\s+(?:launchers?|systems?|engines?|units?|compan(?:y|ies)|stands?|bases?|launch\s+activit)", re.I
)
# "at least one missile fell ...", "two missiles reportedly travelled ...": the fate of
# some of the weapons, not how many were fired.
FATE_AFTER_NOUN = re.compile(
    r"\s+(?:\w+\s+)?(?:fell|landed|flew|travell?ed|splashed|exploded|failed|reached|hit|blew|crashed)\b", re.I
)
UNIT_WORDS = re.compile(
    r"^(?:mm|mm-caliber|millimet\w*|km|kilomet\w*|miles?|met(?:er|re)s?|kg|tons?|ton-force|kn|"
    r"seconds?|minutes?|hours?|days?|years?|percent|times?)[\s,)]",
    re.I,
)
CRUISE_PHRASE = re.compile(r"cruise|surface-to-ship|ship-to-ship|anti-ship|anti-warship", re.I)
SAM_PHRASE = re.compile(r"surface-to-air|anti-aircraft|anti-air\b|\bSAMs?\b", re.I)
SHELL_PHRASE = re.compile(r"artillery|shells?\b|rounds\b|shots\b", re.I)


@dataclass(frozen=True)
class CountPhrase:
    sentence: int
    start: int
    count: int
    kind_hint: str  # cruise_missile | other_weapon | artillery | "" (whatever the row's main kind is)
    also: bool
    joined: bool  # follows the previous phrase after "and"


def count_phrases(description: str) -> list[CountPhrase]:
    """Every statement of a number of fired weapons, in reading order."""
    found: list[CountPhrase] = []
    for index, sentence in enumerate(sentences(description)):
        previous_end = None
        for match in COUNT_PHRASE.finditer(sentence):
            number = match.group("number").lower()
            joined = (
                previous_end is not None
                and re.fullmatch(r"[\s,]*(?:and|as\s+well\s+as|plus)\s*", sentence[previous_end : match.start()], re.I)
                is not None
            )
            if number in ("a", "an") and not (match.group("lead") or joined):
                continue  # "a missile" counts only right after a firing verb ("fired a missile")
            before = sentence[: match.start("number")].rstrip().lower()
            if re.search(r"\b(?:the|these|those|both|each|every|first|second|last)$", before) and not match.group(
                "lead"
            ):
                continue  # anaphora: "the two missiles", "each of ...", "one of the ..."
            modifiers = match.group("modifiers") or ""
            if UNIT_WORDS.match(modifiers) or re.search(r"\blaunchers?\b|\bsystems?\b", modifiers, re.I):
                continue  # "600 mm rocket ...", "240 mm-caliber ... launcher shells"
            if number in ("a", "an") and re.match(r"new\b|type\b", modifiers, re.I):
                continue  # "a new type of missile", "a new ... variant": a kind of weapon, not a count
            after = sentence[match.end("noun") :]
            if NOT_A_COUNT_AFTER_NOUN.match(after):
                continue  # "12 rocket launchers", "ballistic missile launchers"
            if FATE_AFTER_NOUN.match(after) and not match.group("lead"):
                continue
            value = NUMBER_WORDS.get(number, 1 if number in ("a", "an") else None)
            if value is None:
                value = int(number)
            phrase = modifiers + " " + match.group("noun")
            hint = ""
            if CRUISE_PHRASE.search(phrase):
                hint = CM
            elif SAM_PHRASE.search(phrase):
                hint = OW
            elif SHELL_PHRASE.search(phrase):
                hint = AR
            lead = (match.group("lead") or "").lower()
            found.append(CountPhrase(index, match.start(), value, hint, "also" in lead.split(), joined))
            previous_end = match.end("noun")
    return found


def read_count(description: str, kind: str, main_kind: str) -> int | None:
    """The number of weapons of one kind the description states, or None.

    Rules: the first sentence that states a number for this kind gives it
    (several numbers joined by "and" in that statement are added: "5 Scud
    missiles and 2 Nodong missiles" is 7); a later "also fired N" is added;
    every other later number is taken to restate or break down the first.
    Qualifiers (about, some, at least, more than) are dropped. A phrase counts
    for a kind by its own words (cruise / surface-to-air / artillery shells);
    phrases without such words count for the row's main kind.
    """
    total: int | None = None
    first_sentence: int | None = None
    for phrase in count_phrases(description):
        phrase_kind = phrase.kind_hint or main_kind
        if phrase_kind == HM or main_kind == HM:
            phrase_kind = HM if phrase_kind in (BM, HM) else phrase_kind
        if phrase_kind != kind:
            continue
        if total is None:
            total, first_sentence = phrase.count, phrase.sentence
        elif phrase.sentence == first_sentence and phrase.joined:
            total += phrase.count
        elif phrase.also:
            total += phrase.count
    if total is not None and not 1 <= total <= 1000:
        return None
    return total


COUNTED_TYPES = frozenset({BM, CM, HM, AR, OW})


# --- 3. corrections ---------------------------------------------------------------------

CORRECTION_COLUMNS = ("csis_date", "csis_event", "event_type", "field", "value", "reason", "source")
CORRECTION_FIELDS = ("date", "event_types", "count", "leave_out")


@dataclass(frozen=True)
class CsisCorrection:
    """A sourced fix to one CSIS row, matched by the row's date and event label.

    field `date`: the Korean local date; `event_types`: the row's kinds,
    `+`-separated; `count`: the count of the `event_type` part (empty value =
    unknown); `leave_out`: drop the row (value ignored).
    """

    line: int
    csis_date: date
    csis_event: str
    event_type: str
    field: str
    value: str
    reason: str
    source: str


def read_corrections_csv(path: Path) -> list[CsisCorrection]:
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise RecordFileError([FieldProblem(name, 0, "-", f"cannot open file: {error.strerror}")]) from None
    corrections: list[CsisCorrection] = []
    problems: list[FieldProblem] = []
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in CORRECTION_COLUMNS if c not in header]
        if missing:
            raise RecordFileError([FieldProblem(name, 1, c, "column is missing from the header") for c in missing])
        start = reader.line_num + 1
        for raw in reader:
            try:
                corrections.append(_correction(start, raw))
            except RecordError as error:
                problems.append(FieldProblem(name, start, error.field, error.message))
            start = reader.line_num + 1
    if problems:
        raise RecordFileError(problems)
    return corrections


def _correction(line: int, raw: dict[str, str | None]) -> CsisCorrection:
    def text(column: str) -> str:
        return (raw.get(column) or "").strip()

    kind = text("field")
    if kind not in CORRECTION_FIELDS:
        raise RecordError("field", f"{kind!r} is not one of {', '.join(CORRECTION_FIELDS)}")
    value = text("value")
    part = text("event_type")
    if kind == "date":
        parse_date(value, "value", allow_future=False)
    if kind == "event_types":
        for name in value.split("+"):
            if name not in EVENT_TYPES:
                raise RecordError("value", f"unknown event type {name!r}")
    if kind == "count":
        if part not in EVENT_TYPES:
            raise RecordError("event_type", f"a count correction needs the event type it applies to, got {part!r}")
        if value and not (value.isdigit() and 1 <= int(value) <= 1000):
            raise RecordError("value", f"{value!r} is not a count from 1 to 1000 (or empty for unknown)")
    for column in ("csis_event", "reason", "source"):
        if not text(column):
            raise RecordError(column, "is missing")
    return CsisCorrection(
        line=line,
        csis_date=parse_date(text("csis_date"), "csis_date"),
        csis_event=text("csis_event"),
        event_type=part,
        field=kind,
        value=value,
        reason=text("reason"),
        source=text("source"),
    )


# --- 4b. mapping and merging ----------------------------------------------------------------


@dataclass(frozen=True)
class CsisAccounting:
    line: int
    date: date
    label: str
    outcome: str  # mapped | merged | left_out
    event_ids: tuple[str, ...]
    reason: str

    @property
    def event_id(self) -> str:
        return " + ".join(self.event_ids)


@dataclass
class CsisMapping:
    events: list[EventRecord]
    accounting: list[CsisAccounting]


@dataclass
class _Part:
    """One (row, kind) contribution to an event."""

    row: CsisRow
    rule: LabelRule
    event_type: str
    event_date: date
    count: int | None
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    split: bool = False


def first_reference(resources: str) -> str:
    """The row's first reference: a URL when there is one, else the first citation."""
    text = resources.strip()
    if not text:
        return ""
    first = text.split(";")[0].strip()
    match = re.search(r"(?:https?://|www\.)[^\s;\"<>]+", first)
    if not match:
        return first
    url = re.sub(r"Video(?::.*)?$", "", match.group(0))
    if url.endswith("The") and first[match.end() :].startswith(" US Military"):
        url = url[: -len("The")]  # "https://goo.gl/abcdefThe US Military Experience ..." run together
    return url


def event_id(day: date, event_type: str) -> str:
    return f"{day.isoformat()}-{event_type}"


def map_csis_rows(rows: list[CsisRow], file_name: str, corrections: Sequence[CsisCorrection] = ()) -> CsisMapping:
    """Map CSIS rows onto event records; account for every row.

    Raises RecordFileError for a label pair not in `LABELS` (field `event`) and
    for a correction that matches no row or several.
    """
    unknown = [
        FieldProblem(
            file_name,
            r.line,
            "event",
            f"unknown CSIS label {r.event!r} (type {r.type!r}); add it to forecasting.ingest.csis.LABELS",
        )
        for r in rows
        if (r.type, r.event) not in LABELS
    ]
    if unknown:
        raise RecordFileError(unknown)
    by_row = _corrections_by_row(rows, corrections, file_name)

    parts: list[_Part] = []
    left_out: dict[int, str] = {}
    split_rows: set[int] = set()
    for row in rows:
        rule = LABELS[(row.type, row.event)]
        fixes = by_row.get(row.line, [])
        leave = next((c for c in fixes if c.field == "leave_out"), None)
        if leave is not None:
            left_out[row.line] = f"correction: {leave.reason} ({leave.source})"
            continue
        if not rule.types:
            left_out[row.line] = rule.left_out
            continue
        row_parts = _row_parts(row, rule, fixes)
        if len(row_parts) > 1:
            split_rows.add(row.line)
        parts.extend(row_parts)

    grouped: dict[str, list[_Part]] = {}
    for part in sorted(parts, key=lambda p: (p.event_date, p.row.date, p.row.line)):
        grouped.setdefault(event_id(part.event_date, part.event_type), []).append(part)

    events = [_event(eid, group) for eid, group in grouped.items()]
    events.sort(key=lambda e: (e.date, e.id))
    return CsisMapping(events=events, accounting=_accounting(rows, grouped, left_out, split_rows, by_row))


def _corrections_by_row(
    rows: list[CsisRow], corrections: Sequence[CsisCorrection], file_name: str
) -> dict[int, list[CsisCorrection]]:
    by_row: dict[int, list[CsisCorrection]] = {}
    problems: list[FieldProblem] = []
    for correction in corrections:
        matches = [r for r in rows if r.date == correction.csis_date and r.event == correction.csis_event]
        if len(matches) != 1:
            problems.append(
                FieldProblem(
                    file_name,
                    correction.line,
                    "csis_event",
                    f"correction for {correction.csis_date} {correction.csis_event!r} matches "
                    f"{len(matches)} CSIS rows (expected exactly one)",
                )
            )
            continue
        by_row.setdefault(matches[0].line, []).append(correction)
    if problems:
        raise RecordFileError(problems)
    return by_row


KIND_FROM_TEXT = {
    CM: "kind read from the CSIS text, which names cruise or anti-ship missiles",
    OW: "kind read from the CSIS text, which names surface-to-air missiles",
    AR: "kind read from the CSIS text, which names artillery shells fired the same day",
    HM: "kind read from the CSIS text: announced or assessed as hypersonic",
}


def _row_parts(row: CsisRow, rule: LabelRule, fixes: list[CsisCorrection]) -> list[_Part]:
    kinds = description_kinds(rule, row.description)
    event_date = row.date
    notes: list[str] = []
    sources: list[str] = []
    for fix in fixes:
        if fix.field == "event_types":
            kinds = tuple(fix.value.split("+"))
            notes.append(f"type corrected ({fix.reason})")
            sources.append(fix.source)
        elif fix.field == "date":
            event_date = date.fromisoformat(fix.value)
            notes.append(f"CSIS date {row.date.isoformat()} corrected to the Korean local date")
            sources.append(fix.source)
    main = kinds[0]
    parts = []
    for kind in kinds:
        count = read_count(row.description, kind, main) if kind in COUNTED_TYPES else None
        part_notes = list(notes)
        if kind not in rule.types and kind in KIND_FROM_TEXT and not any(f.field == "event_types" for f in fixes):
            part_notes.insert(0, KIND_FROM_TEXT[kind])
        part_sources = list(sources)
        for fix in fixes:
            if fix.field == "count" and fix.event_type == kind:
                count = int(fix.value) if fix.value else None
                part_notes.append(f"count {'set' if fix.value else 'left unknown'} by correction ({fix.reason})")
                part_sources.append(fix.source)
        parts.append(_Part(row, rule, kind, event_date, count, part_notes, part_sources, split=len(kinds) > 1))
    return parts


def _event(eid: str, group: list[_Part]) -> EventRecord:
    first = group[0]
    counts = [p.count for p in group]
    count = sum(c for c in counts if c is not None) if all(c is not None for c in counts) else None
    references = []
    for part in group:
        for reference in [first_reference(part.row.resources), *part.sources]:
            if reference and reference not in references:
                references.append(reference)
    return EventRecord(
        id=eid,
        date=first.event_date,
        event_type=first.event_type,
        weapons_test=EVENT_TYPES[first.event_type].weapons_test_default,
        count=count if count else None,
        description=describe(group, count),
        source="; ".join([CSIS_CITATION, *references]),
    )


TYPE_PHRASES = {
    BM: "Ballistic missile launch",
    CM: "Cruise missile launch",
    HM: "Hypersonic missile launch",
    NT: "Underground nuclear test",
    SL: "Satellite launch attempt",
    ET: "Ground test of a rocket engine",
    AR: "Artillery or rocket-launcher fire",
    OW: "Weapons test",
    INC: "Incursion",
    HAR: "Harassment",
    CLASH: "Armed clash",
    ATT: "Attack",
    NUC: "Nuclear programme step",
    DRILL: "Military exercise or declaration",
}


def describe(group: list[_Part], count: int | None) -> str:
    """One sentence in our own words: the type, the count, the class named by the CSIS label."""
    first = group[0]
    kind = first.event_type
    text = TYPE_PHRASES[kind]
    if kind in COUNTED_TYPES:
        text += f", {count} fired" if count is not None else ", number fired not stated"
    details = []
    weapon = first.rule.weapon if first.rule.types and first.rule.types[0] == kind else ""
    if kind in (BM, HM) and first.rule.rockets:
        weapon = "600 mm rockets, which South Korea counts as short-range ballistic missiles"
    if weapon:
        details.append(f"class named by CSIS: {weapon}")
    labels: list[str] = []
    for part in group:
        if part.row.event not in labels:
            labels.append(part.row.event)
    details.append(f"CSIS label: {'; '.join(labels)}")
    if len(group) > 1:
        details.append(f"{len(group)} CSIS rows of the same day merged")
    if first.split:
        details.append("the CSIS row records more than one kind of event")
    for part in group:
        for note in part.notes:
            if note not in details:
                details.append(note)
    return f"{text} ({'; '.join(details)})."


def _accounting(
    rows: list[CsisRow],
    grouped: dict[str, list[_Part]],
    left_out: dict[int, str],
    split_rows: set[int],
    corrections: dict[int, list[CsisCorrection]],
) -> list[CsisAccounting]:
    firsts: dict[int, list[str]] = {}
    merged_into: dict[int, list[str]] = {}
    first_line: dict[str, int] = {}
    for eid, group in grouped.items():
        firsts.setdefault(group[0].row.line, []).append(eid)
        first_line[eid] = group[0].row.line
        for part in group[1:]:
            merged_into.setdefault(part.row.line, []).append(eid)
    result = []
    for row in rows:
        label = row.label
        if row.line in left_out:
            result.append(CsisAccounting(row.line, row.date, label, LEFT_OUT, (), left_out[row.line]))
            continue
        own = firsts.get(row.line, [])
        into = merged_into.get(row.line, [])
        ids = tuple(sorted(own + into))
        fixes = "".join(
            f"; corrected {c.field}" + (f" to {c.value}" if c.field == "date" else "")
            for c in corrections.get(row.line, [])
        )
        if own:
            reason = "two kinds on one row, two events" if row.line in split_rows else "one event"
            if into:
                reason += f"; merged into {', '.join(sorted(into))} for its other kind"
            result.append(CsisAccounting(row.line, row.date, label, MAPPED, ids, reason + fixes))
        else:
            firsts_of = ", ".join(f"line {first_line[eid]}" for eid in sorted(into))
            result.append(
                CsisAccounting(
                    row.line,
                    row.date,
                    label,
                    MERGED,
                    ids,
                    f"same date and type as the row on {firsts_of}; counts added when both are known" + fixes,
                )
            )
    return result


__all__ = [
    "CSIS_CITATION",
    "CSIS_COLUMNS",
    "CsisAccounting",
    "CsisCorrection",
    "CsisMapping",
    "CsisRow",
    "LABELS",
    "LabelRule",
    "count_phrases",
    "description_kinds",
    "first_reference",
    "map_csis_rows",
    "read_corrections_csv",
    "read_count",
    "read_csis_csv",
]
