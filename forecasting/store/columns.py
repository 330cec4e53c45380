"""Column types the tables share, and the one conversion from a row to the dataclass it stands for."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

E = TypeVar("E", bound=StrEnum)
D = TypeVar("D", bound="DataclassInstance")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A `DateTime(timezone=True)` column that stores UTC and reads back timezone-aware UTC on every backend.

    SQLite keeps no offset (it hands back naive datetimes, written here in UTC); PostgreSQL hands back the
    session's time zone. A naive datetime written is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)


def as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class StrEnumColumn(TypeDecorator[E]):
    """A `String(length)` column holding the members of a StrEnum: written as their text, read back as members."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(self.enum(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def as_dataclass(cls: type[D], row: object, **overrides: Any) -> D:
    """The dataclass `cls` with each field read from the row's attribute of the same name (unless overridden)."""
    values = {f.name: getattr(row, f.name) for f in fields(cls) if f.init and f.name not in overrides}
    return cls(**values, **overrides)
