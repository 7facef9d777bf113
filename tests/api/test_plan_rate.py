"""POST /v1/plan with workload.requests_per_s: replicas sized to a request rate."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, error_keys

pytestmark = pytest.mark.anyio

SHAPE = {"input_tokens": 1000, "output_tokens": 200}


def request(**workload: Any) -> dict[str, Any]:
    return {
        "model": "meta-llama/Llama-3.1-8B",
        "workload": {**SHAPE, **workload},
        "constraints": {"gpus": ["h100-sxm"], "weight_dtypes": ["bf16"]},
    }


async def test_the_plan_delivers_the_requested_rate(client: AsyncTestClient[Litestar]) -> None:
    """Every configuration serves 20 requests/s x 200 output tokens = 4,000 tokens/s."""
    response = await client.post("/v1/plan", json=request(requests_per_s=20))
    assert response.status_code == 200, response.text
    configurations = response.json()["configurations"]
    assert configurations
    assert all(c["output_tokens_per_s"] == pytest.approx(4000) for c in configurations)


@pytest.mark.parametrize("rate", [0, -3, 2_000_000], ids=["zero", "negative", "absurd"])
async def test_an_out_of_range_rate_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], rate: float
) -> None:
    """requests_per_s must be > 0 and <= 1,000,000: problem+json naming the field."""
    response = await client.post("/v1/plan", json=request(requests_per_s=rate))
    assert "workload.requests_per_s" in error_keys(assert_problem(response, 400))


@pytest.mark.parametrize(
    ("workload", "field"),
    [
        ({"prefix_cache_hit_rate": 1.0}, "workload.prefix_cache_hit_rate"),
        (
            {"speculative": {"draft_tokens": 4, "acceptance_rate": 1.2}},
            "workload.speculative.acceptance_rate",
        ),
        (
            {"speculative": {"draft_tokens": 0, "acceptance_rate": 0.7}},
            "workload.speculative.draft_tokens",
        ),
    ],
    ids=["hit-rate-one", "acceptance-above-one", "no-draft"],
)
async def test_an_out_of_range_modifier_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], workload: dict[str, Any], field: str
) -> None:
    """Hit rate >= 1, acceptance rate > 1, draft length 0: problem+json naming the field."""
    response = await client.post("/v1/plan", json=request(concurrency=8, **workload))
    assert field in error_keys(assert_problem(response, 400))


async def test_modifiers_make_the_plan_faster(client: AsyncTestClient[Litestar]) -> None:
    """A cached half prompt lowers TTFT; speculation (k = 3, α = 0.7) lowers TPOT."""

    async def first(**workload: Any) -> dict[str, Any]:
        response = await client.post("/v1/plan", json=request(concurrency=8, **workload))
        assert response.status_code == 200, response.text
        best: dict[str, Any] = min(
            response.json()["configurations"], key=lambda c: (c["gpu_count"], c["tensor_parallel"])
        )
        return best

    plain = await first()
    cached = await first(prefix_cache_hit_rate=0.5)
    spec = await first(speculative={"draft_tokens": 3, "acceptance_rate": 0.7})
    assert cached["ttft_ms"] < plain["ttft_ms"]
    assert spec["tpot_ms"] < plain["tpot_ms"]


async def test_disaggregated_pools_are_offered_for_a_rate(
    client: AsyncTestClient[Litestar],
) -> None:
    """constraints.disaggregated: configurations carry prefill/decode pools and the verdict."""
    body = request(requests_per_s=10)
    body["constraints"] = {**body["constraints"], "disaggregated": True, "max_gpus": 32}
    body["slo"] = {"ttft_ms": 800, "tpot_ms": 30}
    response = await client.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    pools = [c["disaggregated"] for c in response.json()["configurations"] if c["disaggregated"]]
    assert pools
    for pool in pools:
        assert pool["prefill_instances"] >= 1
        assert pool["decode_instances"] >= 1
        assert isinstance(pool["beats_aggregated"], bool)


async def test_disaggregated_without_a_rate_is_a_400_naming_it(
    client: AsyncTestClient[Litestar],
) -> None:
    """Pools are sized for a rate: constraints.disaggregated without workload.requests_per_s
    is refused naming it (it was silently ignored)."""
    body = request()
    body["constraints"] = {**body["constraints"], "disaggregated": True}
    problem = assert_problem(await client.post("/v1/plan", json=body), 400)
    assert error_keys(problem) == {"constraints.disaggregated"}
    assert "workload.requests_per_s" in problem["errors"][0]["message"]
