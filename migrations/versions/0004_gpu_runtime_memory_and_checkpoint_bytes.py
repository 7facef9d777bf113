"""GPU runtime memory provenance, MXFP4 rate and compute capability; checkpoint bytes by dtype.

``gpus.memory_basis`` says whether ``memory_bytes`` is the total the runtime reports, NVML's
total or the nominal capacity, and ``memory_source`` where it came from; ``dense_tflops_mxfp4``
is the OCP MXFP4 tensor rate beside NVFP4's ``dense_tflops_fp4``; ``compute_capability`` the
CUDA sm. ``models.checkpoint_bytes_by_dtype`` holds the exact bytes of the checkpoint's
tensors per safetensors dtype, read from the Hub's safetensors headers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Add the nullable columns (batch mode, so SQLite can alter the tables)."""
    with op.batch_alter_table("gpus") as batch:
        batch.add_column(
            sa.Column(
                "memory_basis", sa.String(length=16), nullable=False, server_default="nominal"
            )
        )
        batch.add_column(sa.Column("memory_source", sa.Text(), nullable=True))
        batch.add_column(sa.Column("dense_tflops_mxfp4", sa.Double(), nullable=True))
        batch.add_column(sa.Column("compute_capability", sa.String(length=8), nullable=True))
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("checkpoint_bytes_by_dtype", _JSON, nullable=True))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("models") as batch:
        batch.drop_column("checkpoint_bytes_by_dtype")
    with op.batch_alter_table("gpus") as batch:
        batch.drop_column("compute_capability")
        batch.drop_column("dense_tflops_mxfp4")
        batch.drop_column("memory_source")
        batch.drop_column("memory_basis")
