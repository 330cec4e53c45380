"""Election bodies: the calendar, one election's forecast, and every upcoming election's."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from service.schemas.forecasts import Forecast


class Election(BaseModel):
    """Built from an ElectionRecord (`Election.model_validate(record)`)."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["kr-legislative-2028-04-12"])
    date: dt.date
    country: Literal["KR", "US"]
    kind: str = Field(examples=["legislative"])
    announced: dt.date | None = Field(None, description="When a snap election's date became known.")
    source: str

    @computed_field(examples=["/v1/elections/kr-legislative-2028-04-12/forecast"])  # type: ignore[prop-decorator]
    @property
    def forecast_url(self) -> str:
        return f"/v1/elections/{self.id}/forecast"


class ElectionList(BaseModel):
    total: int
    items: list[Election]


class ElectionForecast(BaseModel):
    election: Election
    days_before: int
    days_after: int
    forecast: Forecast


class UpcomingItem(BaseModel):
    election: Election
    forecast: Forecast | None
    unavailable: str | None = Field(
        None, description="Why there is no forecast for this election (e.g. beyond the horizon)."
    )


class UpcomingForecasts(BaseModel):
    version: str
    data_cutoff: dt.date
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    days_before: int
    days_after: int
    items: list[UpcomingItem]

    model_config = ConfigDict(populate_by_name=True)
