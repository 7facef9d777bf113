"""Exact parameter counts: total, active and the breakdown, against published totals."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from tests.domain.reference import GEMMA3_1B, GPT_OSS_20B, arch, params, with_fields


def test_reference_total_is_exact(reference_model: dict[str, Any]) -> None:
    """Every models.json config counts to its published total, to the parameter."""
    counted = count_parameters(architecture_from_config(reference_model["config"]))
    assert counted.total == reference_model["total_params"]


def test_breakdown_sums_to_total(reference_model: dict[str, Any]) -> None:
    """The per-role breakdown adds up to the total, so no parameter is lost or doubled."""
    counted = count_parameters(architecture_from_config(reference_model["config"]))
    b = counted.breakdown
    parts = (
        b.embedding,
        b.position_embedding,
        b.attention,
        b.mlp,
        b.routed_experts,
        b.shared_experts,
        b.router,
        b.norms,
        b.biases,
        b.attention_sinks,
        b.lm_head,
    )
    assert sum(parts) == counted.total


def test_dense_model_activates_every_parameter(reference_model: dict[str, Any]) -> None:
    """A dense model's active count is its total; an MoE's is strictly less."""
    model = architecture_from_config(reference_model["config"])
    counted = count_parameters(model)
    if model.moe is not None:
        assert counted.active < counted.total
    else:
        assert counted.active == counted.total


@pytest.mark.parametrize(
    ("model", "total"),
    [
        ("llama2-7b", 6_738_415_616),
        ("llama3-8b", 8_030_261_248),
        ("llama3-70b", 70_553_706_496),
        ("mistral-7b-v0.1", 7_241_732_096),
        ("gemma-2b", 2_506_172_416),
        ("gemma-7b", 8_537_680_896),
        ("qwen2-7b", 7_615_616_512),
        ("mixtral-8x7b", 46_702_792_704),
        ("deepseek-v3", 671_026_419_200),
    ],
    ids=lambda value: value if isinstance(value, str) else f"{value:,}",
)
def test_formula_sheet_total(model: str, total: int) -> None:
    """Totals of the sheet's §7 oracle set (checked there against transformers)."""
    assert params(model).total == total


@pytest.mark.parametrize(
    ("model", "active"),
    [("mixtral-8x7b", 12_879_925_248), ("deepseek-v3", 37_552_297_472)],
    ids=["mixtral-8x7b", "deepseek-v3"],
)
def test_moe_active_parameters(model: str, active: int) -> None:
    """Active per token: routed experts replaced by their k-of-E share (sheet §7)."""
    assert params(model).active == active


def test_deepseek_v3_router_bias_is_counted() -> None:
    """The e_score_correction_bias (58 MoE layers × 256) is in the checkpoint's 671 B.

    Without it the sheet's count is 671,026,404,352 = 671,026,419,200 − 14,848.
    """
    counted = params("deepseek-v3")
    router_bias = counted.breakdown.router - 58 * 256 * 7168
    assert router_bias == 14_848
    assert counted.total - router_bias == 671_026_404_352


def test_gemma_2b_is_about_2_5b_because_of_its_vocabulary() -> None:
    """Gemma "2B": 1,981,884,416 non-embedding + 524,288,000 embedding (Gemma report Table 2,
    vocab 256,000 × d 2048): 2.506 B, literally closer to 3 B than to 2 B."""
    counted = params("gemma-2b")
    assert counted.non_embedding == 1_981_884_416
    assert counted.breakdown.embedding == 256_000 * 2048 == 524_288_000
    assert counted.breakdown.lm_head == 0  # tied: counted once
    assert abs(counted.total - 3e9) < abs(counted.total - 2e9)


def test_gemma_7b_non_embedding_needs_head_dim_256() -> None:
    """Gemma-7B non-embedding 7,751,248,896 (Gemma report Table 2) needs h = 256, not 192."""
    assert params("gemma-7b").non_embedding == 7_751_248_896


def test_llama3_8b_non_embedding_versus_kipply_rule() -> None:
    """Llama-3-8B non-embedding = 8,030,261,248 − 2·128,256·4096 = 6,979,588,096; kipply's
    12·L·d² = 6,442,450,944 undercounts it by 7.7 % (sheet §2.1)."""
    non_embedding = params("llama3-8b").non_embedding
    assert non_embedding == 6_979_588_096
    assert 1 - 12 * 32 * 4096**2 / non_embedding == pytest.approx(0.077, abs=0.0005)


