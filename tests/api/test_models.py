"""The model catalog: repo ids with a slash in the path, admin writes, archived configs."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import (
    ADMIN,
    assert_problem,
    catalog_model_ids,
    error_keys,
    reference_model,
)

pytestmark = pytest.mark.anyio

NEW_ID = "acme/tiny-llama-1b"


def llama_1b() -> dict[str, Any]:
    return reference_model("meta-llama/Llama-3.2-1B")


async def test_pages_cover_the_seed_catalog_once(client: AsyncTestClient[Litestar]) -> None:
    """Pages of 10 list every model file of catalog/models exactly once, with the total."""
    ids: list[str] = []
    for offset in range(0, 100, 10):
        response = await client.get("/v1/models", params={"limit": 10, "offset": offset})
        assert response.status_code == 200, response.text
        assert response.json()["total"] == len(catalog_model_ids())
        ids += [item["id"] for item in response.json()["items"]]
    assert sorted(ids) == catalog_model_ids()
    assert len(ids) == len(set(ids))


async def test_model_type_filter(client: AsyncTestClient[Litestar]) -> None:
    """?model_type=llama lists only llama models, Llama-3.1-8B among them."""
    response = await client.get("/v1/models", params={"model_type": "llama", "limit": 500})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert {item["model_type"] for item in items} == {"llama"}
    assert "meta-llama/Llama-3.1-8B" in {item["id"] for item in items}


@pytest.mark.parametrize("model_type", ["LLAMA", "Llama"], ids=["upper", "mixed"])
async def test_model_type_is_matched_in_any_letter_case(
    client: AsyncTestClient[Litestar], model_type: str
) -> None:
    """?model_type= is case-insensitive, as ?vendor= is: LLAMA lists the llama models."""
    response = await client.get("/v1/models", params={"model_type": model_type, "limit": 500})
    items = response.json()["items"]
    assert "meta-llama/Llama-3.1-8B" in {item["id"] for item in items}
    assert {item["model_type"] for item in items} == {"llama"}


async def test_origin_filter_lists_only_that_origin(client: AsyncTestClient[Litestar]) -> None:
    """?origin=seed lists the seeded catalog; ?origin=operator none of it."""
    seeded = await client.get("/v1/models", params={"origin": "seed", "limit": 500})
    assert seeded.status_code == 200, seeded.text
    assert {item["origin"] for item in seeded.json()["items"]} == {"seed"}
    operator = await client.get("/v1/models", params={"origin": "operator"})
    assert (operator.status_code, operator.json()["total"]) == (200, 0)


async def test_unknown_origin_is_400_naming_the_parameter(
    client: AsyncTestClient[Litestar],
) -> None:
    """?origin=bogus is a 400 naming origin, not an empty page."""
    problem = assert_problem(await client.get("/v1/models", params={"origin": "bogus"}), 400)
    assert "origin" in error_keys(problem), problem


async def test_repo_id_with_a_slash_reads_back(client: AsyncTestClient[Litestar]) -> None:
    """GET /v1/models/meta-llama/Llama-3.1-8B: its config and published parameter total."""
    response = await client.get("/v1/models/meta-llama/Llama-3.1-8B")
    assert response.status_code == 200, response.text
    body = response.json()
    reference = reference_model("meta-llama/Llama-3.1-8B")
    assert body["id"] == "meta-llama/Llama-3.1-8B"
    assert body["total_params"] == reference["total_params"]
    assert body["config"]["num_hidden_layers"] == reference["config"]["num_hidden_layers"]


async def test_unknown_model_is_404_problem(client: AsyncTestClient[Litestar]) -> None:
    """GET of a repo id that is not in the catalog is a 404 problem naming it."""
    problem = assert_problem(await client.get("/v1/models/acme/nothing-here"), 404)
    assert "acme/nothing-here" in problem["detail"]


async def test_created_model_has_its_published_count(client: AsyncTestClient[Litestar]) -> None:
    """POST a config.json: 201, exact parameter count, origin operator, readable by repo id."""
    reference = llama_1b()
    response = await client.post(
        "/v1/models", json={"id": NEW_ID, "config": reference["config"]}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    assert response.json()["total_params"] == reference["total_params"]
    assert (response.json()["origin"], response.json()["version"]) == ("operator", 1)
    read = await client.get(f"/v1/models/{NEW_ID}")
    assert read.json()["total_params"] == reference["total_params"]


async def test_creating_an_existing_id_is_409(client: AsyncTestClient[Litestar]) -> None:
    """POST with the repo id of a seed model is a 409 problem."""
    body = {"id": "meta-llama/Llama-3.1-8B", "config": llama_1b()["config"]}
    assert_problem(await client.post("/v1/models", json=body, headers=ADMIN), 409)


async def test_replaced_config_changes_the_count(client: AsyncTestClient[Litestar]) -> None:
    """PUT a different config at the current version: 200, version 2, the new exact total."""
    await client.post(
        "/v1/models", json={"id": NEW_ID, "config": llama_1b()["config"]}, headers=ADMIN
    )
    tiny = reference_model("TinyLlama/TinyLlama-1.1B-Chat-v1.0")
    response = await client.put(
        f"/v1/models/{NEW_ID}", json={"config": tiny["config"], "version": 1}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.json()["total_params"] == tiny["total_params"] == 1_100_048_384


async def test_replace_with_stale_version_is_409(client: AsyncTestClient[Litestar]) -> None:
    """A PUT carrying a version that is no longer current is a 409 problem."""
    await client.post(
        "/v1/models", json={"id": NEW_ID, "config": llama_1b()["config"]}, headers=ADMIN
    )
    config = llama_1b()["config"]
    first = await client.put(
        f"/v1/models/{NEW_ID}", json={"config": config, "notes": "a", "version": 1}, headers=ADMIN
    )
    assert first.status_code == 200, first.text
    stale = await client.put(
        f"/v1/models/{NEW_ID}", json={"config": config, "notes": "b", "version": 1}, headers=ADMIN
    )
    assert_problem(stale, 409)
    assert (await client.get(f"/v1/models/{NEW_ID}")).json()["notes"] == "a"


async def test_deleted_model_is_gone(client: AsyncTestClient[Litestar]) -> None:
    """DELETE a repo id is 204; GET afterwards is a 404 problem, planning with it too."""
    response = await client.delete("/v1/models/meta-llama/Llama-3.1-8B", headers=ADMIN)
    assert response.status_code == 204, response.text
    assert_problem(await client.get("/v1/models/meta-llama/Llama-3.1-8B"), 404)
    inspect = await client.post("/v1/inspect", json={"model": "meta-llama/Llama-3.1-8B"})
    assert_problem(inspect, 404)


async def test_mamba_config_is_422_naming_the_feature(client: AsyncTestClient[Litestar]) -> None:
    """A state-space config cannot enter the catalog: 422 naming Mamba."""
    config = {"model_type": "mamba", "hidden_size": 768, "num_hidden_layers": 24}
    response = await client.post(
        "/v1/models", json={"id": "state-spaces/mamba-130m", "config": config}, headers=ADMIN
    )
    problem = assert_problem(response, 422)
    assert "mamba" in problem["detail"].lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "no-slash", "config": {}}, "id"),
        ({"id": NEW_ID}, "config"),
        ({"id": NEW_ID, "config": []}, "config"),
        ({"id": NEW_ID, "config": {"model_type": "llama"}}, "config.num_hidden_layers"),
    ],
    ids=["id-without-org", "no-config", "config-not-object", "config-missing-field"],
)
async def test_malformed_model_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], body: dict[str, Any], field: str
) -> None:
    """Invalid model bodies, and configs missing a required field, are 400s naming the field."""
    problem = assert_problem(await client.post("/v1/models", json=body, headers=ADMIN), 400)
    assert field in error_keys(problem), problem
