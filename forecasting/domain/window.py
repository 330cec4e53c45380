"""Windows of days: the span a forecast is about, and the spec of a window around an election.

All window arithmetic lives here: a window is inclusive at both ends, so a
window from 1 to 3 March is three days long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class WindowSpec:
    """An election window: `days_before` the election day through `days_after` it, inclusive.

    It has no defaults of its own: the service's default window comes from settings
    (`Settings.default_window`), a model's election covariate from its own constant.
    """

    days_before: int
    days_after: int

    def __post_init__(self) -> None:
        if self.days_before < 0 or self.days_after < 0:
            raise ValueError("window days_before and days_after must be zero or more")

    @property
    def length(self) -> int:
        return self.days_before + self.days_after + 1

    def to_dict(self) -> dict[str, int]:
        return {"days_before": self.days_before, "days_after": self.days_after}

    def around(self, day: date) -> DateWindow:
        """The window of this spec around `day` (an election day)."""
        return DateWindow(day - timedelta(days=self.days_before), day + timedelta(days=self.days_after))


@dataclass(frozen=True)
class DateWindow:
    """The days `start` through `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end
