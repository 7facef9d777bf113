"""A 404 for an unknown model or GPU carries the nearest catalog ids as ``suggestions``."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, catalog_gpu_ids

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
MAX_BATCH: dict[str, Any] = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        pytest.param("Meta-Llama-3.1-8B-Instruct", LLAMA_8B, id="instruct-variant"),
        pytest.param("llama-3.1-8b", LLAMA_8B, id="loose-spelling"),
    ],
)
async def test_unknown_model_404_suggests_the_catalog_model(
    client: AsyncTestClient[Litestar], model: str, expected: str
) -> None:
    """The suggestion is the catalog id to retry with, also named in ``detail``."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, "model": model})
    problem = assert_problem(response, 404)
    assert (problem["suggestions"], expected in problem["detail"]) == ([expected], True)


async def test_gpu_family_404_lists_every_variant(client: AsyncTestClient[Litestar]) -> None:
    """``h100`` is answered with every catalog GPU of that family."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, "gpu": "h100"})
    problem = assert_problem(response, 404)
    family = {gpu for gpu in catalog_gpu_ids() if gpu.startswith("h100")}
    assert set(problem["suggestions"]) == family


async def test_nothing_close_has_no_suggestions(client: AsyncTestClient[Litestar]) -> None:
    """A name like no catalog entry gets a plain 404, without an empty list."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, "gpu": "zzzz-9999"})
    assert "suggestions" not in assert_problem(response, 404)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/v1/models/Meta-Llama-3.1-8B-Instruct", [LLAMA_8B], id="model-variant"),
        pytest.param("/v1/models/meta-llama/llama-3.1-8b", [LLAMA_8B], id="model-loose"),
        pytest.param("/v1/gpus/H100-SXM", ["h100-sxm"], id="gpu-case"),
    ],
)
async def test_catalog_read_404_suggests_the_catalog_id(
    client: AsyncTestClient[Litestar], path: str, expected: list[str]
) -> None:
    """GET of an unknown model or GPU id answers 404 with the id to retry with."""
    problem = assert_problem(await client.get(path), 404)
    assert problem["suggestions"] == expected


async def test_catalog_read_404_gpu_family_lists_every_variant(
    client: AsyncTestClient[Litestar],
) -> None:
    """GET /v1/gpus/h100 suggests every catalog GPU of the family."""
    problem = assert_problem(await client.get("/v1/gpus/h100"), 404)
    assert set(problem["suggestions"]) == {g for g in catalog_gpu_ids() if g.startswith("h100")}
