"""A served forecast as plain data: the one shape the CLI's `--json` and the API's responses share.

The API's pydantic `Forecast` schema validates exactly this dict, so the two
cannot drift apart; the summary sentence is written here for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from forecasting.serving.forecaster import ServedForecast


@dataclass(frozen=True)
class Freshness:
    """How old a forecast's history is on a given day: the one place a forecast body depends on today's date.

    `history_through` is the coverage date the version learned from (its data
    cutoff); past `stale_after_days` (PROVOCAST_STALE_AFTER_DAYS) the body
    carries a note saying so. Bodies are memoised per (question, Freshness).
    """

    today: date
    stale_after_days: int

    def age_days(self, history_through: date) -> int:
        return (self.today - history_through).days

    def is_stale(self, history_through: date) -> bool:
        return self.age_days(history_through) > self.stale_after_days

    def note(self, history_through: date) -> str | None:
        if not self.is_stale(history_through):
            return None
        return (
            f"the history this forecast learned from is complete through {history_through}, "
            f"{self.age_days(history_through)} days before today (more than {self.stale_after_days}): "
            "events since then are not in it"
        )


WHAT_IS_COUNTED = {
    "weapons": "weapons test",
    "missiles": "missile launch",
    "ballistic": "ballistic missile launch",
    "cruise": "cruise missile launch",
    "nuclear": "nuclear test",
    "satellite": "satellite launch",
    "artillery": "artillery firing",
}

SKILL_FIELDS = (
    "model",
    "horizon_days",
    "election_windows",
    "brier",
    "brier_skill_vs_climatology",
    "brier_skill_vs_trailing_year",
    "log_loss",
    "climatology_log_loss",
    "coverage_80",
    "coverage_95",
)


def forecast_payload(served: ServedForecast, freshness: Freshness) -> dict[str, Any]:
    """Every field of a forecast response, with probabilities and counts rounded to six places."""
    effect = served.election_effect
    stale = freshness.note(served.data_cutoff)
    return {
        "version": served.version or "",
        "data_cutoff": served.data_cutoff.isoformat(),
        "history_through": served.data_cutoff.isoformat(),
        "history_age_days": freshness.age_days(served.data_cutoff),
        "model": served.model,
        "event_group": served.event_group,
        "event_types": list(served.event_types),
        "window": {"start": served.start.isoformat(), "end": served.end.isoformat(), "days": window_days(served)},
        "horizon_days": served.horizon_days,
        "probability_any": round(served.probability_any, 6),
        "expected_count": round(served.expected_count, 6),
        "intervals": [{"level": i.level, "lower": i.lower, "upper": i.upper} for i in served.intervals],
        "climatology_probability_any": round(served.baseline_probability_any, 6),
        "election_effect": {
            "ratio": _rounded(effect.ratio),
            "lower": _rounded(effect.lower),
            "upper": _rounded(effect.upper),
            "expected_count_without_election": _rounded(effect.expected_count_without_election),
            "probability_any_without_election": _rounded(effect.probability_any_without_election),
            "model": served.effect_model,
            "note": effect.note,
        },
        "skill": None if served.skill is None else {name: getattr(served.skill, name) for name in SKILL_FIELDS},
        "summary": forecast_summary(served),
        "notes": list(served.notes) + ([stale] if stale else []),
        "daily": [
            {
                "date": d.day.isoformat(),
                "expected_count": round(d.expected_count, 6),
                "probability_any": round(d.probability_any, 6),
            }
            for d in served.daily
        ],
        "samples": served.samples,
    }


def window_days(served: ServedForecast) -> int:
    return (served.end - served.start).days + 1


def forecast_summary(served: ServedForecast) -> str:
    """The forecast in one plain sentence, with its baseline, effect and skill."""
    wide = next((i for i in served.intervals if abs(i.level - 0.8) < 1e-9), served.intervals[0])
    counted = WHAT_IS_COUNTED.get(served.event_group, f"{served.event_group} event")
    text = (
        f"{served.probability_any:.0%} chance of at least one {counted} in the {window_days(served)} days "
        f"{served.start}..{served.end} (climatology: {served.baseline_probability_any:.0%}); "
        f"expected {served.expected_count:.1f} event days (80% interval {wide.lower}-{wide.upper})"
    )
    effect = served.election_effect
    if effect.ratio is not None:
        spread = (
            f", 95% interval {effect.lower:.2f}-{effect.upper:.2f}"
            if effect.lower is not None and effect.upper is not None
            else ""
        )
        text += (
            f"; the election calendar makes the expected count {effect.ratio:.2f} times what it would be "
            f"without elections ({served.effect_model}{spread})"
        )
    skill = served.skill
    if skill is not None and skill.brier_skill_vs_climatology is not None:
        text += (
            f". Backtest Brier skill vs climatology: {skill.brier_skill_vs_climatology:+.2f} "
            f"on {skill.election_windows} election windows"
        )
    return text + "."


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
