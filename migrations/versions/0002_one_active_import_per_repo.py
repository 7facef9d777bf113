"""At most one queued or running import job per repository and revision.

Concurrent ``POST /v1/imports`` of one repository used to queue several jobs (the check and the
insert were separate statements). A partial unique index makes the database refuse the second
one; :meth:`service.importer.queue.JobQueue.enqueue` then returns the job that won. Duplicates
already queued are failed first (the oldest stays), so the index can be built.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_import_jobs_active_repo"
ACTIVE = "status IN ('queued', 'running')"

_FAIL_DUPLICATES = """
UPDATE import_jobs SET status = 'failed', finished_at = :now,
    lease_owner = NULL, lease_expires_at = NULL,
    error = 'superseded: an older job imports the same repository and revision'
WHERE status IN ('queued', 'running') AND EXISTS (
    SELECT 1 FROM import_jobs AS older
    WHERE older.status IN ('queued', 'running')
      AND lower(older.repo_id) = lower(import_jobs.repo_id)
      AND coalesce(older.revision, '') = coalesce(import_jobs.revision, '')
      AND (older.created_at < import_jobs.created_at
           OR (older.created_at = import_jobs.created_at AND older.id < import_jobs.id)))
"""


def upgrade() -> None:
    """Fail duplicate active jobs (keeping the oldest), then index the active ones uniquely."""
    now = dt.datetime.now(dt.UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC, like service.db.types.UtcDateTime
    op.execute(
        sa.text(_FAIL_DUPLICATES).bindparams(
            sa.bindparam("now", now, type_=sa.DateTime(timezone=True))
        )
    )
    op.create_index(
        INDEX,
        "import_jobs",
        [sa.text("lower(repo_id)"), sa.text("coalesce(revision, '')")],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    """Drop the index (the failed duplicates stay failed)."""
    op.drop_index(INDEX, table_name="import_jobs")
