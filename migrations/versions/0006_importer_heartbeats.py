"""Import worker heartbeats: which workers are alive, so that POST /v1/imports can tell.

Each running import worker upserts its row (``worker_id``, ``beat_at``) every third of
``CAPPLAN_IMPORTER_HEARTBEAT_STALE_S`` and deletes it when it stops. ``POST /v1/imports`` on a
replica that runs no worker itself answers 503 unless some row is fresher than that bound
(issue 13: a job that no worker will ever run must not be answered 202).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table (a new table needs no batch mode on SQLite)."""
    op.create_table(
        "importer_heartbeats",
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_importer_heartbeats")),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("importer_heartbeats")
