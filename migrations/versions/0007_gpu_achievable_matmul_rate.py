"""GPU measured BF16 matmul rate.

``gpus.achievable_tflops_bf16`` is the fastest BF16 matmul measured on the chip and its
software stack (stas00/ml-engineering's Maximum Achievable Matmul FLOPS table for the seed
catalog); null where nobody measured it. The latency model prices every tensor-core rate at
the datasheet peak times the measured share (``service.domain.gpu.GpuSpec.matmul_efficiency``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable column (batch mode, so SQLite can alter the table)."""
    with op.batch_alter_table("gpus") as batch:
        batch.add_column(sa.Column("achievable_tflops_bf16", sa.Double(), nullable=True))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("gpus") as batch:
        batch.drop_column("achievable_tflops_bf16")
