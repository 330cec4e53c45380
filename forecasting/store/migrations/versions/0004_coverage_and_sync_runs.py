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

`forecast_ledger` gains the trailing-year rate's probability beside
climatology's (a forecast column, fixed once written) and its Brier score (an
outcome column, filled once), guarded by triggers of their own like 0003's.

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
# As in 0003 (frozen here too).
FORECAST_FIXED = "the forecast ledger is append-only: a recorded forecast is never changed"
OUTCOME_ONCE = "the forecast ledger is append-only: an outcome is filled once and never changed"


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

    op.add_column("forecast_ledger", sa.Column("trailing_year_probability_any", sa.Float(), nullable=True))
    op.add_column("forecast_ledger", sa.Column("trailing_year_brier", sa.Float(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION forecast_ledger_guard_0004() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.trailing_year_probability_any IS DISTINCT FROM OLD.trailing_year_probability_any THEN
                    RAISE EXCEPTION '{FORECAST_FIXED}' USING ERRCODE = '23001';
                END IF;
                IF OLD.trailing_year_brier IS NOT NULL AND NEW.trailing_year_brier IS DISTINCT FROM OLD.trailing_year_brier THEN
                    RAISE EXCEPTION '{OUTCOME_ONCE}' USING ERRCODE = '23001';
                END IF;
                RETURN NEW;
            END
            $$
        """)
        op.execute(
            "CREATE TRIGGER forecast_ledger_guard_0004 BEFORE UPDATE ON forecast_ledger "
            "FOR EACH ROW EXECUTE FUNCTION forecast_ledger_guard_0004()"
        )
    else:
        op.execute(
            "CREATE TRIGGER forecast_ledger_trailing_fixed BEFORE UPDATE ON forecast_ledger WHEN "
            "NEW.trailing_year_probability_any IS NOT OLD.trailing_year_probability_any "
            f"BEGIN SELECT RAISE(ABORT, '{FORECAST_FIXED}'); END"
        )
        op.execute(
            "CREATE TRIGGER forecast_ledger_trailing_once BEFORE UPDATE ON forecast_ledger WHEN "
            "OLD.trailing_year_brier IS NOT NULL AND NEW.trailing_year_brier IS NOT OLD.trailing_year_brier "
            f"BEGIN SELECT RAISE(ABORT, '{OUTCOME_ONCE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER forecast_ledger_guard_0004 ON forecast_ledger")
        op.execute("DROP FUNCTION forecast_ledger_guard_0004()")
    else:
        op.execute("DROP TRIGGER forecast_ledger_trailing_fixed")
        op.execute("DROP TRIGGER forecast_ledger_trailing_once")
    op.execute("ALTER TABLE forecast_ledger DROP COLUMN trailing_year_brier")
    op.execute("ALTER TABLE forecast_ledger DROP COLUMN trailing_year_probability_any")
    op.drop_index("ix_sync_runs_started_at", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("coverage")
    # Synced events have no place in the older schema; they go with it.
    op.execute("DELETE FROM events WHERE origin = 'sync'")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("ck_events_origin", type_="check")
        batch.create_check_constraint("ck_events_origin", OLD_ORIGINS)
