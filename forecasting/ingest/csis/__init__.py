"""Mapping from the CSIS "Database of North Korean Provocations" onto our event records.

The CSIS file (as scraped by github.com/stiles/north-korea-provocations) has one
row per reported provocation with a free-text `event` label. The package reads
such a file (`rows`), maps every (type, event) label pair onto the closed
vocabulary of `forecasting.domain.vocabulary` (`labels`), lets the description
decide the kind where the label is generic (`description_rules`), reads
missile counts out of the descriptions (`counts`), applies the sourced per-row
fixes of the corrections file (`corrections`), merges rows that fall on the
same day and type into cited events (`events`, `mapping`) and accounts for
every input row (`accounting`).
"""

from forecasting.ingest.csis.accounting import LEFT_OUT, MAPPED, MERGED, CsisAccounting, RowOutcome
from forecasting.ingest.csis.corrections import (
    CORRECTIONS_FILE_NAME,
    CorrectedField,
    CsisCorrection,
    read_corrections_csv,
)
from forecasting.ingest.csis.counts import count_phrases, read_count
from forecasting.ingest.csis.description_rules import description_kinds
from forecasting.ingest.csis.events import CSIS_CITATION, event_id, first_reference
from forecasting.ingest.csis.labels import LABELS, LabelRule
from forecasting.ingest.csis.mapping import CsisMapping, map_csis_rows
from forecasting.ingest.csis.rows import CSIS_COLUMNS, CsisRow, read_csis_csv

__all__ = [
    "CORRECTIONS_FILE_NAME",
    "CSIS_CITATION",
    "CSIS_COLUMNS",
    "LABELS",
    "LEFT_OUT",
    "MAPPED",
    "MERGED",
    "CorrectedField",
    "CsisAccounting",
    "CsisCorrection",
    "CsisMapping",
    "CsisRow",
    "LabelRule",
    "RowOutcome",
    "count_phrases",
    "description_kinds",
    "event_id",
    "first_reference",
    "map_csis_rows",
    "read_corrections_csv",
    "read_count",
    "read_csis_csv",
]
