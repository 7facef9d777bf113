"""Model catalog access; overwriting a model's config archives the previous one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, select

from service.db.models import ModelRevisionRow, ModelRow
from service.db.repository import Page, Repository


class ModelRepository(Repository[ModelRow]):
    """The ``models`` table and its archive, ``model_revisions``."""

    row_type = ModelRow

    async def find(
        self,
        *,
        model_type: str | None = None,
        origin: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelRow]:
        """Models ordered by id, optionally of one architecture family (any letter case:
        LLAMA, llama) and origin."""
        where: list[ColumnElement[bool]] = []
        if model_type is not None:
            family = ModelRow.architecture["model_type"].as_string()
            where.append(func.lower(family) == model_type.lower())
        if origin is not None:
            where.append(ModelRow.origin == origin)
        return await self._page(where, limit=limit, offset=offset)

    async def revisions(self, model_id: str) -> list[ModelRevisionRow]:
        """Archived configs of one model, newest first."""
        query = (
            select(ModelRevisionRow)
            .where(ModelRevisionRow.model_id == model_id)
            .order_by(ModelRevisionRow.id.desc())
        )
        return list((await self.session.scalars(query)).all())

    async def _before_overwrite(self, row: ModelRow, values: Mapping[str, Any]) -> None:
        config = values.get("config", row.config)
        revision = values.get("revision", row.revision)
        if config != row.config or revision != row.revision:
            self.session.add(
                ModelRevisionRow(
                    model_id=row.id,
                    revision=row.revision,
                    config=row.config,
                    total_params=row.total_params,
                )
            )
