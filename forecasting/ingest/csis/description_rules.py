"""The explicit rules that let a row's description decide its event type(s).

- Generic launch labels (short-range / ballistic of unknown type) become a
  cruise missile when the text names cruise or surface-to-ship missiles, an
  `other_weapon` when it names surface-to-air missiles, and gain an
  `artillery` event when it names artillery shells/rounds fired the same day.
- Artillery and rocket-launcher labels become `ballistic_missile` when the
  text names 600 mm / "super-large" rockets (KN-25), which South Korea's JCS
  counts as short-range ballistic missiles.
- Any ballistic label becomes `hypersonic_missile` when the text says the
  weapon was announced or assessed as hypersonic.

A hedged sentence ("could", "possibly", "speculating", ...) never triggers a rule.
"""

from __future__ import annotations

import re

from forecasting.ingest.csis.labels import AR, BM, CM, HM, OW, LabelRule

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
