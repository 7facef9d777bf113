"""Expert parallelism and attention data parallelism: where they apply, what they cost in
memory, and the plan trying them for MoE models."""

from __future__ import annotations

import pytest

from service.catalog_files import load_engine_profiles
from service.domain.hf_config import architecture_from_config
from service.domain.moe import expert_parallel_problem, parallel_extra_weight_bytes
from service.domain.parameters import count_parameters
from service.domain.planner import SearchSpace, Workload, plan
from tests.domain.reference import H100, arch, config, params, with_fields

PROFILE = load_engine_profiles().get("vllm-0.6.4")
WORKLOAD = Workload(input_tokens=1024, output_tokens=256, concurrency=16)
# Mixtral-8x7B's config.json: 32 layers, hidden 4096, expert intermediate 14336 (w1, w2, w3).
MIXTRAL_EXPERT_PARAMETERS = 32 * 3 * 4096 * 14336
# Llama-3.1-8B: 32 layers of q and o (4096 x 4096) and k and v (4096 x 1024).
LLAMA_8B_ATTENTION_PARAMETERS = 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024)


@pytest.mark.parametrize(
    ("model", "ranks", "words"),
    [
        ("llama3-8b", 2, "dense"),
        ("mixtral-8x7b", 16, "8 experts"),
        ("mixtral-8x7b", 8, None),
    ],
    ids=["dense", "more-ranks-than-experts", "one-expert-each"],
)
def test_expert_parallelism_needs_experts_to_spread(
    model: str, ranks: int, words: str | None
) -> None:
    """EP needs an MoE model and at least one whole expert per GPU; the reason says which."""
    problem = expert_parallel_problem(arch(model), ranks)
    assert (problem is None) == (words is None)
    assert words is None or words in (problem or "")


def test_uneven_experts_cost_the_busiest_gpu_half_an_expert() -> None:
    """6 experts over 4 GPUs: vLLM puts 2 on the busiest, half an expert (all 32 layers of
    it, bf16) more than the even split."""
    six = architecture_from_config(with_fields(config("mixtral-8x7b"), num_local_experts=6))
    extra = parallel_extra_weight_bytes(
        six,
        count_parameters(six),
        bytes_per_element=2,
        tensor_parallel=4,
        pipeline_parallel=1,
        expert_parallel=True,
        attention_data_parallel=False,
    )
    assert extra == pytest.approx(0.5 * MIXTRAL_EXPERT_PARAMETERS * 2)


def test_attention_data_parallel_replicates_the_attention_weights() -> None:
    """Each of 4 GPUs holds all of Llama-3.1-8B's attention weights: 3/4 of them more."""
    extra = parallel_extra_weight_bytes(
        arch("llama3-8b"),
        params("llama3-8b"),
        bytes_per_element=2,
        tensor_parallel=4,
        pipeline_parallel=1,
        expert_parallel=False,
        attention_data_parallel=True,
    )
    assert extra == pytest.approx(LLAMA_8B_ATTENTION_PARAMETERS * 0.75 * 2)


def layouts(model: str, space: SearchSpace) -> set[tuple[int, bool, bool]]:
    """(TP, EP, attention DP) of every configuration the plan found."""
    found = plan(arch(model), params(model), [H100], WORKLOAD, space=space, profile=PROFILE)
    return {
        (c.tensor_parallel, c.expert_parallel, c.attention_data_parallel)
        for c in found.configurations
    }


def test_the_plan_tries_expert_and_attention_dp_layouts_for_moe_models() -> None:
    """Mixtral on up to 8 H100s: each multi-GPU layout with TP, EP, and EP + attention DP."""
    found = layouts("mixtral-8x7b", SearchSpace(max_gpus=8))
    assert {(8, False, False), (8, True, False), (8, True, True)} <= found


@pytest.mark.parametrize(
    ("model", "space"),
    [
        ("llama3-8b", SearchSpace(max_gpus=8)),
        ("mixtral-8x7b", SearchSpace(max_gpus=8, expert_parallel=False)),
    ],
    ids=["dense-model", "moe-with-ep-off"],
)
def test_no_expert_layouts_for_dense_models_or_when_off(model: str, space: SearchSpace) -> None:
    """A dense model, or a space without expert parallelism, gets tensor parallelism only."""
    assert all(not ep and not dp for _, ep, dp in layouts(model, space))


def test_expert_parallel_past_the_experts_is_rejected_with_the_reason() -> None:
    """Four experts cannot spread whole over 8 GPUs: that layout is a rejection saying so."""
    four = architecture_from_config(with_fields(config("mixtral-8x7b"), num_local_experts=4))
    found = plan(
        four,
        count_parameters(four),
        [H100],
        WORKLOAD,
        space=SearchSpace(max_gpus=8),
        profile=PROFILE,
    )
    reasons = [r.reason for r in found.rejected if r.expert_parallel and r.tensor_parallel == 8]
    assert reasons
    assert all("4 experts" in reason for reason in reasons)
