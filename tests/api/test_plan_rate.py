"""POST /v1/plan with workload.requests_per_s: replicas sized to a request rate."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, catalog_gpu, error_keys

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


def recommended(configuration: dict[str, Any]) -> dict[str, Any]:
    """The figures of the arrangement a configuration says it recommends."""
    if configuration["serving"] == "disaggregated":
        pools: dict[str, Any] = configuration["disaggregated"]
        return pools
    return configuration


async def disaggregated_plan(
    client: AsyncTestClient[Litestar], shape: dict[str, int], rate: float, slo: dict[str, float]
) -> list[dict[str, Any]]:
    """Llama-3.1-8B bf16 on H100s (up to 32) at ``rate`` requests/s, with pools asked for."""
    body = request()
    body["workload"] = {**shape, "requests_per_s": rate}
    body["constraints"] = {**body["constraints"], "disaggregated": True, "max_gpus": 32}
    body["slo"] = slo
    response = await client.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    configurations: list[dict[str, Any]] = response.json()["configurations"]
    return configurations


async def test_a_plan_disaggregation_beats_ranks_by_the_pools(
    client: AsyncTestClient[Litestar],
) -> None:
    """8k in / 1k out at 20 requests/s, TPOT 15 ms: configurations whose pools beat aggregated
    serving say serving: disaggregated, their pools are priced at the H100's rate, and the
    answer is ordered by the recommended $/Mtok (the aggregated $/Mtok is out of order)."""
    shape = {"input_tokens": 8000, "output_tokens": 1000}
    found = await disaggregated_plan(client, shape, 20, {"tpot_ms": 15})
    price = catalog_gpu("h100-sxm")["price_per_hour_usd"]
    assert any(c["serving"] == "disaggregated" for c in found)
    for c in found:
        pools = c["disaggregated"]
        beats = pools is not None and pools["beats_aggregated"]
        assert c["serving"] == ("disaggregated" if beats else "aggregated")
        if beats:
            assert pools["cost_per_hour"] == pytest.approx(price * pools["gpu_count"])
            assert pools["cost_per_million_output_tokens"] == pytest.approx(
                price * pools["gpu_count"] / (20 * 1000 * 3600) * 1e6
            )
    assert all(recommended(c)["meets_slo"] for c in found)
    ranked = [recommended(c)["cost_per_million_output_tokens"] for c in found]
    assert ranked == sorted(ranked)
    top_level = [c["cost_per_million_output_tokens"] for c in found]
    assert top_level != sorted(top_level)


async def test_a_plan_disaggregation_does_not_beat_stays_aggregated(
    client: AsyncTestClient[Litestar],
) -> None:
    """1k in / 200 out at 10 requests/s: every layout's pools need more GPUs than serving
    together, so every configuration says serving: aggregated, ranked by its own $/Mtok."""
    shape = {"input_tokens": 1000, "output_tokens": 200}
    found = await disaggregated_plan(client, shape, 10, {"ttft_ms": 800, "tpot_ms": 30})
    assert any(c["disaggregated"] is not None for c in found)
    assert all(c["serving"] == "aggregated" for c in found)
    top_level = [c["cost_per_million_output_tokens"] for c in found]
    assert top_level == sorted(top_level)


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


@pytest.mark.parametrize(
    ("arrival", "rate"),
    [(20, 20), (500, 5)],
    ids=["equal-rates", "contradicting-rates"],
)
async def test_both_rates_are_a_400_naming_arrival_rate(
    client: AsyncTestClient[Litestar], arrival: float, rate: float
) -> None:
    """arrival_rate_per_s beside requests_per_s is refused by name: one stream, one rate."""
    body = request(arrival_rate_per_s=arrival, requests_per_s=rate)
    response = await client.post("/v1/plan", json=body)
    problem = assert_problem(response, 400)
    assert error_keys(problem) == {"workload.arrival_rate_per_s"}
    assert "requests_per_s" in problem["detail"]


@pytest.mark.parametrize(
    ("arrival", "saturated"),
    [(0.1, False), (500, True)],
    ids=["keeps-up", "saturated"],
)
async def test_without_an_slo_meets_slo_says_whether_the_replicas_keep_up(
    client: AsyncTestClient[Litestar], arrival: float, saturated: bool
) -> None:
    """No SLO: meets_slo is true unless the arrival rate saturates the replicas."""
    response = await client.post("/v1/plan", json=request(arrival_rate_per_s=arrival))
    assert response.status_code == 200, response.text
    configurations = response.json()["configurations"]
    assert configurations
    assert all(c["load"]["saturated"] is saturated for c in configurations)
    assert all(c["meets_slo"] is not saturated for c in configurations)
