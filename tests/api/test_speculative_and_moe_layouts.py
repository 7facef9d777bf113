"""Speculative proposers and MoE layouts on /v1/latency, /v1/plan and /v1/frontier."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.limits import plan_cells
from service.domain.architecture import Architecture
from service.domain.hf_config import architecture_from_config
from service.planning.question import plan_variants
from tests.api.conftest import assert_problem, error_keys, reference_model

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
LLAMA_1B = "meta-llama/Llama-3.2-1B"
MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"


def reference_architecture(repo_id: str) -> Architecture:
    return architecture_from_config(reference_model(repo_id)["config"])


def latency(**overrides: Any) -> dict[str, Any]:
    body = {
        "model": LLAMA_8B,
        "gpu": "h100-sxm",
        "batch_size": 1,
        "input_tokens": 1000,
        "output_tokens": 200,
    }
    return {**body, **overrides}


def speculative(method: str, **more: Any) -> dict[str, Any]:
    return {"draft_tokens": 4, "acceptance_rate": 0.8, "method": method, **more}


async def test_a_draft_model_costs_time_and_memory(client: AsyncTestClient[Litestar]) -> None:
    """Llama-3.2-1B drafting for Llama-3.1-8B: TPOT above the free (ngram) proposer's, below
    plain decoding's at one user; its weights and KV leave fewer sequences in the cache."""

    async def answer(**overrides: Any) -> dict[str, Any]:
        response = await client.post("/v1/latency", json=latency(**overrides))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    plain = await answer()
    free = await answer(speculative=speculative("ngram"))
    drafted = await answer(speculative=speculative("draft_model", draft_model=LLAMA_1B))
    assert plain["tpot_ms"] > drafted["tpot_ms"] > free["tpot_ms"]

    def held(body: dict[str, Any]) -> int:
        """The sequences the cache holds, from the reason a too-large batch gives."""
        (reason,) = [r for r in body["reasons"] if "exceeds the" in r]
        return int(reason.split("exceeds the ")[1].split(" ")[0].replace(",", ""))

    alone = await answer(batch_size=60_000)
    beside = await answer(
        batch_size=60_000, speculative=speculative("draft_model", draft_model=LLAMA_1B)
    )
    assert held(beside) < held(alone)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (speculative("mtp"), "speculative.method"),
        (speculative("draft_model"), "speculative.draft_model"),
        (speculative("ngram", draft_model=LLAMA_1B), "speculative.draft_model"),
        (
            speculative("draft_model", draft_model="meta-llama/Llama-2-7b-hf"),
            "speculative.draft_model",
        ),
    ],
    ids=["mtp-without-mtp-layers", "draft-missing", "draft-with-ngram", "other-vocabulary"],
)
async def test_a_proposer_that_cannot_run_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], spec: dict[str, Any], field: str
) -> None:
    """Llama-3.1-8B has no MTP layer; a draft is needed with, and only with, draft_model, and
    must share the tokenizer: problem+json naming the field."""
    response = await client.post("/v1/latency", json=latency(speculative=spec))
    assert field in error_keys(assert_problem(response, 400))


async def test_an_unknown_draft_model_is_a_404(client: AsyncTestClient[Litestar]) -> None:
    """A draft id the catalog lacks: 404, as for the model itself."""
    spec = speculative("draft_model", draft_model="nobody/no-such-draft")
    assert_problem(await client.post("/v1/latency", json=latency(speculative=spec)), 404)


async def test_the_plan_names_a_bad_proposer_under_workload(
    client: AsyncTestClient[Litestar],
) -> None:
    """/v1/plan: MTP for a model without MTP layers is a 400 naming workload.speculative.method."""
    body = {
        "model": LLAMA_8B,
        "workload": {"input_tokens": 1000, "output_tokens": 200, "speculative": speculative("mtp")},
        "constraints": {"gpus": ["h100-sxm"], "max_gpus": 1},
    }
    response = await client.post("/v1/plan", json=body)
    assert "workload.speculative.method" in error_keys(assert_problem(response, 400))


async def test_expert_parallel_on_a_dense_model_is_a_400(
    client: AsyncTestClient[Litestar],
) -> None:
    """Expert parallelism needs experts: 400 naming expert_parallel, on latency and frontier."""
    response = await client.post(
        "/v1/latency", json=latency(tensor_parallel=2, expert_parallel=True)
    )
    assert "expert_parallel" in error_keys(assert_problem(response, 400))


async def test_latency_prices_expert_parallel_all_to_alls(
    client: AsyncTestClient[Litestar],
) -> None:
    """Mixtral on 8 H100s with EP: the MoE all-reduces become all-to-alls, so the decode
    step's communication changes while the answer still fits."""

    async def decode(**overrides: Any) -> dict[str, Any]:
        body = latency(model=MIXTRAL, tensor_parallel=8, batch_size=32, **overrides)
        response = await client.post("/v1/latency", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["fits"] is True
        phase: dict[str, Any] = response.json()["decode"]
        return phase

    tp = await decode()
    ep = await decode(expert_parallel=True)
    assert ep["communication_ms"] != tp["communication_ms"]


@pytest.mark.parametrize("allowed", [True, False], ids=["searched", "turned-off"])
async def test_the_plan_searches_moe_layouts_unless_turned_off(
    client: AsyncTestClient[Litestar], allowed: bool
) -> None:
    """Mixtral on up to 8 H100s: some configurations use expert parallelism, none with
    constraints.expert_parallel false."""
    body = {
        "model": MIXTRAL,
        "workload": {"input_tokens": 1000, "output_tokens": 200, "concurrency": 64},
        "constraints": {"gpus": ["h100-sxm"], "max_gpus": 8, "expert_parallel": allowed},
        "limit": 1000,
    }
    response = await client.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    configurations = response.json()["configurations"]
    assert configurations
    assert any(c["expert_parallel"] for c in configurations) == allowed


def test_the_search_space_counts_three_layouts_per_moe_layout() -> None:
    """The size check counts an MoE model's TP, EP and EP + attention-DP layouts (an inline
    config's when a key names experts), a dense model's TP alone, and TP alone when EP is
    off."""
    dense, moe = reference_architecture(LLAMA_8B), reference_architecture(MIXTRAL)
    assert plan_cells(4, 1, 1, 8, plan_variants(moe)) == 3 * plan_cells(4, 1, 1, 8)
    assert plan_variants(None, True, {"text_config": {"num_local_experts": 8}}) == 3
    assert plan_variants(None, True, {"model_type": "llama", "hidden_size": 4096}) == 1
    assert plan_cells(4, 1, 1, 8, plan_variants(dense)) == plan_cells(4, 1, 1, 8)
    assert plan_cells(4, 1, 1, 8, plan_variants(moe, False)) == plan_cells(4, 1, 1, 8)


@pytest.mark.parametrize(
    ("draft", "status"),
    [(LLAMA_1B, 200), ("nobody/no-such-draft", 404)],
    ids=["catalog-draft", "unknown-draft"],
)
async def test_the_plan_reads_its_draft_from_the_catalog(
    client: AsyncTestClient[Litestar], draft: str, status: int
) -> None:
    """/v1/plan with workload.speculative.draft_model: planned with a catalog draft, 404 for
    an id the catalog lacks."""
    spec = speculative("draft_model", draft_model=draft)
    body = {
        "model": LLAMA_8B,
        "workload": {"input_tokens": 1000, "output_tokens": 200, "speculative": spec},
        "constraints": {"gpus": ["h100-sxm"], "max_gpus": 1},
    }
    response = await client.post("/v1/plan", json=body)
    assert response.status_code == status, response.text
