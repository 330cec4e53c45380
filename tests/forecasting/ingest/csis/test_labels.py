"""The label table: every pair maps onto the vocabulary or is left out with a reason; no dead entries."""

from __future__ import annotations

from forecasting.domain.vocabulary import EVENT_TYPES
from forecasting.ingest.csis import LABELS, read_csis_csv
from forecasting.ingest.curation import DEFAULT_CSIS_PATH
from tests.forecasting.ingest.csis import needs_reference


def test_every_label_maps_onto_the_vocabulary_or_is_left_out_with_a_reason() -> None:
    for key, rule in LABELS.items():
        assert all(t in EVENT_TYPES for t in rule.types), key
        assert rule.types or rule.left_out, key


@needs_reference
def test_every_label_pair_of_the_reference_file_is_in_the_table() -> None:
    pairs = {(r.type, r.event) for r in read_csis_csv(DEFAULT_CSIS_PATH)}
    assert pairs <= set(LABELS)
    assert len(pairs) == len(LABELS)  # no dead entries either
