"""Catalog sync writes seed rows idempotently and never overwrites operator or Hub rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.catalog_sync import SyncReport, sync_catalog
from service.db.gpu_repository import GpuRepository
from service.db.model_repository import ModelRepository
from service.db.models import GpuRow, ModelRow, Origin
from service.db.seed_loader import load_catalog

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]
WriteCatalog = Callable[..., Path]


async def sync(sessionmaker: Sessions, catalog_dir: Path) -> SyncReport:
    return await sync_catalog(sessionmaker, load_catalog(catalog_dir))


async def snapshot(sessionmaker: Sessions) -> list[tuple[Any, ...]]:
    """Every catalog row's id, version and updated_at."""
    async with sessionmaker() as session:
        gpus = (await session.execute(select(GpuRow.id, GpuRow.version, GpuRow.updated_at))).all()
        models = (
            await session.execute(select(ModelRow.id, ModelRow.version, ModelRow.updated_at))
        ).all()
    return sorted(tuple(row) for row in [*gpus, *models])


async def test_first_sync_inserts_every_seed(
    sessionmaker: Sessions, write_catalog: WriteCatalog
) -> None:
    """A first sync inserts all GPUs and models with origin 'seed'."""
    report = await sync(sessionmaker, write_catalog())
    assert str(report.gpus) == "2 inserted, 0 updated, 0 unchanged, 0 skipped (operator/hub)"
    assert (report.models.inserted, report.models.updated) == (1, 0)
    async with sessionmaker() as session:
        h100 = await GpuRepository(session).require("h100-sxm")
        model = await ModelRepository(session).require("tiny-org/tiny-llama")
    assert (h100.origin, h100.memory_bandwidth_bytes_per_s, h100.sources) == (
        "seed",
        3.35e12,
        ["https://example.org/h100"],
    )
    assert h100.notes == (
        "dense figures\nMemory: 79.2 GiB reported by the runtime\nPrice: typical on-demand"
    )
    assert model.origin == "seed"
    assert model.architecture["model_type"] == "llama"
    assert (model.total_params, model.active_params, model.published_total_params) == (
        202_048,
        202_048,
        202_048,
    )
    assert model.config["rms_norm_eps"] == 1e-05
    assert model.notes == "Source: https://example.org/tiny-llama/config.json"


async def test_second_sync_changes_nothing(
    sessionmaker: Sessions, write_catalog: WriteCatalog
) -> None:
    """Syncing the same files again reports everything unchanged and bumps no timestamp."""
    catalog_dir = write_catalog()
    await sync(sessionmaker, catalog_dir)
    before = await snapshot(sessionmaker)
    report = await sync(sessionmaker, catalog_dir)
    assert (report.gpus.unchanged, report.models.unchanged) == (2, 1)
    assert report.gpus.inserted + report.gpus.updated + report.models.updated == 0
    assert await snapshot(sessionmaker) == before


async def test_changed_seed_file_updates_that_row(
    sessionmaker: Sessions, write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]]
) -> None:
    """Editing one seed entry updates exactly that row."""
    await sync(sessionmaker, write_catalog(gpus=gpu_seeds))
    gpu_seeds[1]["price_per_hour_usd"] = 0.8
    report = await sync(sessionmaker, write_catalog(gpus=gpu_seeds))
    assert (report.gpus.updated, report.gpus.unchanged) == (1, 1)
    async with sessionmaker() as session:
        l4 = await GpuRepository(session).require("l4")
    assert (l4.price_per_hour_usd, l4.version) == (0.8, 2)


async def test_changed_model_config_updates_and_archives(
    sessionmaker: Sessions, write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """A seed model whose config changed is re-derived, and the old config archived."""
    await sync(sessionmaker, write_catalog(models=[model_seed]))
    model_seed["config"]["num_hidden_layers"] = 3
    report = await sync(sessionmaker, write_catalog(models=[model_seed]))
    assert report.models.updated == 1
    async with sessionmaker() as session:
        models = ModelRepository(session)
        model = await models.require("tiny-org/tiny-llama")
        archived = await models.revisions("tiny-org/tiny-llama")
    assert model.architecture["num_layers"] == 3
    assert model.total_params > 202_048
    assert [revision.total_params for revision in archived] == [202_048]


@pytest.mark.parametrize("origin", [Origin.OPERATOR, Origin.HUB])
async def test_rows_not_from_seed_are_never_overwritten(
    sessionmaker: Sessions, write_catalog: WriteCatalog, origin: Origin
) -> None:
    """A GPU or model written by an operator or the Hub importer is skipped by sync."""
    catalog_dir = write_catalog()
    await sync(sessionmaker, catalog_dir)
    async with sessionmaker.begin() as session:
        await GpuRepository(session).update(
            "l4", {"notes": "our own"}, expected_version=1, origin=origin
        )
        await ModelRepository(session).update(
            "tiny-org/tiny-llama", {"notes": "ours"}, expected_version=1, origin=origin
        )
    before = await snapshot(sessionmaker)
    report = await sync(sessionmaker, catalog_dir)
    assert (report.gpus.skipped, report.gpus.unchanged, report.models.skipped) == (1, 1, 1)
    assert await snapshot(sessionmaker) == before
    async with sessionmaker() as session:
        l4 = await GpuRepository(session).require("l4")
    assert (l4.notes, l4.origin) == ("our own", origin)
