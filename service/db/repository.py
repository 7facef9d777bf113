"""Data access shared by the API, the Hub importer and catalog sync: the only place with SQL.

Repositories never commit: the caller owns the transaction (one request, one import, one
sync). Writes are flushed, so constraint and version conflicts surface at the call.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, delete, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from service.db.models import Base, GpuRow, ModelRow, Origin

#: The versioned catalog tables.
RowT = TypeVar("RowT", GpuRow, ModelRow)

#: Columns the repository manages itself; callers may not set them through ``values``.
MANAGED_COLUMNS = frozenset({"id", "origin", "version", "created_at", "updated_at"})


class NotFound(LookupError):
    """No row has this id."""

    def __init__(self, kind: str, row_id: str) -> None:
        super().__init__(f"{kind} '{row_id}' not found")
        self.row_id = row_id


class AlreadyExists(Exception):
    """A row with this id exists already (creating never overwrites)."""

    def __init__(self, kind: str, row_id: str) -> None:
        super().__init__(f"{kind} '{row_id}' already exists")
        self.row_id = row_id


class StaleVersion(Exception):
    """The row changed since the caller read it (optimistic concurrency)."""

    def __init__(self, row_id: str, expected: int, actual: int | None) -> None:
        super().__init__(f"'{row_id}' is at version {actual}, not {expected}")
        self.row_id = row_id
        self.expected = expected
        self.actual = actual


class Outcome(enum.StrEnum):
    """What an upsert did."""

    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    """One slice of a filtered listing, with the size of the whole listing."""

    items: list[RowT]
    total: int
    limit: int
    offset: int


class Repository(Generic[RowT]):
    """Get, list, upsert, update and delete rows of one table keyed by a string ``id``."""

    row_type: type[RowT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, row_id: str) -> RowT | None:
        return await self.session.get(self.row_type, row_id)

    async def require(self, row_id: str) -> RowT:
        """The row with this id, or :class:`NotFound`."""
        row = await self.get(row_id)
        if row is None:
            raise NotFound(self.row_type.__tablename__, row_id)
        return row

    async def create(self, row_id: str, values: Mapping[str, Any], *, origin: Origin) -> RowT:
        """Insert a new row, or :class:`AlreadyExists`; never touches an existing row.

        ``INSERT ... ON CONFLICT (id) DO NOTHING``: of concurrent creates with one id exactly
        one inserts, on PostgreSQL as on SQLite, and the others learn it without an error.
        """
        self._check_columns(values)
        table = self.row_type.__table__
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .values(id=row_id, origin=str(origin), version=1, **values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(table.c.id)
        )
        if (await self.session.execute(statement)).first() is None:
            raise AlreadyExists(self.row_type.__tablename__, row_id)
        row = await self.session.get(self.row_type, row_id, populate_existing=True)
        if row is None:  # pragma: no cover - inserted in this very transaction
            raise NotFound(self.row_type.__tablename__, row_id)
        return row

    async def upsert(
        self, row_id: str, values: Mapping[str, Any], *, origin: Origin
    ) -> tuple[RowT, Outcome]:
        """Insert the row, or overwrite the given columns of the existing one."""
        self._check_columns(values)
        row = await self.get(row_id)
        if row is None:
            try:
                return await self.create(row_id, values, origin=origin), Outcome.INSERTED
            except AlreadyExists:  # created concurrently since the read: overwrite it
                row = await self.require(row_id)
        wanted = {**values, "origin": str(origin)}
        if not _differs(row, wanted):
            return row, Outcome.UNCHANGED
        await self._before_overwrite(row, values)
        _assign(row, wanted)
        await self.session.flush()
        return row, Outcome.UPDATED

    async def update(
        self,
        row_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        origin: Origin | None = None,
    ) -> RowT:
        """Apply ``changes`` if the row is still at ``expected_version`` (else StaleVersion)."""
        self._check_columns(changes)
        row = await self.require(row_id)
        if row.version != expected_version:
            raise StaleVersion(row_id, expected_version, row.version)
        wanted = dict(changes) if origin is None else {**changes, "origin": str(origin)}
        if _differs(row, wanted):
            await self._before_overwrite(row, changes)
            _assign(row, wanted)
            try:
                await self.session.flush()
            except StaleDataError as exc:  # a concurrent writer won between read and flush
                raise StaleVersion(row_id, expected_version, None) from exc
        return row

    async def delete(self, row_id: str, *, expected_version: int | None = None) -> None:
        """Delete the row; with ``expected_version``, only if nobody changed it since.

        One ``DELETE ... WHERE id = ? [AND version = ?]``: a row a concurrent request deleted
        first is :class:`NotFound`, one it changed is :class:`StaleVersion`.
        """
        row_type = self.row_type
        statement = delete(row_type).where(row_type.id == row_id)
        if expected_version is not None:
            statement = statement.where(row_type.version == expected_version)
        result = await self.session.execute(statement.returning(row_type.id))
        if result.first() is not None:
            return
        current = select(row_type.version).where(row_type.id == row_id)
        actual = (await self.session.execute(current)).scalar_one_or_none()
        if actual is None:
            raise NotFound(row_type.__tablename__, row_id)
        raise StaleVersion(row_id, expected_version or 0, actual)

    async def _page(
        self, where: list[ColumnElement[bool]], *, limit: int, offset: int
    ) -> Page[RowT]:
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        row_type = self.row_type
        count = select(func.count()).select_from(row_type).where(*where)
        total = (await self.session.execute(count)).scalar_one()
        query = select(row_type).where(*where).order_by(row_type.id).limit(limit).offset(offset)
        items = list((await self.session.scalars(query)).all())
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def _before_overwrite(self, row: RowT, values: Mapping[str, Any]) -> None:
        """Hook for subclasses that keep history of overwritten rows."""

    def _check_columns(self, values: Mapping[str, Any]) -> None:
        known = set(inspect(self.row_type).columns.keys()) - MANAGED_COLUMNS
        if unknown := sorted(set(values) - known):
            raise ValueError(f"{self.row_type.__tablename__}: unknown or managed columns {unknown}")


def _differs(row: Base, values: Mapping[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in values.items())


def _assign(row: Base, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)
