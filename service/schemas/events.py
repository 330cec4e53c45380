"""Event bodies: a stored event, a page of them, and a new one."""

from __future__ import annotations

import datetime as dt

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field

from forecasting.domain.safety import EARLIEST_EVENT_DATE
from forecasting.domain.vocabulary import EVENT_TYPES
from service.schemas.rules import EVENT_ID, SAFE_TEXT


def _of_record(name: str) -> AliasChoices:
    """A field of the StoredEvent's record (`stored.record.<name>`), or of a plain dict."""
    return AliasChoices(AliasPath("record", name), name)


class Event(BaseModel):
    """Built from a StoredEvent (`Event.model_validate(stored)`): the record's fields and how it was stored."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["2017-09-03-nuclear_test"], validation_alias=_of_record("id"))
    date: dt.date = Field(validation_alias=_of_record("date"))
    event_type: str = Field(examples=["nuclear_test"], validation_alias=_of_record("event_type"))
    weapons_test: bool = Field(validation_alias=_of_record("weapons_test"))
    count: int | None = Field(validation_alias=_of_record("count"))
    description: str = Field(validation_alias=_of_record("description"))
    source: str = Field(validation_alias=_of_record("source"))
    origin: str = Field(examples=["seed"], description="seed, import or manual")
    created_at: dt.datetime
    updated_at: dt.datetime


class EventPage(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[Event]


class EventIn(BaseModel):
    """A new event, validated exactly as `provocast events add` validates it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "date": "2026-09-15",
                    "event_type": "cruise_missile",
                    "count": 2,
                    "description": "Two strategic cruise missiles fired over the Yellow Sea.",
                    "source": "https://example.org/report-of-the-launch",
                }
            ]
        },
    )

    id: str | None = Field(
        None, max_length=100, description="Defaults to DATE-TYPE, the seeds' id scheme.", json_schema_extra=EVENT_ID
    )
    date: str = Field(
        max_length=20,
        description=f"Local date in Korea, YYYY-MM-DD, from {EARLIEST_EVENT_DATE} to tomorrow.",
        json_schema_extra={"pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"},
    )
    event_type: str = Field(max_length=40, json_schema_extra={"enum": list(EVENT_TYPES)})
    weapons_test: bool | None = Field(None, description="Defaults from the event type.")
    count: int | None = Field(
        None,
        description="How many launches or shots; omit when unknown.",
        json_schema_extra={"minimum": 1, "maximum": 1000},
    )
    description: str = Field(
        max_length=4000, description="No control or bidirectional formatting characters.", json_schema_extra=SAFE_TEXT
    )
    source: str = Field(max_length=4000, description="URL or citation.", json_schema_extra=SAFE_TEXT)

    def as_row(self, weapons_default: bool) -> dict[str, str]:
        """The CSV-shaped row `forecasting.domain.records.event_from_row` validates (as the CLI builds it)."""
        return {
            "id": self.id if self.id is not None else f"{self.date.strip()}-{self.event_type.strip()}",
            "date": self.date,
            "event_type": self.event_type,
            "weapons_test": str(weapons_default if self.weapons_test is None else self.weapons_test),
            "count": "" if self.count is None else str(self.count),
            "description": self.description,
            "source": self.source,
        }