def test_gemma3_qk_norm_and_four_norms_per_layer() -> None:
    """Gemma-3-1B counts 999,885,952 (google/gemma-3-1b-it safetensors total).

    By hand: embedding 262,144·1152 = 301,989,888 (tied); per layer attention
    1152·(1024 + 256 + 256) + 1024·1152 = 2,949,120, MLP 3·1152·6912 = 23,887,872, norms
    4·1152 + q/k norms 2·256 = 5,120; 26 layers = 697,894,912; final norm 1,152.
    """
    assert count_parameters(architecture_from_config(GEMMA3_1B)).total == 999_885_952


def test_gpt_oss_20b_matches_its_model_card() -> None:
    """gpt-oss-20b: 20.91 B total and 3.61 B active excluding the input embedding (gpt-oss
    model card Table 1; sinks, expert and router biases included)."""
    counted = count_parameters(architecture_from_config(GPT_OSS_20B))
    assert counted.total == pytest.approx(20.91e9, abs=0.005e9)
    assert counted.active - counted.breakdown.embedding == pytest.approx(3.61e9, abs=0.005e9)


def test_qwen_moe_shared_expert_and_gate() -> None:
    """Qwen1.5-MoE-A2.7B: 14.3 B total, 2.7 B activated (Qwen blog); its shared expert
    (3·2048·5632) and sigmoid gate (d = 2048) are in every one of the 24 layers."""
    qwen_moe = {
        "model_type": "qwen2_moe",
        "vocab_size": 151936,
        "hidden_size": 2048,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "intermediate_size": 5632,
        "moe_intermediate_size": 1408,
        "shared_expert_intermediate_size": 5632,
        "num_experts": 60,
        "num_experts_per_tok": 4,
        "decoder_sparse_step": 1,
        "tie_word_embeddings": False,
        "max_position_embeddings": 8192,
    }
    counted = count_parameters(architecture_from_config(qwen_moe))
    assert counted.breakdown.shared_experts == 24 * (3 * 2048 * 5632 + 2048)
    assert counted.total == pytest.approx(14.3e9, abs=0.05e9)
    assert counted.active == pytest.approx(2.7e9, abs=0.05e9)


def test_deepseek_v2_lite_uncompressed_query_projection() -> None:
    """With q_lora_rank null, MLA's query is one d × H·(nope + rope) matrix per layer:
    2048 · 16 · 192 = 6,291,456 (27 layers), and only the kv_lora norm (512) is added."""
    model = arch("deepseek-v2-lite")
    mla = model.mla
    assert mla is not None
    q = 2048 * 16 * (128 + 64)
    kv = 2048 * (512 + 64) + 512 * 16 * (128 + 128)
    out = 16 * 128 * 2048
    assert params("deepseek-v2-lite").breakdown.attention == 27 * (q + kv + out)


def test_qkv_bias_counts_query_and_both_kv_widths() -> None:
    """Qwen2-7B biases: q 3584 + k, v 2·4·128 = 4,608 per layer, 28 layers = 129,024."""
    assert params("qwen2-7b").breakdown.biases == 28 * (3584 + 2 * 4 * 128)


def test_gated_mlp_bias_when_configured() -> None:
    """mlp_bias adds gate and up biases (2·f) and the down bias (d) per dense layer."""
    base = {
        "model_type": "llama",
        "vocab_size": 1000,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
    }
    without = count_parameters(architecture_from_config(base)).total
    with_bias = count_parameters(architecture_from_config(with_fields(base, mlp_bias=True))).total
    assert with_bias - without == 2 * (2 * 128 + 64)


def test_attention_bias_adds_qkv_and_output_biases() -> None:
    """attention_bias: q, k, v biases (H·h + 2·H_kv·h) and the o_proj bias (d) per layer."""
    base = {
        "model_type": "llama",
        "vocab_size": 1000,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
    }
    without = count_parameters(architecture_from_config(base)).total
    biased = count_parameters(architecture_from_config(with_fields(base, attention_bias=True)))
    assert biased.total - without == 2 * ((64 + 2 * 2 * 16) + 64)


def test_gpt2_parts_by_hand() -> None:
    """GPT-2 small: wte 50257·768 + wpe 1024·768; 12 layers of LayerNorm (2·2·768),
    attention 4·768² + biases 3·768 + 768, MLP 2·768·3072 + biases 3072 + 768."""
    b = params("gpt2").breakdown
    assert b.embedding == 50257 * 768
    assert b.position_embedding == 1024 * 768
    assert b.norms == 12 * 2 * 2 * 768 + 2 * 768
    assert b.mlp == 12 * 2 * 768 * 3072
    assert b.biases == 12 * (4 * 768 + 3072 + 768)
