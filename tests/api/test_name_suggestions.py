"""A 404 for an unknown model or GPU carries the nearest catalog ids as ``suggestions``, and
names the field the id came from in ``errors``."""

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


LATENCY: dict[str, Any] = {
    "model": LLAMA_8B,
    "gpu": "h100-sxm",
    "batch_size": 1,
    "input_tokens": 128,
    "output_tokens": 128,
}
PLAN: dict[str, Any] = {"model": LLAMA_8B, "workload": {"input_tokens": 128, "output_tokens": 128}}
DRAFT = {"method": "draft_model", "draft_tokens": 2, "acceptance_rate": 0.5, "draft_model": "no/pe"}


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("/v1/max-batch", {**MAX_BATCH, "model": "no/pe"}, "model"),
        ("/v1/max-batch", {**MAX_BATCH, "gpu": "nope"}, "gpu"),
        ("/v1/latency", {**LATENCY, "speculative": DRAFT}, "speculative.draft_model"),
        ("/v1/plan", {**PLAN, "model": "no/pe"}, "model"),
        (
            "/v1/plan",
            {**PLAN, "constraints": {"gpus": ["h100-sxm", "nope"]}},
            "constraints.gpus[1]",
        ),
        ("/v1/plan", {**PLAN, "prices": {"l4": 1, "nope": 1}}, "prices.nope"),
        (
            "/v1/plan",
            {**PLAN, "workload": {**PLAN["workload"], "speculative": DRAFT}},
            "workload.speculative.draft_model",
        ),
    ],
    ids=["model", "gpu", "draft", "plan-model", "plan-gpus-item", "plan-price", "plan-draft"],
)
async def test_an_unknown_id_in_a_body_names_its_field(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, Any], key: str
) -> None:
    """The 404's ``errors`` name where the unknown id sits, down to the list item."""
    problem = assert_problem(await client.post(path, json=body), 404)
    assert [(e["key"], e["source"]) for e in problem["errors"]] == [(key, "body")]
    assert problem["errors"][0]["message"].startswith("not in the catalog")


@pytest.mark.parametrize("key", ["model", "gpu"])
async def test_an_unknown_id_in_the_svg_query_names_its_parameter(
    client: AsyncTestClient[Litestar], key: str
) -> None:
    """GET /v1/frontier.svg: the 404 names the query parameter."""
    query = {"model": LLAMA_8B, "gpu": "l4", "input_tokens": 8, "output_tokens": 8, key: "no/pe"}
    problem = assert_problem(await client.get("/v1/frontier.svg", params=query), 404)
    assert [(e["key"], e["source"]) for e in problem["errors"]] == [(key, "query")]


async def test_an_unknown_id_in_a_url_path_has_no_errors(client: AsyncTestClient[Litestar]) -> None:
    """GET /v1/gpus/{id} of an unknown id names the resource; no field list."""
    assert "errors" not in assert_problem(await client.get("/v1/gpus/nope"), 404)
