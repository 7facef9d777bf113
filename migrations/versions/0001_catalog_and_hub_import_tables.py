"""Catalog (GPUs, models, archived model configs) and Hub import bookkeeping tables.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gpus",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vendor", sa.String(length=64), nullable=False),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=False),
        sa.Column("nominal_memory_gb", sa.Double(), nullable=True),
        sa.Column("memory_bandwidth_bytes_per_s", sa.Double(), nullable=False),
        sa.Column("dense_tflops_bf16", sa.Double(), nullable=False),
        sa.Column("dense_tflops_fp16", sa.Double(), nullable=False),
        sa.Column("dense_tflops_fp8", sa.Double(), nullable=True),
        sa.Column("dense_tops_int8", sa.Double(), nullable=True),
        sa.Column("dense_tflops_fp4", sa.Double(), nullable=True),
        sa.Column("interconnect", sa.String(length=200), nullable=False),
        sa.Column("interconnect_bandwidth_bytes_per_s", sa.Double(), nullable=False),
        sa.Column("max_gpus_per_node", sa.Integer(), nullable=False),
        sa.Column("tdp_watts", sa.Double(), nullable=True),
        sa.Column("price_per_hour_usd", sa.Double(), nullable=True),
        sa.Column(
            "sources",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("origin IN ('seed', 'operator', 'hub')", name=op.f("ck_gpus_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpus")),
    )
    op.create_index(op.f("ix_gpus_vendor"), "gpus", ["vendor"], unique=False)
    op.create_table(
        "hub_sweep_state",
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("author", name=op.f("pk_hub_sweep_state")),
    )
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("repo_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_import_jobs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index(
        "ix_import_jobs_status_next_attempt_at",
        "import_jobs",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "architecture",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("total_params", sa.BigInteger(), nullable=False),
        sa.Column("active_params", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=True),
        sa.Column("hub_safetensors_total", sa.BigInteger(), nullable=True),
        sa.Column(
            "hub_parameter_counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("quantization", sa.String(length=64), nullable=True),
        sa.Column("gated", sa.Boolean(), nullable=False),
        sa.Column("published_total_params", sa.BigInteger(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("origin IN ('seed', 'operator', 'hub')", name=op.f("ck_models_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
    )
    op.create_table(
        "model_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=True),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("total_params", sa.BigInteger(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_model_revisions_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_revisions")),
    )
    op.create_index(
        op.f("ix_model_revisions_model_id"), "model_revisions", ["model_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_model_revisions_model_id"), table_name="model_revisions")
    op.drop_table("model_revisions")
    op.drop_table("models")
    op.drop_index("ix_import_jobs_status_next_attempt_at", table_name="import_jobs")
    op.drop_table("import_jobs")
    op.drop_table("hub_sweep_state")
    op.drop_index(op.f("ix_gpus_vendor"), table_name="gpus")
    op.drop_table("gpus")
