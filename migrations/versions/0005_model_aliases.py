"""Model aliases: other names people type that resolve to a catalog model.

``models.aliases`` holds the seed file's ``aliases`` list (JSON; NULL when none are listed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Add the nullable column (batch mode, so SQLite can alter the table)."""
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("aliases", _JSON, nullable=True))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("models") as batch:
        batch.drop_column("aliases")
