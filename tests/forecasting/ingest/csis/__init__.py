"""Tests of the CSIS mapping, one module per module of forecasting/ingest/csis/, and their shared helpers."""

from __future__ import annotations

from datetime import date

import pytest

from forecasting.ingest.csis import CsisRow
from forecasting.ingest.curation import DEFAULT_CSIS_PATH

needs_reference = pytest.mark.skipif(
    not DEFAULT_CSIS_PATH.exists(),
    reason=f"CSIS reference file not found at {DEFAULT_CSIS_PATH} (shared/ beside the clone)",
)


def csis_row(line: int, day: str, kind: str, event: str, description: str = "", resources: str = "") -> CsisRow:
    return CsisRow(line, date.fromisoformat(day), kind, event, description, resources)
