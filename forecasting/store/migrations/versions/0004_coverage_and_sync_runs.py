"""Coverage per source and sync runs; events may come from a sync (origin `sync`).

`coverage` records, per source, the date through which the store's history is
complete; the history's data cutoff is the latest of them. An existing store
is migrated by giving the seeds' snapshot the coverage it always had in
effect: the last day of its `seed` events. Events users added or imported
before this revision vouch for nothing (a manual event never extends
coverage); a curator who knows an import was complete says so with
`provocast coverage set --through DATE`.

`sync_runs` records every `provocast events sync`: what was fetched, what it
did to the store, how it ended.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ORIGINS = "origin IN ('seed', 'import', 'manual')"
NEW_ORIGINS = "origin IN ('seed', 'sync', 'import', 'manual')"


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("ck_events_origin", type_="check")
        batch.create_check_constraint("ck_events_origin", NEW_ORIGINS)

    op.create_table(
        "coverage",
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('seed', 'sync', 'import', 'curator')", name="ck_coverage_source"),
        sa.PrimaryKeyConstraint("source", name="pk_coverage"),
    )
    op.execute(
        "INSERT INTO coverage (source, through, detail, updated_at) "
        "SELECT 'seed', MAX(date), 'the last day of the seeded events (migration 0004)', CURRENT_TIMESTAMP "
        "FROM events WHERE origin = 'seed' HAVING COUNT(*) > 0"
    )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("rows_new", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_removed", sa.Integer(), nullable=False),
        sa.Column("rows_redated", sa.Integer(), nullable=False),
        sa.Column("covered_through", sa.Date(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('changed', 'unchanged', 'not_modified', 'refused', 'failed')", name="ck_sync_runs_outcome"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_started_at", "sync_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_sync_runs_started_at", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("coverage")
    # Synced events have no place in the older schema; they go with it.
    op.execute("DELETE FROM events WHERE origin = 'sync'")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("ck_events_origin", type_="check")
        batch.create_check_constraint("ck_events_origin", OLD_ORIGINS)
