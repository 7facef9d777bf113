"""The GPU repository: upsert, filtered pages, optimistic concurrency, domain conversion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.gpu_repository import GpuRepository, gpu_spec_from_row
from service.db.models import GpuRow, Origin
from service.db.repository import NotFound, Outcome, StaleVersion
from service.domain.gpu import GpuSpec

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]


def gpu(memory_gb: int = 80, vendor: str = "nvidia", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": f"{vendor} {memory_gb}GB",
        "vendor": vendor,
        "memory_bytes": memory_gb * 10**9,
        "nominal_memory_gb": float(memory_gb),
        "memory_bandwidth_bytes_per_s": 2e12,
        "dense_tflops_bf16": 300.0,
        "dense_tflops_fp16": 300.0,
        "dense_tflops_fp8": None,
        "dense_tops_int8": 600.0,
        "dense_tflops_fp4": None,
        "interconnect": "pcie",
        "interconnect_bandwidth_bytes_per_s": 32e9,
        "max_gpus_per_node": 8,
        "tdp_watts": 400.0,
        "price_per_hour_usd": None,
        "sources": ["https://example.org"],
        "verified": True,
        "notes": "",
    }
    return values | overrides


async def seed(sessionmaker: Sessions, **gpus: dict[str, Any]) -> None:
    async with sessionmaker.begin() as session:
        for gpu_id, values in gpus.items():
            await GpuRepository(session).upsert(gpu_id, values, origin=Origin.SEED)


async def fetch(sessionmaker: Sessions, gpu_id: str) -> GpuRow | None:
    async with sessionmaker() as session:
        return await GpuRepository(session).get(gpu_id)


async def test_upsert_inserts_a_new_gpu_at_version_1(sessionmaker: Sessions) -> None:
    """A first upsert inserts the row with its origin, at version 1, with UTC timestamps."""
    async with sessionmaker.begin() as session:
        row, outcome = await GpuRepository(session).upsert("a100", gpu(), origin=Origin.OPERATOR)
    assert outcome is Outcome.INSERTED
    stored = await fetch(sessionmaker, "a100")
    assert stored is not None
    assert (stored.origin, stored.version, stored.memory_bytes) == ("operator", 1, 80 * 10**9)
    assert stored.created_at.utcoffset() is not None
    assert stored.created_at == row.created_at


async def test_upsert_with_the_same_values_changes_nothing(sessionmaker: Sessions) -> None:
    """Upserting identical values reports UNCHANGED and bumps neither version nor updated_at."""
    await seed(sessionmaker, a100=gpu())
    before = await fetch(sessionmaker, "a100")
    async with sessionmaker.begin() as session:
        _, outcome = await GpuRepository(session).upsert("a100", gpu(), origin=Origin.SEED)
    after = await fetch(sessionmaker, "a100")
    assert outcome is Outcome.UNCHANGED
    assert before is not None
    assert after is not None
    assert (after.version, after.updated_at) == (before.version, before.updated_at)


async def test_upsert_with_new_values_updates_and_bumps_version(sessionmaker: Sessions) -> None:
    """Upserting changed values overwrites them and moves to the next version."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker.begin() as session:
        _, outcome = await GpuRepository(session).upsert(
            "a100", gpu(tdp_watts=500.0), origin=Origin.SEED
        )
    after = await fetch(sessionmaker, "a100")
    assert outcome is Outcome.UPDATED
    assert after is not None
    assert (after.tdp_watts, after.version) == (500.0, 2)
    assert after.updated_at > after.created_at


async def test_find_filters_by_vendor(sessionmaker: Sessions) -> None:
    """Listing by vendor returns only that vendor's GPUs."""
    await seed(sessionmaker, a100=gpu(), mi300x=gpu(192, vendor="amd"))
    async with sessionmaker() as session:
        page = await GpuRepository(session).find(vendor="amd")
    assert [row.id for row in page.items] == ["mi300x"]
    assert page.total == 1


async def test_find_filters_by_minimum_memory(sessionmaker: Sessions) -> None:
    """Listing with a memory floor leaves out smaller GPUs."""
    await seed(sessionmaker, l4=gpu(24), a100=gpu(80), h200=gpu(141))
    async with sessionmaker() as session:
        page = await GpuRepository(session).find(min_memory_bytes=80 * 10**9)
    assert [row.id for row in page.items] == ["a100", "h200"]


async def test_find_pages_in_id_order_with_the_full_total(sessionmaker: Sessions) -> None:
    """limit/offset slice the id-ordered listing; total counts every match."""
    await seed(sessionmaker, **{f"gpu-{n}": gpu() for n in range(5)})
    async with sessionmaker() as session:
        page = await GpuRepository(session).find(limit=2, offset=2)
    assert [row.id for row in page.items] == ["gpu-2", "gpu-3"]
    assert (page.total, page.limit, page.offset) == (5, 2, 2)


