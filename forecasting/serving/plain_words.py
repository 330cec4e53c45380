"""Numbers in plain words, for readers who have never met a Brier score.

Used by the dashboard, the ledger's summaries and the CLI, so that every
place says the same thing about the same number.
"""

from __future__ import annotations


def percent(probability: float) -> str:
    """0.9234 -> '92%' (never '100%' or '0%' for a forecast that is not certain)."""
    value = round(probability * 100)
    if value >= 100 and probability < 1:
        return ">99%"
    if value <= 0 and probability > 0:
        return "<1%"
    return f"{value}%"


def chance(probability: float) -> str:
    """A probability as odds a person can picture: '9 in 10', '1 in 4', '19 in 20'."""
    if probability >= 0.995:
        return "almost certain"
    if probability <= 0.005:
        return "almost no chance"
    if probability > 0.85:
        against = round(1 / (1 - probability))
        return f"about {against - 1} in {against}"
    if probability < 0.15:
        return f"about 1 in {round(1 / probability)}"
    return f"about {round(probability * 10)} in 10"


def compared_with_usual(probability: float, usual: float) -> str:
    """How a forecast compares with climatology's (the long-run seasonal rate) for the same window."""
    difference = probability - usual
    if abs(difference) < 0.05:
        return f"about as likely as in an ordinary window of the same length and season ({percent(usual)})"
    word = "more" if difference > 0 else "less"
    return f"{word} likely than in an ordinary window of the same length and season ({percent(usual)})"


def election_effect(ratio: float | None, lower: float | None, upper: float | None) -> str:
    """What the election effect (expected count with the election over without it) says, without repeating it."""
    if ratio is None:
        return "this model has no election term, so it cannot say whether the election matters"
    if lower is not None and upper is not None and lower <= 1 <= upper:
        return (
            f"the election itself makes no clear difference: anything from {lower:.2f} to {upper:.2f} times as many "
            "tests as without it fits the data"
        )
    if lower is None or upper is None:
        return f"the model puts the election's effect at {ratio:.2f} times, without an interval to say how sure that is"
    word = "more" if ratio >= 1 else "fewer"
    return f"{word} tests than there would be without the election: {lower:.2f} to {upper:.2f} times as many"


def skill(brier_skill: float | None) -> str:
    """A Brier skill score against climatology, in words."""
    if brier_skill is None:
        return "its skill is not known"
    if abs(brier_skill) < 0.02:
        return "its past forecasts were about as accurate as simply using the long-run seasonal rate"
    word = "more" if brier_skill > 0 else "less"
    return (
        f"its past forecasts were {abs(brier_skill):.0%} {word} accurate than simply using the long-run seasonal rate "
        "(by the Brier score, the mean squared error of the probability)"
    )


def interval(lower: int, upper: int, level: float) -> str:
    """An interval of a count: 'between 1 and 10 test days (80% of simulations)'."""
    if lower == upper:
        return f"{lower} test days in {level:.0%} of simulations"
    return f"between {lower} and {upper} test days in {level:.0%} of simulations"
