"""import_model over an in-memory HubClient: insert, no-op, update with archive, operator rows."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.model_repository import ModelRepository
from service.db.models import Origin
from service.db.repository import Outcome
from service.importer.errors import ImportFailed
from service.importer.model_import import ImportResult, import_model
from tests.importer.memory_hub import MemoryHub
from tests.importer.models import LLAMA_1B_TOTAL, SHA_1, SHA_2, llama_1b_config

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]
REPO = "org/llama"
COUNTS = {"BF16": LLAMA_1B_TOTAL}


@pytest.fixture
def hub() -> MemoryHub:
    hub = MemoryHub()
    hub.add(REPO, llama_1b_config(), SHA_1, COUNTS)
    return hub


async def run(sessionmaker: Sessions, hub: MemoryHub) -> ImportResult:
    async with sessionmaker.begin() as session:
        return await import_model(hub, ModelRepository(session), REPO)


async def test_first_import_inserts_a_hub_row(sessionmaker: Sessions, hub: MemoryHub) -> None:
    """A new model is inserted with origin 'hub', its sha and its exact parameter count."""
    result = await run(sessionmaker, hub)

    assert (result.outcome, result.sha, result.total_params) == (
        Outcome.INSERTED,
        SHA_1,
        LLAMA_1B_TOTAL,
    )
    async with sessionmaker() as session:
        row = await ModelRepository(session).require(REPO)
    assert (row.origin, row.revision, row.total_params) == ("hub", SHA_1, LLAMA_1B_TOTAL)


async def test_same_sha_is_a_no_op(sessionmaker: Sessions, hub: MemoryHub) -> None:
    """Re-importing the stored commit downloads nothing and writes nothing."""
    await run(sessionmaker, hub)
    async with sessionmaker() as session:
        before = await ModelRepository(session).require(REPO)
    hub.calls.clear()

    result = await run(sessionmaker, hub)

    assert result.outcome is Outcome.UNCHANGED
    assert hub.calls == ["model_info"]
    async with sessionmaker() as session:
        after = await ModelRepository(session).require(REPO)
    assert (after.updated_at, after.version) == (before.updated_at, before.version)


async def test_new_sha_updates_and_archives(sessionmaker: Sessions, hub: MemoryHub) -> None:
    """A changed config at a new commit replaces the row; the old config is archived."""
    await run(sessionmaker, hub)
    longer = {**llama_1b_config(), "max_position_embeddings": 262144}
    hub.add(REPO, longer, SHA_2, COUNTS)

    result = await run(sessionmaker, hub)

    assert result.outcome is Outcome.UPDATED
    async with sessionmaker() as session:
        repository = ModelRepository(session)
        row = await repository.require(REPO)
        [archived] = await repository.revisions(REPO)
    assert (row.revision, row.config["max_position_embeddings"]) == (SHA_2, 262144)
    assert (archived.revision, archived.config) == (SHA_1, llama_1b_config())


async def test_operator_row_is_never_overwritten(sessionmaker: Sessions, hub: MemoryHub) -> None:
    """An operator-written model makes the import fail and stays as it was."""
    async with sessionmaker.begin() as session:
        await ModelRepository(session).upsert(
            REPO,
            {"config": {}, "architecture": {}, "total_params": 1, "active_params": 1},
            origin=Origin.OPERATOR,
        )

    with pytest.raises(ImportFailed, match="written by an operator"):
        await run(sessionmaker, hub)

    async with sessionmaker() as session:
        row = await ModelRepository(session).require(REPO)
    assert (row.origin, row.total_params) == ("operator", 1)


async def test_counts_fall_back_to_the_safetensors_headers(sessionmaker: Sessions) -> None:
    """When model_info has no safetensors counts, the client's header count is used."""
    hub = MemoryHub()
    hub.add(REPO, llama_1b_config(), SHA_1, COUNTS, counts_in_info=False)

    await run(sessionmaker, hub)

    assert "safetensors_parameter_counts" in hub.calls
    async with sessionmaker() as session:
        row = await ModelRepository(session).require(REPO)
    assert row.hub_safetensors_total == LLAMA_1B_TOTAL
