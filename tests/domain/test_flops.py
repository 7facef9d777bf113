"""FLOPs: 2 per weight per token, plus attention that grows with the context it reads."""

from __future__ import annotations

import pytest

from service.domain.flops import (
    attention_flops_per_token,
    matmul_parameters_per_token,
    prefill_flops,
)
from tests.domain.reference import arch, params

# Llama-3-8B matmul weights: 8,030,261,248 − 525,336,576 input embedding (a lookup)
# − 266,240 norm weights = 7,504,658,432 (lm_head is a real matmul and stays).
LLAMA3_8B_MATMUL = 7_504_658_432


def test_matmul_parameters_exclude_lookups_and_norms() -> None:
    """N_matmul = active − input embedding − norms (sheet §2.4)."""
    assert matmul_parameters_per_token(arch("llama3-8b"), params("llama3-8b")) == LLAMA3_8B_MATMUL


def test_tied_lm_head_is_still_multiplied() -> None:
    """Gemma-2B's tied lm_head costs 2·V·d per token: 2,506,172,416 − 75,776 norm weights =
    2,506,096,640 matmul weights, of which the lm_head's 524,288,000 are 20.9 % (sheet §3.1)."""
    n = matmul_parameters_per_token(arch("gemma-2b"), params("gemma-2b"))
    assert n == 2_506_096_640
    assert 524_288_000 / n == pytest.approx(0.209, abs=0.0005)


def test_decode_attention_uses_query_heads_not_kv_heads() -> None:
    """Decode attention at context T is 4·L·T·H·h: Llama-3-8B at T = 4096 is
    4·32·4096·32·128 = 2,147,483,648 FLOPs (the 32 query heads, not the 8 KV heads)."""
    assert attention_flops_per_token(arch("llama3-8b"), 4096) == 4 * 32 * 4096 * 32 * 128


def test_mla_decode_attends_to_the_latent_in_the_absorbed_form() -> None:
    """MLA decode (absorbed): 2·L·T·H·((r + r_rope) + r) = 2·61·1000·128·(576 + 512), 3.4x
    the decompressed 2·L·T·H·(h_nope + h_rope + h_v) = 2·61·1000·128·320."""
    assert attention_flops_per_token(arch("deepseek-v3"), 1000) == 2 * 61 * 1000 * 128 * 1088


def test_mla_prefill_attention_runs_decompressed() -> None:
    """MLA prefill attends with decompressed heads: 2·H·(h_qk + h_v) = 2·128·320 per layer
    and position, over the S(S+1)/2 causal positions of each of the 61 layers."""
    model, tokens = arch("deepseek-v3"), 1000
    matmuls = 2 * matmul_parameters_per_token(model, params("deepseek-v3")) * tokens
    attention = prefill_flops(model, params("deepseek-v3"), tokens) - matmuls
    assert attention == 61 * 2 * 128 * 320 * tokens * (tokens + 1) // 2


def test_sliding_layers_attend_to_at_most_their_window() -> None:
    """Mistral v0.1 at T = 10,000 attends to 4,096 tokens in each of its 32 layers."""
    assert attention_flops_per_token(arch("mistral-7b-v0.1"), 10_000) == 4 * 32 * 128 * 32 * 4096


def test_llama3_8b_prefill_4096_tokens() -> None:
    """2·N·S = 61.48 TFLOP of matmuls plus causal attention 2·L·H·h·S² = 4.40 TFLOP:
    65.9 TFLOP in all (sheet §3.5)."""
    total = prefill_flops(arch("llama3-8b"), params("llama3-8b"), 4096)
    attention = total - 2 * LLAMA3_8B_MATMUL * 4096
    assert attention / 1e12 == pytest.approx(4.40, abs=0.005)
    assert total / 1e12 == pytest.approx(65.9, abs=0.05)


def test_causal_prefill_counts_each_position_once() -> None:
    """Position i attends to i tokens: Σ i = S(S+1)/2 per layer; for S = 3, 6 positions."""
    model = arch("llama3-8b")
    attention = prefill_flops(model, params("llama3-8b"), 3) - 2 * LLAMA3_8B_MATMUL * 3
    assert attention == 32 * 4 * 32 * 128 * 6


def test_windowed_prefill_caps_each_position_at_the_window() -> None:
    """Σ min(i, W) for S = 8192, W = 4096: 4096·4097/2 + 4096·4096 = 25,167,872 positions per
    layer, × 32 layers × 4·32·128 FLOPs each."""
    model, counted = arch("mistral-7b-v0.1"), params("mistral-7b-v0.1")
    matmul = matmul_parameters_per_token(model, counted)
    attention = prefill_flops(model, counted, 8192) - 2 * matmul * 8192
    assert attention == 32 * 4 * 32 * 128 * 25_167_872
