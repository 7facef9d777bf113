"""MoE as it runs: routed work per token, tokens per expert, grouped-GEMM efficiency."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.latency import Bound, Efficiency, Serving, decode_terms, estimate_latency
from service.domain.moe import (
    MAX_TILE_ROWS,
    grouped_gemm_efficiency,
    routed_parameters_per_token,
    tokens_per_expert,
)
from tests.domain.reference import H100, IDEAL, arch, params

HALF = msgspec.structs.replace(IDEAL, moe_half_tokens=64.0)


def test_routed_work_per_token_is_k_of_e_experts() -> None:
    """Mixtral-8x7B: 2 of 8 experts per token, a quarter of all routed weights."""
    routed = params("mixtral-8x7b").breakdown.routed_experts
    assert routed_parameters_per_token(arch("mixtral-8x7b"), params("mixtral-8x7b")) == routed / 4
    assert routed_parameters_per_token(arch("llama3-8b"), params("llama3-8b")) == 0


@pytest.mark.parametrize(("tokens", "rows"), [(8, 2.0), (1024, 256.0)], ids=["decode", "prefill"])
def test_tokens_per_expert_is_t_k_over_e(tokens: int, rows: float) -> None:
    """Mixtral: T·2/8 rows per expert GEMM."""
    assert tokens_per_expert(arch("mixtral-8x7b"), tokens) == rows


@pytest.mark.parametrize(
    ("rows", "half", "expected"),
    [(64.0, 64.0, 0.5), (192.0, 64.0, 0.75), (5.0, 0.0, 1.0)],
    ids=["at-half", "three-quarters", "ideal"],
)
def test_grouped_gemm_efficiency(rows: float, half: float, expected: float) -> None:
    """g(n) = n / (n + n½); 1 when n½ is 0."""
    assert grouped_gemm_efficiency(rows, half) == pytest.approx(expected)


@pytest.mark.parametrize("half", [MAX_TILE_ROWS, 487.0, 10_000.0], ids=["tile", "fitted", "absurd"])
def test_grouped_gemm_waste_is_at_most_one_tile(half: float) -> None:
    """Padding to the kernel's M tile wastes at most one tile per expert: g(n) >= n/(n + m)."""
    rows = 1.0
    assert grouped_gemm_efficiency(rows, half) == pytest.approx(rows / (rows + MAX_TILE_ROWS))


def test_one_row_expert_gemms_stay_bound_by_their_weight_read() -> None:
    """Mixtral decoding one sequence (one row per touched expert) on 2 H100s is memory-bound
    whatever half point the fit returns: its padded expert FLOPs (one 128-row tile, below the
    bf16 ridge of 295 rows) cost less than reading the experts touched."""
    serving = Serving(gpu=H100, tensor_parallel=2)
    huge = msgspec.structs.replace(IDEAL, moe_half_tokens=10_000.0)
    decode = estimate_latency(
        arch("mixtral-8x7b"), params("mixtral-8x7b"), serving,
        batch_size=1, input_tokens=128, output_tokens=2, efficiency=huge,
    ).decode  # fmt: skip
    assert decode.bound is Bound.MEMORY_BANDWIDTH
    assert decode.compute_ms < decode.memory_ms


def test_small_expert_gemms_slow_only_moe_compute() -> None:
    """A 64-token half point slows Mixtral's prefill compute (256 rows per expert: g = 0.8 on
    the routed share) and leaves a dense model's compute as it was."""
    serving = Serving(gpu=H100, tensor_parallel=2)

    def compute_ms(model: str, eff: Efficiency) -> float:
        return estimate_latency(
            arch(model), params(model), serving,
            batch_size=1, input_tokens=1024, output_tokens=2, efficiency=eff,
        ).prefill.compute_ms  # fmt: skip

    assert compute_ms("mixtral-8x7b", HALF) > compute_ms("mixtral-8x7b", IDEAL)
    assert compute_ms("llama3-8b", HALF) == pytest.approx(compute_ms("llama3-8b", IDEAL))


def test_expert_parallel_swaps_the_mlp_all_reduce_for_two_all_to_alls() -> None:
    """Mixtral-8x7B on 8 H100s, decode batch of 64: 32 layers, all MoE. TP alone: 64
    all-reduces of 64·4096·2 B. EP: 32 all-reduces (attention) and 64 all-to-alls, each GPU
    sending 64/8 tokens x 2 experts x 4096 x 2 B x 7/8 over 450 GB/s."""
    model = "mixtral-8x7b"
    tp = Serving(gpu=H100, tensor_parallel=8)
    ep = Serving(gpu=H100, tensor_parallel=8, expert_parallel=True)
    plain = decode_terms(arch(model), params(model), tp, batch=64, context=1000)
    experts = decode_terms(arch(model), params(model), ep, batch=64, context=1000)
    all_reduce = 2 * 7 / 8 * 64 * 4096 * 2 / 450e9
    all_to_all = 64 / 8 * 2 * 4096 * 2 * 7 / 8 / 450e9
    assert plain.all_reduces == 64
    assert plain.communication_s == pytest.approx(64 * all_reduce)
    assert experts.all_reduces == 32 + 64
    assert experts.communication_s == pytest.approx(32 * all_reduce + 64 * all_to_all)


def test_expert_parallel_changes_nothing_for_a_dense_model() -> None:
    """No experts, no all-to-all: Llama-3-8B's step is the same with the flag on."""
    flag = Serving(gpu=H100, tensor_parallel=4, expert_parallel=True)
    plain = Serving(gpu=H100, tensor_parallel=4)
    model = "llama3-8b"
    assert decode_terms(arch(model), params(model), flag, batch=16, context=500) == decode_terms(
        arch(model), params(model), plain, batch=16, context=500
    )


def test_attention_data_parallel_reads_the_whole_attention_and_skips_its_all_reduce() -> None:
    """Llama-3-8B on 4 GPUs, bf16: each GPU reads 3/4 of the attention weights more than
    under TP (all of them instead of a quarter) and runs one all-reduce per layer, not two."""
    model = "llama3-8b"
    tp = Serving(gpu=H100, tensor_parallel=4)
    dp = Serving(gpu=H100, tensor_parallel=4, attention_data_parallel=True)
    plain = decode_terms(arch(model), params(model), tp, batch=16, context=500)
    split = decode_terms(arch(model), params(model), dp, batch=16, context=500)
    extra_bytes = params(model).breakdown.attention * 2 * 3 / 4
    assert split.weight_read_s - plain.weight_read_s == pytest.approx(extra_bytes / 3.35e12)
    assert split.all_reduces == plain.all_reduces // 2 == 32
    assert split.kv_s == plain.kv_s
