"""GPU catalog access, and the conversion to the domain's :class:`GpuSpec`."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import ColumnElement, func

from service.db.models import GpuRow
from service.db.repository import Page, Repository
from service.domain.gpu import GpuSpec


class GpuRepository(Repository[GpuRow]):
    """The ``gpus`` table."""

    row_type = GpuRow

    async def find(
        self,
        *,
        vendor: str | None = None,
        min_memory_bytes: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[GpuRow]:
        """GPUs ordered by id, optionally of one vendor (any letter case: NVIDIA, nvidia) and
        with at least this much memory."""
        where: list[ColumnElement[bool]] = []
        if vendor is not None:
            where.append(func.lower(GpuRow.vendor) == vendor.lower())
        if min_memory_bytes is not None:
            where.append(GpuRow.memory_bytes >= min_memory_bytes)
        return await self._page(where, limit=limit, offset=offset)


_SPEC_FIELDS = tuple(
    field.name for field in msgspec.structs.fields(GpuSpec) if hasattr(GpuRow, field.name)
)


def gpu_spec_from_row(row: GpuRow) -> GpuSpec:
    """The domain's view of a catalog row (columns with a matching field name)."""
    fields: dict[str, Any] = {name: getattr(row, name) for name in _SPEC_FIELDS}
    return GpuSpec(**fields)
