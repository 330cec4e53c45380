"""History tables: events, elections, exercises.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("weapons_test", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("origin IN ('seed', 'import', 'manual')", name="ck_events_origin"),
        sa.CheckConstraint("count IS NULL OR count >= 1", name="ck_events_count_positive"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_date", "events", ["date"])
    op.create_index("ix_events_event_type", "events", ["event_type"])

    op.create_table(
        "elections",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("announced", sa.Date(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_elections"),
    )
    op.create_index("ix_elections_date", "elections", ["date"])

    op.create_table(
        "exercises",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("end_date >= start_date", name="ck_exercises_dates_ordered"),
        sa.PrimaryKeyConstraint("id", name="pk_exercises"),
    )
    op.create_index("ix_exercises_start_date", "exercises", ["start_date"])


def downgrade() -> None:
    op.drop_table("exercises")
    op.drop_table("elections")
    op.drop_table("events")
