"""The GPU catalog: paginated reads for everyone, admin-token writes with optimistic locking."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import (
    ADMIN,
    assert_problem,
    catalog_gpu,
    catalog_gpu_ids,
    error_keys,
    gpu_body,
)

pytestmark = pytest.mark.anyio


async def test_pages_cover_the_seed_catalog_once(client: AsyncTestClient[Litestar]) -> None:
    """Pages of 5 list every GPU of gpus.yaml exactly once, in id order, with the total."""
    ids: list[str] = []
    for offset in range(0, 100, 5):
        response = await client.get("/v1/gpus", params={"limit": 5, "offset": offset})
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(catalog_gpu_ids())
        assert (page["limit"], page["offset"]) == (5, offset)
        assert len(page["items"]) <= 5
        ids += [item["id"] for item in page["items"]]
    assert ids == catalog_gpu_ids()


@pytest.mark.parametrize("vendor", ["amd", "AMD", "Amd"])
async def test_vendor_filter_lists_only_that_vendor(
    client: AsyncTestClient[Litestar], vendor: str
) -> None:
    """?vendor=amd, in any letter case, returns exactly the AMD entries of gpus.yaml."""
    response = await client.get("/v1/gpus", params={"vendor": vendor, "limit": 500})
    assert response.status_code == 200, response.text
    expected = [g for g in catalog_gpu_ids() if catalog_gpu(g)["vendor"] == "amd"]
    assert expected
    assert [item["id"] for item in response.json()["items"]] == expected


async def test_one_gpu_has_its_catalog_figures(client: AsyncTestClient[Litestar]) -> None:
    """GET /v1/gpus/h100-sxm returns the memory and bandwidth gpus.yaml states."""
    response = await client.get("/v1/gpus/h100-sxm")
    assert response.status_code == 200, response.text
    body, seed = response.json(), catalog_gpu("h100-sxm")
    assert body["memory_bytes"] == seed["memory_bytes"]
    assert body["memory_bandwidth_bytes_per_s"] == seed["memory_bandwidth_bytes_per_s"]
    assert body["origin"] == "seed"


async def test_unknown_gpu_is_404_problem(client: AsyncTestClient[Litestar]) -> None:
    """GET of an id that is not in the catalog is a 404 problem naming it."""
    problem = assert_problem(await client.get("/v1/gpus/quantum-9000"), 404)
    assert "quantum-9000" in problem["detail"]


async def test_created_gpu_can_be_read_back(client: AsyncTestClient[Litestar]) -> None:
    """POST as admin is 201 at version 1, origin operator; GET then returns the same figures."""
    created = await client.post("/v1/gpus", json=gpu_body(), headers=ADMIN)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["origin"]) == (1, "operator")
    read = await client.get("/v1/gpus/test-gpu")
    assert read.status_code == 200, read.text
    assert read.json()["memory_bytes"] == 48 * 2**30


async def test_a_measured_matmul_rate_prices_compute_at_that_rate(
    client: AsyncTestClient[Litestar],
) -> None:
    """A GPU whose BF16 matmuls were measured at half its peak is read back with that rate,
    and its prefill compute takes twice as long as on a twin that reaches its peak."""

    async def prefill_compute_ms(gpu_id: str, achievable_tflops: float) -> float:
        body = gpu_body(gpu_id, achievable_tflops_bf16=achievable_tflops)
        created = await client.post("/v1/gpus", json=body, headers=ADMIN)
        assert created.status_code == 201, created.text
        assert created.json()["achievable_tflops_bf16"] == achievable_tflops
        response = await client.post(
            "/v1/latency",
            json={
                "model": "meta-llama/Llama-3.2-1B",
                "gpu": gpu_id,
                "batch_size": 1,
                "input_tokens": 4000,
                "output_tokens": 10,
            },
        )
        assert response.status_code == 200, response.text
        return float(response.json()["prefill"]["compute_ms"])

    at_peak = await prefill_compute_ms("test-gpu-peak", 200.0)
    at_half = await prefill_compute_ms("test-gpu-half", 100.0)
    assert at_half == pytest.approx(2 * at_peak, rel=1e-3)


async def test_creating_an_existing_id_is_409(client: AsyncTestClient[Litestar]) -> None:
    """POST with the id of a seed GPU is a 409 problem; the seed row is untouched."""
    response = await client.post("/v1/gpus", json=gpu_body("h100-sxm"), headers=ADMIN)
    assert_problem(response, 409)
    read = await client.get("/v1/gpus/h100-sxm")
    assert read.json()["memory_bytes"] == catalog_gpu("h100-sxm")["memory_bytes"]


async def test_replace_with_current_version_bumps_it(client: AsyncTestClient[Litestar]) -> None:
    """PUT with the version just read is 200 and the row moves to the next version."""
    await client.post("/v1/gpus", json=gpu_body(), headers=ADMIN)
    body = {k: v for k, v in gpu_body(name="Renamed", version=1).items() if k != "id"}
    replaced = await client.put("/v1/gpus/test-gpu", json=body, headers=ADMIN)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["name"], replaced.json()["version"]) == ("Renamed", 2)


async def test_replace_with_stale_version_is_409(client: AsyncTestClient[Litestar]) -> None:
    """Two writers read version 1; the second PUT is a 409 problem and changes nothing."""
    await client.post("/v1/gpus", json=gpu_body(), headers=ADMIN)
    first = {k: v for k, v in gpu_body(name="First", version=1).items() if k != "id"}
    second = {k: v for k, v in gpu_body(name="Second", version=1).items() if k != "id"}
    assert (await client.put("/v1/gpus/test-gpu", json=first, headers=ADMIN)).status_code == 200
    problem = assert_problem(await client.put("/v1/gpus/test-gpu", json=second, headers=ADMIN), 409)
    assert "version" in problem["detail"]
    assert (await client.get("/v1/gpus/test-gpu")).json()["name"] == "First"


async def test_replacing_an_unknown_gpu_is_404(client: AsyncTestClient[Litestar]) -> None:
    """PUT of an id that is not in the catalog is a 404 problem (POST creates)."""
    body = {k: v for k, v in gpu_body().items() if k != "id"}
    assert_problem(await client.put("/v1/gpus/not-there", json=body, headers=ADMIN), 404)


async def test_deleted_gpu_is_gone(client: AsyncTestClient[Litestar]) -> None:
    """DELETE is 204; a GET afterwards is a 404 problem, and so is a second DELETE."""
    response = await client.delete("/v1/gpus/l4", headers=ADMIN)
    assert response.status_code == 204, response.text
    assert_problem(await client.get("/v1/gpus/l4"), 404)
    assert_problem(await client.delete("/v1/gpus/l4", headers=ADMIN), 404)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"memory_bytes": "lots"}, "memory_bytes"),
        ({"memory_bytes": 0}, "memory_bytes"),
        ({"id": "H100 SXM"}, "id"),
        ({"verified": 0}, "verified"),
        ({"nominal_memory_gb": 0}, "nominal_memory_gb"),
        ({"sources": ["x" * 1001]}, "sources"),
        ({"achievable_tflops_bf16": 200.5}, "achievable_tflops_bf16"),
        ({"dense_tflops_bf16": 0, "achievable_tflops_bf16": 100.0}, "achievable_tflops_bf16"),
    ],
    ids=[
        "string-bytes",
        "zero-bytes",
        "id-pattern",
        "int-as-bool",
        "zero-optional",
        "long-source",
        "measured-above-peak",
        "measured-without-bf16",
    ],
)
async def test_malformed_gpu_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], overrides: dict[str, Any], field: str
) -> None:
    """Invalid GPU bodies are 400 problems whose errors name the field (no type coercion)."""
    response = await client.post("/v1/gpus", json=gpu_body(**overrides), headers=ADMIN)
    problem = assert_problem(response, 400)
    assert any(key.startswith(field) for key in error_keys(problem)), problem


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset")],
    ids=["zero-limit", "limit-above-500", "negative-offset"],
)
async def test_bad_pagination_is_400_naming_the_parameter(
    client: AsyncTestClient[Litestar], params: dict[str, int], field: str
) -> None:
    """Out-of-range paging parameters are 400 problems naming the query parameter."""
    problem = assert_problem(await client.get("/v1/gpus", params=params), 400)
    assert field in error_keys(problem), problem
