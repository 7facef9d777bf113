"""POST /v1/plan: every deployment that serves the workload, ranked, and every rejection."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.planning.lean import reason_kind
from tests.api.conftest import (
    ADMIN,
    assert_problem,
    catalog_gpu,
    catalog_gpu_ids,
    error_keys,
    reference_model,
)

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
LLAMA_70B = "meta-llama/Llama-3.1-70B"
WORKLOAD = {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4}


def llama_params(vocab: int, d: int, layers: int, ffn: int, kv_dim: int, *, tied: bool) -> int:
    """A Llama checkpoint counted by hand: token embeddings (plus an LM head unless tied); per
    layer q and o (d x d), k and v (d x kv_dim), gate, up and down (d x ffn), two RMSNorms (d);
    the final norm (d)."""
    per_layer = 2 * d * d + 2 * d * kv_dim + 3 * d * ffn + 2 * d
    return (1 if tied else 2) * vocab * d + layers * per_layer + d


# Shapes from the published config.json files (vocab, hidden, layers, intermediate, 8 KV heads).
LLAMA_8B_PARAMS = llama_params(128_256, 4096, 32, 14_336, 8 * 128, tied=False)
LLAMA_70B_PARAMS = llama_params(128_256, 8192, 80, 28_672, 8 * 128, tied=False)
LLAMA_1B_PARAMS = llama_params(128_256, 2048, 16, 8192, 8 * 64, tied=True)


def request(**overrides: Any) -> dict[str, Any]:
    return {"model": LLAMA_8B, "workload": WORKLOAD, **overrides}


async def test_8b_on_h100s_has_configurations(client: AsyncTestClient[Litestar]) -> None:
    """Llama-3.1-8B restricted to H100s: only H100 configurations; bf16 TP=1 loads 16.06 GB of
    parameters plus vLLM's RoPE cos/sin cache (131,072 positions x 128 x 2 B)."""
    response = await client.post(
        "/v1/plan",
        json=request(constraints={"gpus": ["h100-sxm"], "weight_dtypes": ["bf16"]}),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == LLAMA_8B
    assert body["configurations"]
    assert {c["gpu"] for c in body["configurations"]} == {"h100-sxm"}
    single = next(c for c in body["configurations"] if c["gpu_count"] == 1)
    assert single["weight_dtype"] == "bf16"
    rope_cache = 131_072 * 128 * 2
    assert single["memory"]["weights"] == 2 * LLAMA_8B_PARAMS + rope_cache == 16_094_076_928
    assert single["memory"]["total"] == catalog_gpu("h100-sxm")["memory_bytes"]


async def test_70b_bf16_on_one_l4_is_200_with_no_configuration(
    client: AsyncTestClient[Litestar],
) -> None:
    """Infeasible is an answer: no configurations, a rejection quoting 141.1 GB vs the L4's GB."""
    constraints = {"gpus": ["l4"], "max_gpus": 1, "weight_dtypes": ["bf16"]}
    body = {**request(model=LLAMA_70B, constraints=constraints), "include_rejected": "all"}
    response = await client.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["configurations"] == []
    assert body["rejected"]
    l4 = catalog_gpu("l4")["memory_bytes"]
    weights = 2 * LLAMA_70B_PARAMS  # 141,107,412,992 bytes
    reason = " ".join(r["reason"] for r in body["rejected"])
    assert "141.1 GB" in reason
    for figure in (weights, 0.9 * l4, l4):
        assert f"{figure / 1e9:.1f} GB" in reason


async def test_whole_catalog_is_searched_without_constraints(
    client: AsyncTestClient[Litestar],
) -> None:
    """No constraints: configurations and rejections span more than one GPU of the catalog."""
    response = await client.post("/v1/plan", json=request())
    assert response.status_code == 200, response.text
    body = response.json()
    seen = {c["gpu"] for c in body["configurations"]} | {r["gpu"] for r in body["rejected"]}
    assert len(seen) > 1
    assert seen <= set(catalog_gpu_ids())


@pytest.mark.parametrize(
    ("objective", "metric", "sign"),
    [
        ("latency", "e2e_ms", 1),
        ("throughput", "output_tokens_per_s", -1),
    ],
    ids=["latency", "throughput"],
)
async def test_configurations_are_ranked_by_the_objective(
    client: AsyncTestClient[Litestar], objective: str, metric: str, sign: int
) -> None:
    """Without an SLO, configurations come best first by the objective's metric."""
    response = await client.post(
        "/v1/plan",
        json=request(objective=objective, constraints={"gpus": ["h100-sxm", "l40s", "a10g"]}),
    )
    assert response.status_code == 200, response.text
    values = [sign * c[metric] for c in response.json()["configurations"]]
    assert len(values) > 1
    assert values == sorted(values)


async def test_model_added_through_the_api_can_be_planned(
    client: AsyncTestClient[Litestar],
) -> None:
    """POST /v1/models with a config, then /v1/plan by that new repo id."""
    reference = reference_model("meta-llama/Llama-3.2-1B")
    created = await client.post(
        "/v1/models",
        json={"id": "acme/llama-1b-clone", "config": reference["config"]},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    assert created.json()["total_params"] == LLAMA_1B_PARAMS == 1_235_814_400
    response = await client.post(
        "/v1/plan",
        json=request(model="acme/llama-1b-clone", constraints={"gpus": ["l4"]}),
    )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "acme/llama-1b-clone"
    assert response.json()["configurations"]


async def test_unknown_gpu_in_constraints_is_404_problem(
    client: AsyncTestClient[Litestar],
) -> None:
    """A constraint naming a GPU that is not in the catalog is a 404 problem naming it."""
    response = await client.post(
        "/v1/plan", json=request(constraints={"gpus": ["h100-sxm", "warp-drive"]})
    )
    problem = assert_problem(response, 404)
    assert "warp-drive" in problem["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"workload": {"input_tokens": 0, "output_tokens": 10}}, "workload.input_tokens"),
        ({"workload": {"input_tokens": 10}}, "workload"),
        ({"objective": "fastest"}, "objective"),
        ({"slo": {"ttft_ms": 0}}, "slo.ttft_ms"),
        ({"constraints": {"weight_dtypes": []}}, "constraints.weight_dtypes"),
        ({"constraints": {"gpus": []}}, "constraints.gpus"),
        ({"constraints": {"max_gpus": True}}, "constraints.max_gpus"),
    ],
    ids=[
        "zero-input",
        "no-output-tokens",
        "unknown-objective",
        "zero-slo",
        "empty-dtypes",
        "no-gpus",
        "bool-as-int",
    ],
)
async def test_malformed_body_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], overrides: dict[str, Any], field: str
) -> None:
    """Schema violations are 400 problems whose errors name the offending field."""
    response = await client.post("/v1/plan", json=request(**overrides))
    problem = assert_problem(response, 400)
    assert field in error_keys(problem), problem


