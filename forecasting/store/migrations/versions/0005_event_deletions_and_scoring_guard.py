"""Deleted events are kept in an audit table; the ledger's outcome columns take only what scoring writes.

- `event_deletions`: one row per deleted event (who, when, the row as it was, as JSON). Append-only: triggers
  refuse every UPDATE and DELETE (and TRUNCATE on PostgreSQL).
- `forecast_ledger`: a new entry carries no outcome (every outcome column NULL), and an outcome is written whole,
  once, as scoring writes it: every column filled, the history covering the window, `inside_80`/`inside_95`
  agreeing with the observed count, and both Brier scores agreeing with the probabilities and the count. An open
  entry's outcome can no longer be pre-filled or made up.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, as in 0003, so that this revision never changes meaning.
OUTCOME_COLUMNS = (
    "observed_count", "brier", "log_loss", "climatology_brier", "climatology_log_loss", "inside_80", "inside_95",
    "history_end", "scored_at",
)
AUDIT_FIXED = "the event deletion audit is append-only: its rows are never changed or deleted"
NO_PREFILL = "the forecast ledger: a new entry carries no outcome; outcomes are written by scoring only"
SCORING_SHAPE = (
    "the forecast ledger: an outcome is written by scoring only, whole, once the history covers the window, "
    "agreeing with the forecast and the observed count"
)
# Scoring rounds the Brier scores to six decimals.
TOLERANCE = "0.00001"


def _scoring_shape(new: str = "NEW") -> str:
    """The SQL condition an outcome written by scoring meets (both dialects)."""
    happened = f"(CASE WHEN {new}.observed_count > 0 THEN 1.0 ELSE 0.0 END)"
    filled = " AND ".join(f"{new}.{c} IS NOT NULL" for c in OUTCOME_COLUMNS)
    return (
        f"({filled} AND {new}.observed_count >= 0 AND {new}.history_end >= {new}.window_end"
        f" AND {new}.inside_80 = ({new}.observed_count BETWEEN {new}.lower_80 AND {new}.upper_80)"
        f" AND {new}.inside_95 = ({new}.observed_count BETWEEN {new}.lower_95 AND {new}.upper_95)"
        f" AND abs({new}.brier - ({new}.probability_any - {happened}) * ({new}.probability_any - {happened}))"
        f" <= {TOLERANCE}"
        f" AND abs({new}.climatology_brier - ({new}.climatology_probability_any - {happened})"
        f" * ({new}.climatology_probability_any - {happened})) <= {TOLERANCE})"
    )


def upgrade() -> None:
    op.create_table(
        "event_deletions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_by", sa.String(300), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_deletions"),
    )
    op.create_index("ix_event_deletions_event_id", "event_deletions", ["event_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_guards()
    else:
        _sqlite_guards()


def _sqlite_guards() -> None:
    any_outcome = " OR ".join(f"NEW.{c} IS NOT NULL" for c in OUTCOME_COLUMNS)
    any_change = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in OUTCOME_COLUMNS)
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER event_deletions_no_{verb.lower()} BEFORE {verb} ON event_deletions "
            f"BEGIN SELECT RAISE(ABORT, '{AUDIT_FIXED}'); END"
        )
    op.execute(
        f"CREATE TRIGGER forecast_ledger_no_prefill BEFORE INSERT ON forecast_ledger WHEN {any_outcome} "
        f"BEGIN SELECT RAISE(ABORT, '{NO_PREFILL}'); END"
    )
    op.execute(
        "CREATE TRIGGER forecast_ledger_scoring_shape BEFORE UPDATE ON forecast_ledger "
        f"WHEN ({any_change}) AND NOT COALESCE({_scoring_shape()}, 0) "
        f"BEGIN SELECT RAISE(ABORT, '{SCORING_SHAPE}'); END"
    )


def _postgresql_guards() -> None:
    any_outcome = " OR ".join(f"NEW.{c} IS NOT NULL" for c in OUTCOME_COLUMNS)
    any_change = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in OUTCOME_COLUMNS)
    # SQLSTATE 23001 (restrict_violation), as in 0003: an integrity error.
    op.execute(f"""
        CREATE FUNCTION event_deletions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{AUDIT_FIXED}' USING ERRCODE = '23001';
        END
        $$
    """)
    op.execute(
        "CREATE TRIGGER event_deletions_guard_rows BEFORE UPDATE OR DELETE ON event_deletions "
        "FOR EACH ROW EXECUTE FUNCTION event_deletions_guard()"
    )
    op.execute(
        "CREATE TRIGGER event_deletions_guard_truncate BEFORE TRUNCATE ON event_deletions "
        "FOR EACH STATEMENT EXECUTE FUNCTION event_deletions_guard()"
    )
    op.execute(f"""
        CREATE FUNCTION forecast_ledger_outcome_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' AND ({any_outcome}) THEN
                RAISE EXCEPTION '{NO_PREFILL}' USING ERRCODE = '23001';
            END IF;
            IF TG_OP = 'UPDATE' AND ({any_change}) AND NOT COALESCE({_scoring_shape()}, FALSE) THEN
                RAISE EXCEPTION '{SCORING_SHAPE}' USING ERRCODE = '23001';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute(
        "CREATE TRIGGER forecast_ledger_outcome_rows BEFORE INSERT OR UPDATE ON forecast_ledger "
        "FOR EACH ROW EXECUTE FUNCTION forecast_ledger_outcome_guard()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER forecast_ledger_outcome_rows ON forecast_ledger")
        op.execute("DROP FUNCTION forecast_ledger_outcome_guard()")
    else:
        op.execute("DROP TRIGGER forecast_ledger_no_prefill")
        op.execute("DROP TRIGGER forecast_ledger_scoring_shape")
    op.drop_index("ix_event_deletions_event_id", table_name="event_deletions")
    op.drop_table("event_deletions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION event_deletions_guard()")
