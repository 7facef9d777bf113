"""The model repository: JSON filters, archived configs, cascading deletes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.model_repository import ModelRepository
from service.db.models import ModelRevisionRow, Origin

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]


def model(
    model_type: str = "llama", layers: int = 2, revision: str | None = None
) -> dict[str, Any]:
    return {
        "config": {"model_type": model_type, "num_hidden_layers": layers},
        "architecture": {"model_type": model_type, "num_layers": layers},
        "total_params": 1000 * layers,
        "active_params": 1000 * layers,
        "revision": revision,
    }


async def seed(
    sessionmaker: Sessions, models: dict[str, dict[str, Any]], origin: Origin = Origin.SEED
) -> None:
    async with sessionmaker.begin() as session:
        for model_id, values in models.items():
            await ModelRepository(session).upsert(model_id, values, origin=origin)


async def test_find_filters_by_model_type(sessionmaker: Sessions) -> None:
    """Listing by model_type matches the normalised architecture's family."""
    await seed(sessionmaker, {"a/llama": model("llama"), "b/qwen": model("qwen3")})
    async with sessionmaker() as session:
        page = await ModelRepository(session).find(model_type="qwen3")
    assert [row.id for row in page.items] == ["b/qwen"]
    assert page.total == 1


async def test_find_filters_by_origin(sessionmaker: Sessions) -> None:
    """Listing by origin returns only rows written by that origin."""
    await seed(sessionmaker, {"a/seeded": model()})
    await seed(sessionmaker, {"b/imported": model()}, Origin.HUB)
    async with sessionmaker() as session:
        page = await ModelRepository(session).find(origin="hub")
    assert [row.id for row in page.items] == ["b/imported"]


async def test_overwriting_a_config_archives_the_previous_one(sessionmaker: Sessions) -> None:
    """A new config replaces the old one, which is kept in model_revisions."""
    await seed(sessionmaker, {"a/m": model(layers=2, revision="aaa")})
    await seed(sessionmaker, {"a/m": model(layers=4, revision="bbb")})
    async with sessionmaker() as session:
        repository = ModelRepository(session)
        current = await repository.require("a/m")
        archived = await repository.revisions("a/m")
    assert (current.config["num_hidden_layers"], current.revision) == (4, "bbb")
    assert [(r.revision, r.config["num_hidden_layers"], r.total_params) for r in archived] == [
        ("aaa", 2, 2000)
    ]
    assert archived[0].archived_at.utcoffset() is not None


async def test_unchanged_config_archives_nothing(sessionmaker: Sessions) -> None:
    """Re-writing the same config keeps no revision."""
    await seed(sessionmaker, {"a/m": model()})
    await seed(sessionmaker, {"a/m": model()})
    async with sessionmaker() as session:
        assert await ModelRepository(session).revisions("a/m") == []


async def test_deleting_a_model_deletes_its_revisions(sessionmaker: Sessions) -> None:
    """Archived configs go with their model (ON DELETE CASCADE)."""
    await seed(sessionmaker, {"a/m": model(layers=2)})
    await seed(sessionmaker, {"a/m": model(layers=4)})
    async with sessionmaker.begin() as session:
        await ModelRepository(session).delete("a/m")
    async with sessionmaker() as session:
        remaining = await session.scalar(select(func.count()).select_from(ModelRevisionRow))
    assert remaining == 0