async def test_find_rejects_negative_paging(sessionmaker: Sessions) -> None:
    """A negative limit or offset is a caller error."""
    async with sessionmaker() as session:
        with pytest.raises(ValueError, match="negative"):
            await GpuRepository(session).find(offset=-1)


async def test_update_at_the_expected_version_applies(sessionmaker: Sessions) -> None:
    """An update naming the current version is applied and moves the version on."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker.begin() as session:
        row = await GpuRepository(session).update(
            "a100", {"price_per_hour_usd": 1.5}, expected_version=1, origin=Origin.OPERATOR
        )
    assert (row.price_per_hour_usd, row.version, row.origin) == (1.5, 2, "operator")


async def test_update_at_a_stale_version_is_refused(sessionmaker: Sessions) -> None:
    """An update naming an old version raises StaleVersion and changes nothing."""
    await seed(sessionmaker, a100=gpu())
    with pytest.raises(StaleVersion, match="version 1, not 7"):
        async with sessionmaker.begin() as session:
            await GpuRepository(session).update("a100", {"tdp_watts": 1.0}, expected_version=7)
    stored = await fetch(sessionmaker, "a100")
    assert stored is not None
    assert stored.tdp_watts == 400.0


async def test_concurrent_update_loses_with_stale_version(sessionmaker: Sessions) -> None:
    """Of two writers that read the same version, the second to flush gets StaleVersion."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker() as first, sessionmaker() as second:
        row = await GpuRepository(first).require("a100")
        await GpuRepository(second).update("a100", {"tdp_watts": 1.0}, expected_version=1)
        await second.commit()
        assert row.version == 1
        with pytest.raises(StaleVersion):
            await GpuRepository(first).update("a100", {"tdp_watts": 2.0}, expected_version=1)


async def test_update_of_an_unknown_gpu_is_not_found(sessionmaker: Sessions) -> None:
    """Updating a missing id raises NotFound."""
    async with sessionmaker() as session:
        with pytest.raises(NotFound, match="'nope'"):
            await GpuRepository(session).update("nope", {}, expected_version=1)


@pytest.mark.parametrize("column", ["version", "origin", "id", "no_such_column"])
async def test_update_refuses_managed_or_unknown_columns(
    sessionmaker: Sessions, column: str
) -> None:
    """Callers cannot set id/origin/version/timestamps directly, nor invent columns."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker() as session:
        with pytest.raises(ValueError, match=column):
            await GpuRepository(session).update("a100", {column: 1}, expected_version=1)


async def test_delete_removes_the_gpu(sessionmaker: Sessions) -> None:
    """A deleted GPU is gone."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker.begin() as session:
        await GpuRepository(session).delete("a100", expected_version=1)
    assert await fetch(sessionmaker, "a100") is None


async def test_delete_at_a_stale_version_is_refused(sessionmaker: Sessions) -> None:
    """Deleting with an old version raises StaleVersion and keeps the row."""
    await seed(sessionmaker, a100=gpu())
    with pytest.raises(StaleVersion):
        async with sessionmaker.begin() as session:
            await GpuRepository(session).delete("a100", expected_version=3)
    assert await fetch(sessionmaker, "a100") is not None


async def test_gpu_spec_from_row_maps_matching_fields(sessionmaker: Sessions) -> None:
    """A row converts to the domain GpuSpec field for field."""
    await seed(sessionmaker, a100=gpu(dense_tflops_fp8=None, vendor="nvidia"))
    row = await fetch(sessionmaker, "a100")
    assert row is not None
    spec = gpu_spec_from_row(row)
    assert isinstance(spec, GpuSpec)
    assert spec.id == "a100"
    assert spec.memory_bytes == 80 * 10**9
    assert spec.dense_tops_int8 == 600.0
    assert spec.dense_tflops_fp8 is None
    assert (spec.interconnect, spec.max_gpus_per_node, spec.vendor) == ("pcie", 8, "nvidia")


async def test_update_without_changes_keeps_the_version(sessionmaker: Sessions) -> None:
    """An update that sets the current values writes nothing and keeps the version."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker.begin() as session:
        row = await GpuRepository(session).update("a100", {"tdp_watts": 400.0}, expected_version=1)
    assert row.version == 1


async def test_concurrent_delete_loses_with_stale_version(sessionmaker: Sessions) -> None:
    """A delete based on a version another writer has since replaced raises StaleVersion."""
    await seed(sessionmaker, a100=gpu())
    async with sessionmaker() as first, sessionmaker() as second:
        row = await GpuRepository(first).require("a100")  # held: the session maps it weakly
        await GpuRepository(second).update("a100", {"tdp_watts": 1.0}, expected_version=1)
        await second.commit()
        assert row.version == 1
        with pytest.raises(StaleVersion):
            await GpuRepository(first).delete("a100", expected_version=1)
