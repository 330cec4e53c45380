"""Events are indexed on (date, id), the order the API pages them in, instead of on date alone.

With date alone, a page of events newest first sorted every row sharing the page's dates on each request: many
events on one date (a bulk import, a busy day) made every page slower and SQLite's sorter hold more memory.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_date_id", "events", ["date", "id"])
    op.drop_index("ix_events_date", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_date", "events", ["date"])
    op.drop_index("ix_events_date_id", table_name="events")
