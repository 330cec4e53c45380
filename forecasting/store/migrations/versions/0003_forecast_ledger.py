"""The forecast ledger: every published election-window forecast, scored once its window has closed.

`forecast_ledger` is append-only, and the database itself enforces it (not
just the code): triggers on SQLite and PostgreSQL refuse every DELETE (and
TRUNCATE on PostgreSQL), every UPDATE that changes a forecast column, and
every UPDATE that changes an outcome column that is already filled. Scoring
is the one UPDATE that passes: it fills outcome columns that are still NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not read from the models) so that this revision never changes meaning.
FORECAST_COLUMNS = (
    "id", "version_id", "election_id", "election_date", "country", "kind", "window_start", "window_end",
    "event_group", "model", "data_cutoff", "probability_any", "expected_count", "lower_80", "upper_80",
    "lower_95", "upper_95", "climatology_probability_any", "election_effect", "election_effect_lower",
    "election_effect_upper", "recorded_at",
)
OUTCOME_COLUMNS = (
    "observed_count", "brier", "log_loss", "climatology_brier", "climatology_log_loss", "inside_80", "inside_95",
    "history_end", "scored_at",
)
NO_DELETE = "the forecast ledger is append-only: its entries are never deleted"
FORECAST_FIXED = "the forecast ledger is append-only: a recorded forecast is never changed"
OUTCOME_ONCE = "the forecast ledger is append-only: an outcome is filled once and never changed"


def upgrade() -> None:
    op.create_table(
        "forecast_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(40), nullable=False),
        sa.Column("election_id", sa.String(100), nullable=False),
        sa.Column("election_date", sa.Date(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("event_group", sa.String(20), nullable=False),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("data_cutoff", sa.Date(), nullable=False),
        sa.Column("probability_any", sa.Float(), nullable=False),
        sa.Column("expected_count", sa.Float(), nullable=False),
        sa.Column("lower_80", sa.Integer(), nullable=False),
        sa.Column("upper_80", sa.Integer(), nullable=False),
        sa.Column("lower_95", sa.Integer(), nullable=False),
        sa.Column("upper_95", sa.Integer(), nullable=False),
        sa.Column("climatology_probability_any", sa.Float(), nullable=False),
        sa.Column("election_effect", sa.Float(), nullable=True),
        sa.Column("election_effect_lower", sa.Float(), nullable=True),
        sa.Column("election_effect_upper", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed_count", sa.Integer(), nullable=True),
        sa.Column("brier", sa.Float(), nullable=True),
        sa.Column("log_loss", sa.Float(), nullable=True),
        sa.Column("climatology_brier", sa.Float(), nullable=True),
        sa.Column("climatology_log_loss", sa.Float(), nullable=True),
        sa.Column("inside_80", sa.Boolean(), nullable=True),
        sa.Column("inside_95", sa.Boolean(), nullable=True),
        sa.Column("history_end", sa.Date(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["model_versions.id"], name="fk_forecast_ledger_version_id_model_versions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_forecast_ledger"),
        sa.UniqueConstraint(
            "version_id", "election_id", "window_start", "window_end", "event_group", name="uq_forecast_ledger_entry"
        ),
    )
    op.create_index("ix_forecast_ledger_version_id", "forecast_ledger", ["version_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_guards()
    else:
        _sqlite_guards()


def _sqlite_guards() -> None:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FORECAST_COLUMNS)
    refilled = " OR ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in OUTCOME_COLUMNS)
    op.execute(
        "CREATE TRIGGER forecast_ledger_no_delete BEFORE DELETE ON forecast_ledger "
        f"BEGIN SELECT RAISE(ABORT, '{NO_DELETE}'); END"
    )
    op.execute(
        f"CREATE TRIGGER forecast_ledger_forecast_fixed BEFORE UPDATE ON forecast_ledger WHEN {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{FORECAST_FIXED}'); END"
    )
    op.execute(
        f"CREATE TRIGGER forecast_ledger_outcome_once BEFORE UPDATE ON forecast_ledger WHEN {refilled} "
        f"BEGIN SELECT RAISE(ABORT, '{OUTCOME_ONCE}'); END"
    )


def _postgresql_guards() -> None:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FORECAST_COLUMNS)
    refilled = " OR ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in OUTCOME_COLUMNS)
    # SQLSTATE 23001 (restrict_violation): an integrity error, like SQLite's RAISE(ABORT).
    op.execute(f"""
        CREATE FUNCTION forecast_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
                RAISE EXCEPTION '{NO_DELETE}' USING ERRCODE = '23001';
            END IF;
            IF {changed} THEN
                RAISE EXCEPTION '{FORECAST_FIXED}' USING ERRCODE = '23001';
            END IF;
            IF {refilled} THEN
                RAISE EXCEPTION '{OUTCOME_ONCE}' USING ERRCODE = '23001';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute(
        "CREATE TRIGGER forecast_ledger_guard_rows BEFORE UPDATE OR DELETE ON forecast_ledger "
        "FOR EACH ROW EXECUTE FUNCTION forecast_ledger_guard()"
    )
    op.execute(
        "CREATE TRIGGER forecast_ledger_guard_truncate BEFORE TRUNCATE ON forecast_ledger "
        "FOR EACH STATEMENT EXECUTE FUNCTION forecast_ledger_guard()"
    )


def downgrade() -> None:
    # Dropping the table drops its triggers too; the PostgreSQL function goes after them.
    op.drop_index("ix_forecast_ledger_version_id", table_name="forecast_ledger")
    op.drop_table("forecast_ledger")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION forecast_ledger_guard()")
