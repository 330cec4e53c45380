"""Model registry, retraining jobs and the retrain lock.

`model_versions` holds every trained model set (artifact as JSON text with its
sha256); a partial unique index lets at most one row be active. `jobs` records
background retrains (at most one queued or running per kind, by another
partial unique index). `locks` holds named cross-process locks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        _moment("created_at", nullable=False),
        _moment("promoted_at"),
        _moment("retired_at"),
        sa.Column("data_cutoff", sa.Date(), nullable=False),
        sa.Column("data_hash", sa.String(64), nullable=False),
        _moment("trained_at", nullable=False),
        sa.Column("default_model", sa.String(40), nullable=False),
        sa.Column("effect_model", sa.String(40), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("artifact", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_bytes", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(40), nullable=True),
        sa.CheckConstraint("status IN ('candidate', 'active', 'retired')", name="ck_model_versions_status"),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
    )
    op.create_index(
        "uq_model_versions_one_active", "model_versions", ["status"], unique=True,
        sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"),
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        _moment("created_at", nullable=False),
        _moment("started_at"),
        _moment("finished_at"),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("version_id", sa.String(40), nullable=True),
        sa.Column("promoted", sa.Boolean(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="ck_jobs_status"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index(
        "uq_jobs_one_in_flight", "jobs", ["kind"], unique=True,
        sqlite_where=sa.text("status IN ('queued', 'running')"),
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )

    op.create_table(
        "locks",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(300), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.String(40), nullable=True),
        _moment("acquired_at"),
        _moment("heartbeat_at"),
        _moment("expires_at"),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )


def downgrade() -> None:
    op.drop_table("locks")
    op.drop_index("uq_jobs_one_in_flight", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("uq_model_versions_one_active", table_name="model_versions")
    op.drop_table("model_versions")
