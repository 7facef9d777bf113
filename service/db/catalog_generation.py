"""A per-process generation number of the catalog, moved on by every commit that wrote to it.

Caches of catalog reads (the plan path's, :mod:`service.api.catalog_cache`) note the
generation before they read; a cached read whose generation is no longer the current one
is stale. Every write through a session of this process counts (the API, the Hub importer,
catalog sync), whatever statement it used: an ORM flush, ``INSERT ... ON CONFLICT`` or a bulk
``DELETE``. Writes by other processes are not seen here; those caches also expire after a
few seconds (``CAPPLAN_CATALOG_CACHE_TTL_S``).
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.dml import UpdateBase

from service.db.models import GpuRow, ModelRow

#: Tables whose rows answers are computed from.
CATALOG_TABLES = frozenset({GpuRow.__tablename__, ModelRow.__tablename__})
_WROTE = "capplan_wrote_catalog"

_counter = itertools.count(1)
_generation = 0


def catalog_generation() -> int:
    """The current generation (only ever grows)."""
    return _generation


def catalog_written() -> None:
    """A catalog write was committed (or abandoned): every cached read becomes stale."""
    global _generation  # noqa: PLW0603 - the one per-process counter
    _generation = next(_counter)


def watch_catalog_writes() -> None:
    """Count the catalog writes of every session of this process (idempotent)."""
    if not event.contains(Session, "after_commit", _after_transaction):
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_flush", _on_flush)
        event.listen(Session, "after_commit", _after_transaction)
        event.listen(Session, "after_rollback", _after_transaction)


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, UpdateBase):
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) in CATALOG_TABLES:
            state.session.info[_WROTE] = True


def _on_flush(session: Session, _flush: UOWTransaction) -> None:
    changed: Any = itertools.chain(session.new, session.dirty, session.deleted)
    if any(isinstance(row, GpuRow | ModelRow) for row in changed):
        session.info[_WROTE] = True


def _after_transaction(session: Session) -> None:
    # After the commit, so that a reader that notes the new generation sees the new rows. A
    # rolled-back write changed nothing, but counting it too costs one cache miss at most.
    if session.info.pop(_WROTE, False):
        catalog_written()