async def test_state_space_model_is_422_naming_the_feature(
    client: AsyncTestClient[Litestar],
) -> None:
    """A config capplan cannot model (Mamba) is 422 naming the feature, not a wrong answer."""
    config = reference_model(LLAMA_8B)["config"]
    config["model_type"] = "mamba"
    response = await client.post("/v1/plan", json=request(model={"hf_config": config}))
    problem = assert_problem(response, 422)
    assert "mamba" in problem["detail"].lower()


@pytest.mark.parametrize(
    ("field", "values"),
    [
        (
            "weight_dtypes",
            ["auto", "fp32", "bf16", "fp16", "fp8", "int8", "int4", "mxfp4", "nvfp4"],
        ),
        ("kv_cache_dtypes", ["auto", "bf16", "fp16", "fp8"]),
    ],
    ids=["every-weight-dtype", "every-kv-dtype"],
)
async def test_a_constraint_may_list_every_precision(
    client: AsyncTestClient[Litestar], field: str, values: list[str]
) -> None:
    """A precision list naming each value of its enum once is accepted (not capped below it)."""
    constraints = {"gpus": ["h100-sxm"], "max_gpus": 1, field: values}
    response = await client.post("/v1/plan", json=request(constraints=constraints))
    assert response.status_code == 200, response.text


async def test_rejection_summary_keeps_the_digits_of_names(
    client: AsyncTestClient[Litestar],
) -> None:
    """Summary reasons mask standalone numbers only: GPU names and dtypes (A100, fp8) survive."""
    constraints = {"gpus": ["a100-sxm-80gb"], "max_gpus": 1, "kv_cache_dtypes": ["fp8"]}
    response = await client.post("/v1/plan", json=request(constraints=constraints))
    reasons = [group["reason"] for group in response.json()["rejections"]]
    assert reasons, response.text
    assert any("A100" in reason and "fp8" in reason for reason in reasons), reasons
    assert all("A#" not in reason and "fp#" not in reason for reason in reasons), reasons


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("weights need 151.2 GB, over 80 GB", "weights need # GB, over # GB"),
        ("NVIDIA A100 SXM4 80GB: bf16 at 312 TFLOP/s", "NVIDIA A100 SXM4 80GB: bf16 at # TFLOP/s"),
        ("1e+06 requests/s saturate 4 replicas", "# requests/s saturate # replicas"),
        ("each holds 1,024.", "each holds #."),
    ],
    ids=["sizes", "names-kept", "exponent", "thousands"],
)
def test_reason_kind_masks_standalone_numbers_only(reason: str, kind: str) -> None:
    """Standalone numbers become #; digits attached to letters (A100, 80GB, bf16) stay."""
    assert reason_kind(reason) == kind


async def test_a_replica_runs_at_most_the_engines_default_max_num_seqs(
    client: AsyncTestClient[Litestar],
) -> None:
    """Llama-3.1-8B at 100 tokens on an H100 holds ~4,000 sequences of KV, but vLLM V1 runs
    1024 there by default: 3,000 users need three replicas of one GPU."""
    body = request(
        workload={"input_tokens": 64, "output_tokens": 36, "concurrency": 3000},
        constraints={"gpus": ["h100-sxm"], "weight_dtypes": ["bf16"], "kv_cache_dtypes": ["bf16"]},
    )
    response = await client.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    configurations = response.json()["configurations"]
    assert configurations
    assert all(c["max_batch"] <= 1024 for c in configurations)
    single = [c for c in configurations if c["tensor_parallel"] * c["pipeline_parallel"] == 1]
    assert single
    assert all(c["max_batch"] == 1024 and c["replicas"] >= 3 for c in single)


async def test_max_num_seqs_caps_each_replicas_batch(client: AsyncTestClient[Litestar]) -> None:
    """max_num_seqs 16 (as every replica's engine is started): no replica holds more than 16."""
    body = (await client.post("/v1/plan", json={**request(), "max_num_seqs": 16})).json()
    assert body["configurations"]
    assert max(c["max_batch"] for c in body["configurations"]) == 16
