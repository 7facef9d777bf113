"""Every alias a catalog model file lists answers as that model over REST."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import CATALOG_DIR, assert_problem

pytestmark = pytest.mark.anyio


def _catalog_aliases() -> list[tuple[str, str]]:
    """``(alias, repo_id)`` for each alias in ``catalog/models/*.yaml``."""
    pairs = []
    for path in sorted((CATALOG_DIR / "models").glob("*.yaml")):
        seed = yaml.safe_load(path.read_text(encoding="utf-8"))
        pairs += [(alias, seed["repo_id"]) for alias in seed.get("aliases", [])]
    return pairs


ALIASES = _catalog_aliases()


def test_the_catalog_lists_aliases() -> None:
    """The shipped catalog has aliases, so the specs below run on something."""
    assert ALIASES


@pytest.mark.parametrize(("alias", "repo_id"), ALIASES, ids=[a for a, _ in ALIASES])
async def test_alias_is_inspected_as_its_model(
    client: AsyncTestClient[Litestar], alias: str, repo_id: str
) -> None:
    """POST /v1/inspect with an alias answers for the catalog model, named in ``model``."""
    response = await client.post("/v1/inspect", json={"model": alias})
    assert (response.status_code, response.json()["model"]) == (200, repo_id)


@pytest.mark.parametrize(("alias", "repo_id"), ALIASES, ids=[a for a, _ in ALIASES])
async def test_model_lists_its_aliases(
    client: AsyncTestClient[Litestar], alias: str, repo_id: str
) -> None:
    """GET /v1/models/{id} shows the aliases its catalog file lists."""
    response = await client.get(f"/v1/models/{quote(repo_id)}")
    assert alias in response.json()["aliases"]


@pytest.mark.parametrize(("alias", "repo_id"), ALIASES, ids=[a for a, _ in ALIASES])
async def test_get_by_alias_suggests_the_model(
    client: AsyncTestClient[Litestar], alias: str, repo_id: str
) -> None:
    """GET /v1/models/{alias} is a 404 whose suggestion is the model the alias names."""
    problem = assert_problem(await client.get(f"/v1/models/{alias}"), 404)
    assert problem["suggestions"] == [repo_id]
