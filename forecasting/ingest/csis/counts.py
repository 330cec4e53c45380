"""Reading how many weapons a CSIS description says were fired.

A count phrase is [firing verb ... a/an] | [qualifier] NUMBER, up to five
modifier words, then a head noun naming what was fired ("fired around 10
short-range ballistic missiles"). Distances, calibres, times, launchers and
the fate of some of the weapons ("two missiles fell ...") are not counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forecasting.ingest.csis.description_rules import SAM_WORDS, sentences
from forecasting.ingest.csis.labels import AR, BM, CM, HM, OW

# The event types whose events carry a count of weapons fired.
COUNTED_TYPES = frozenset({BM, CM, HM, AR, OW})

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
# Words in a count phrase that make it count for cruise missiles or artillery, not the row's main kind
# (surface-to-air missiles: `SAM_WORDS`).
CRUISE_PHRASE = re.compile(r"cruise|surface-to-ship|ship-to-ship|anti-ship|anti-warship", re.I)
SHELL_PHRASE = re.compile(r"artillery|shells?\b|rounds\b|shots\b", re.I)
# "5 Scud missiles and 2 Nodong missiles": the second phrase adds to the first.
JOINER = re.compile(r"[\s,]*(?:and|as\s+well\s+as|plus)\s*", re.I)
# Matched against the lowercased text before the number: "the two missiles", "each of ...".
ANAPHORA = re.compile(r"\b(?:the|these|those|both|each|every|first|second|last)$")
LAUNCHER_WORDS = re.compile(r"\blaunchers?\b|\bsystems?\b", re.I)
KIND_OF_WEAPON = re.compile(r"new\b|type\b", re.I)


@dataclass(frozen=True)
class CountPhrase:
    sentence: int
    count: int
    kind_hint: str  # cruise_missile | other_weapon | artillery | "" (whatever the row's main kind is)
    also: bool
    joined: bool  # follows the previous phrase after "and"


def count_phrases(description: str) -> list[CountPhrase]:
    """Every statement of a number of fired weapons, in reading order."""
    found: list[CountPhrase] = []
    for index, sentence in enumerate(sentences(description)):
        previous_end: int | None = None
        for match in COUNT_PHRASE.finditer(sentence):
            joined = previous_end is not None and JOINER.fullmatch(sentence[previous_end : match.start()]) is not None
            if not _states_a_count(match, sentence, joined):
                continue
            lead = (match.group("lead") or "").lower()
            found.append(CountPhrase(index, _number(match), _kind_hint(match), "also" in lead.split(), joined))
            previous_end = match.end("noun")
    return found


def _states_a_count(match: re.Match[str], sentence: str, joined: bool) -> bool:
    number = match.group("number").lower()
    lead = match.group("lead")
    if number in ("a", "an") and not (lead or joined):
        return False  # "a missile" counts only right after a firing verb ("fired a missile")
    before = sentence[: match.start("number")].rstrip().lower()
    if ANAPHORA.search(before) and not lead:
        return False  # "the two missiles", "each of ...", "one of the ..."
    modifiers = match.group("modifiers") or ""
    if UNIT_WORDS.match(modifiers) or LAUNCHER_WORDS.search(modifiers):
        return False  # "600 mm rocket ...", "240 mm-caliber ... launcher shells"
    if number in ("a", "an") and KIND_OF_WEAPON.match(modifiers):
        return False  # "a new type of missile", "a new ... variant": a kind of weapon, not a count
    after = sentence[match.end("noun") :]
    if NOT_A_COUNT_AFTER_NOUN.match(after):
        return False  # "12 rocket launchers", "ballistic missile launchers"
    return not (FATE_AFTER_NOUN.match(after) and not lead)


def _number(match: re.Match[str]) -> int:
    number = match.group("number").lower()
    if number in ("a", "an"):
        return 1
    return NUMBER_WORDS[number] if number in NUMBER_WORDS else int(number)


def _kind_hint(match: re.Match[str]) -> str:
    phrase = (match.group("modifiers") or "") + " " + match.group("noun")
    if CRUISE_PHRASE.search(phrase):
        return CM
    if SAM_WORDS.search(phrase):
        return OW
    if SHELL_PHRASE.search(phrase):
        return AR
    return ""


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
