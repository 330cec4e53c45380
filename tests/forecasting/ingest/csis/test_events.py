"""Building events: each row's first reference in the source, and the description in our own words."""

from __future__ import annotations

import pytest

from forecasting.ingest.csis import first_reference, map_csis_rows
from tests.forecasting.ingest.csis import csis_row


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (
            "http://www.cnn.com/2016/08/02/asia/north-korea-missile/index.htmlVideo:https://www.youtube.com/x",
            "http://www.cnn.com/2016/08/02/asia/north-korea-missile/index.html",
        ),
        ("https://goo.gl/iXM6H4The US Military Experience in Korea 1871-1982, page 133.", "https://goo.gl/iXM6H4"),
        (
            'http://www.cnn.com/2003/nkorea.test/">http://www.cnn.com/2003/nkorea.test/',
            "http://www.cnn.com/2003/nkorea.test/",
        ),
        ("https://goo.gl/iSLDMz;http://www.nonproliferation.org/op2.pdf", "https://goo.gl/iSLDMz"),
        (
            "The US Military Experience in Korea 1871-1982, page 125.",
            "The US Military Experience in Korea 1871-1982, page 125.",
        ),
        ("", ""),
    ],
)
def test_first_reference(resources: str, expected: str) -> None:
    assert first_reference(resources) == expected


def test_the_description_names_type_count_class_and_label_in_our_words() -> None:
    rows = [
        csis_row(
            2,
            "2024-10-11",
            "Missile Provocation",
            "Intermediate-range Ballistic Missile Launch",
            "It fired two IRBMs.",
        )
    ]
    [event] = map_csis_rows(rows, "csis.csv").events
    assert event.description == (
        "Ballistic missile launch, 2 fired (class named by CSIS: intermediate-range ballistic missile; "
        "CSIS label: Intermediate-range Ballistic Missile Launch)."
    )
