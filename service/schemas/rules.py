"""The input rules the OpenAPI document states, each built from the definition it states.

- `IsoDate`: a date written YYYY-MM-DD and nothing else (pydantic alone reads `0` as 1970-01-01).
- `EventTypeName`: an event type or group, or several joined by commas; the pattern lists the vocabulary
  (`EventGroup` and `EVENT_TYPES`), so it follows whatever the vocabulary holds.
- `SAFE_TEXT`: free text with a visible character and no control or bidirectional formatting characters
  (`forecasting.domain.safety`).

The domain still does the checking (its messages name the field and the allowed values); these only make the
document say what it checks, and refuse what pydantic would otherwise coerce.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from forecasting.domain.records import ID_PATTERN
from forecasting.domain.safety import SAFE_TEXT_PATTERN
from forecasting.domain.vocabulary import EVENT_TYPES, EventGroup, ModelName

# The largest page PROVOCAST_MAX_PAGE_SIZE may set; the served document states the configured one.
PAGE_SIZE_CEILING = 10_000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*(str(group) for group in EventGroup), *EVENT_TYPES]))
_ONE_NAME = "(?:" + "|".join(re.escape(name) for name in EVENT_TYPE_NAMES) + ")"
EVENT_TYPES_PATTERN = f"^ *{_ONE_NAME} *(?:, *{_ONE_NAME} *)*$"
MODEL_NAMES: tuple[str, ...] = tuple(str(name) for name in ModelName)
VOCABULARY_NOTE = f"Event types: {', '.join(EVENT_TYPES)}; groups: {', '.join(str(g) for g in EventGroup)}."


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)")
    if isinstance(value, (int, float)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
EventTypeName = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": EVENT_TYPES_PATTERN, "description": "A type or group; several joined by commas."}
    ),
]
SAFE_TEXT: dict[str, Any] = {"pattern": SAFE_TEXT_PATTERN, "minLength": 1}
EVENT_ID: dict[str, Any] = {"pattern": ID_PATTERN.pattern}
