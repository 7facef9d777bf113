"""The independent parameter-count check stored with each model.

``models.parameter_check`` holds the verdict of comparing the Hub's safetensors totals with
capplan's exact count (``exact``, ``explained`` or ``mismatch``; null when not compared:
no safetensors, or a quantised checkpoint). See :mod:`service.domain.count_check`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable verdict column (batch mode, so SQLite can alter the table)."""
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("parameter_check", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Drop the verdict column."""
    with op.batch_alter_table("models") as batch:
        batch.drop_column("parameter_check")
