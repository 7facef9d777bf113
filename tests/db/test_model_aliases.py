"""Model aliases in the seed catalog: validated on load, stored by sync, used on lookup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.catalog_sync import sync_catalog
from service.db.model_repository import ModelRepository
from service.db.seed_loader import SeedError, load_catalog
from service.planning.resolve import resolve_model

Sessions = async_sessionmaker[AsyncSession]
WriteCatalog = Callable[..., Path]


def _other(model_seed: dict[str, Any], repo_id: str, **fields: Any) -> dict[str, Any]:
    return {**model_seed, "repo_id": repo_id, **fields}


def test_aliases_load_with_their_model(
    write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """A model file's ``aliases`` are read as listed."""
    model_seed["aliases"] = ["tiny", "team/tiny-chat"]
    (model,) = load_catalog(write_catalog(models=[model_seed])).models
    assert model.seed.aliases == ["tiny", "team/tiny-chat"]


@pytest.mark.parametrize(
    ("aliases_a", "aliases_b"),
    [
        pytest.param(["other-org/Tiny_Model"], [], id="another-models-id"),
        pytest.param(["shared"], ["SHARED"], id="another-models-alias"),
    ],
)
def test_an_alias_naming_two_models_is_rejected(
    write_catalog: WriteCatalog,
    model_seed: dict[str, Any],
    aliases_a: list[str],
    aliases_b: list[str],
) -> None:
    """An alias may not be another model's id or alias (as names are matched)."""
    models = [
        _other(model_seed, "tiny-org/tiny-llama", aliases=aliases_a),
        _other(model_seed, "other-org/tiny-model", aliases=aliases_b),
    ]
    with pytest.raises(SeedError) as caught:
        load_catalog(write_catalog(models=models))
    assert [problem.field for problem in caught.value.problems] == ["aliases"]


@pytest.mark.parametrize("alias", ["", "   "], ids=["empty", "blank"])
def test_a_blank_alias_is_rejected(
    write_catalog: WriteCatalog, model_seed: dict[str, Any], alias: str
) -> None:
    """An alias must have a visible character."""
    model_seed["aliases"] = [alias]
    with pytest.raises(SeedError) as caught:
        load_catalog(write_catalog(models=[model_seed]))
    assert caught.value.problems[0].field == "aliases[0]"


@pytest.mark.anyio
async def test_sync_stores_aliases_and_lookup_follows_them(
    sessionmaker: Sessions, write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """Sync writes the aliases column; resolving an alias gives the model and the alias."""
    model_seed["aliases"] = ["team/tiny-chat"]
    await sync_catalog(sessionmaker, load_catalog(write_catalog(models=[model_seed])))
    async with sessionmaker() as session:
        row = await ModelRepository(session).get(model_seed["repo_id"])
        resolved = await resolve_model(session, "Team/Tiny-Chat")
    assert row is not None
    assert row.aliases == ["team/tiny-chat"]
    assert (resolved.name, resolved.alias) == (model_seed["repo_id"], "Team/Tiny-Chat")
