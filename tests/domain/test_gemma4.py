"""Gemma 4: global-layer shapes, K-as-V, shared KV, MoE beside the MLP, PLE, towers.

Every expected value is hand arithmetic on a tiny config (written out in the docstring),
or a count published outside capplan.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.audio_gemma4 import gemma4_audio
from service.domain.count_check import CountVerdict, check_hub_total
from service.domain.flops import (
    attention_flops_per_token,
    matmul_parameters_per_token,
    prefill_flops,
)
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import kv_cache_bytes, kv_cache_bytes_per_token, layer_kv_specs
from service.domain.parameters import count_parameters, unused_shared_kv_parameters
from service.domain.precision import Precision
from service.domain.vision_gemma4 import gemma4_vision

# d=64, V=100, 2 layers (sliding, full), 4 query heads, sliding KV 2x16, global KV 1x32,
# dense MLP f=128, no PLE, tied embeddings.
TINY: dict[str, Any] = {
    "model_type": "gemma4_text",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "global_head_dim": 32,
    "num_global_key_value_heads": 1,
    "attention_k_eq_v": True,
    "intermediate_size": 128,
    "vocab_size": 100,
    "max_position_embeddings": 4096,
    "sliding_window": 512,
    "layer_types": ["sliding_attention", "full_attention"],
    "hidden_size_per_layer_input": 0,
    "num_kv_shared_layers": 0,
}


def _count(**changes: Any) -> Any:
    return count_parameters(architecture_from_config({**TINY, **changes}))


def test_global_layers_use_their_own_head_width_and_kv_heads_with_keys_as_values() -> None:
    """Sliding: q 64·64 + k, v 2·64·32 + o 64·64 = 12,288; global (h=32, 1 KV head, no
    v_proj): q 64·128 + k 64·32 + o 128·64 = 18,432."""
    assert _count().breakdown.attention == 12_288 + 18_432


def test_without_k_eq_v_global_layers_keep_v_proj_and_the_sliding_kv_heads() -> None:
    """Without attention_k_eq_v the global layer has 2 KV heads of 32 and a v_proj:
    q 8,192 + k, v 2·64·64 + o 8,192 = 24,576 (transformers ignores the global KV count)."""
    assert _count(attention_k_eq_v=False).breakdown.attention == 12_288 + 24_576


def test_norms_count_q_k_norms_per_layer_width_and_the_layer_scalars() -> None:
    """4 norms of 64 per layer (512), q/k norms 2·16 + 2·32 = 96, final norm 64 and one
    layer_scalar per layer (2): 674."""
    assert _count().breakdown.norms == 512 + 96 + 64 + 2


def test_shared_kv_layers_have_no_kv_projections_and_no_cache() -> None:
    """4 layers (sliding, full, sliding, full), the last 2 reusing layers 0 and 1's K/V:
    attention 12,288 + 18,432 + (q 4,096 + o 4,096) + (q 8,192 + o 8,192) = 55,296; q/k
    norms 32 + 64 + 16 + 32 (no k_norm on shared layers); bf16 cache per token: sliding
    2·2·16·2 = 128 B and global 2·1·32·2 = 128 B, nothing for layers 2 and 3."""
    config = {
        **TINY,
        "num_hidden_layers": 4,
        "layer_types": ["sliding_attention", "full_attention"] * 2,
        "num_kv_shared_layers": 2,
    }
    arch = architecture_from_config(config)
    counted = count_parameters(arch)
    assert counted.breakdown.attention == 55_296
    assert counted.breakdown.norms == 4 * 4 * 64 + (32 + 64 + 16 + 32) + 64 + 4
    assert kv_cache_bytes_per_token(arch, Precision.BF16) == 128 + 128
    assert len(layer_kv_specs(arch, Precision.BF16)) == 2


def test_the_last_layer_is_forced_to_global_attention() -> None:
    """transformers forces layer_types[-1] to full_attention (configuration_gemma4.py)."""
    config = {**TINY, "layer_types": ["sliding_attention", "sliding_attention"]}
    arch = architecture_from_config(config)
    assert [layer.head_dim for layer in arch.layer_attention] == [None, 32]


def test_kv_cache_per_layer_kind_uses_each_layers_width_and_window() -> None:
    """Global KV 2x64 (k_eq_v off): sliding 2·2·16·2 = 128 B/token held for min(T, 512),
    global 2·2·64·2 = 512 B/token for T; at T = 1,000: 128·512 + 512·1,000."""
    arch = architecture_from_config({**TINY, "attention_k_eq_v": False, "global_head_dim": 64})
    assert kv_cache_bytes(arch, Precision.BF16, 1_000) == 128 * 512 + 512 * 1_000


def test_moe_block_runs_beside_the_dense_mlp_with_router_scales() -> None:
    """8 experts of 32, top 2: per layer experts 8·3·64·32 = 49,152, dense MLP 3·64·128 =
    24,576 (always on), router 64·8 + scale 64 + per_expert_scale 8 = 584, 3 more norms."""
    counted = _count(
        enable_moe_block=True, num_experts=8, top_k_experts=2, moe_intermediate_size=32
    )
    b = counted.breakdown
    assert (b.routed_experts, b.shared_experts, b.router, b.mlp) == (
        2 * 49_152,
        2 * 24_576,
        2 * 584,
        0,
    )
    assert b.norms == 2 * 7 * 64 + 96 + 64 + 2
    assert counted.total - counted.active == 2 * 6 * 3 * 64 * 32


def test_top_k_experts_above_the_expert_count_is_a_bad_field() -> None:
    """top_k_experts stands for num_experts_per_tok and is checked like it."""
    with pytest.raises(ValueError, match="top_k_experts"):
        _count(enable_moe_block=True, num_experts=4, top_k_experts=8, moe_intermediate_size=32)


def test_per_layer_embeddings_add_a_table_projections_and_norms() -> None:
    """p=8, V_p=50, L=2: table 50·2·8 = 800; model projection 64·16 and per layer gate
    64·8 + projection 8·64 = 3·2·64·8 = 3,072; norms: p + one more per layer (2·64)."""
    plain, ple = _count(), _count(hidden_size_per_layer_input=8, vocab_size_per_layer_input=50)
    assert ple.breakdown.embedding - plain.breakdown.embedding == 800
    assert ple.breakdown.mlp - plain.breakdown.mlp == 3_072
    assert ple.breakdown.norms - plain.breakdown.norms == 8 + 2 * 64


def test_double_wide_mlp_doubles_the_shared_kv_layers_mlp() -> None:
    """use_double_wide_mlp with the last of 3 layers KV-shared adds one 3·64·128 MLP (the
    last layer is forced global, as transformers does)."""
    config = {
        "num_hidden_layers": 3,
        "layer_types": ["sliding_attention", "full_attention", "sliding_attention"],
        "num_kv_shared_layers": 1,
    }
    narrow = _count(**config)
    wide = _count(**config, use_double_wide_mlp=True)
    assert wide.breakdown.mlp - narrow.breakdown.mlp == 3 * 64 * 128


def test_absent_layer_types_follow_five_sliding_to_one_global() -> None:
    """Gemma4TextConfig's default: layer i global when (i + 1) % 6 == 0, the last forced
    global; 7 layers -> globals 5 and 6."""
    arch = architecture_from_config(
        {k: v for k, v in {**TINY, "num_hidden_layers": 7}.items() if k != "layer_types"}
    )
    widths = [layer.head_dim for layer in arch.layer_attention]
    assert widths == [None] * 5 + [32, 32]


def test_vision_tower_matches_a_published_extracted_tower_count() -> None:
    """rnagabh/gemma4-vision-encoder (the 31B's tower, extracted) states
    _verified_total_params 569,550,384; embed_vision (1152 · d_text) is not in it."""
    tower = {
        "hidden_size": 1152,
        "intermediate_size": 4304,
        "num_hidden_layers": 27,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "head_dim": 72,
        "patch_size": 16,
        "position_embedding_size": 10240,
        "standardize": True,
        "use_clipped_linears": False,
    }
    assert gemma4_vision(tower, 5376) - 1152 * 5376 == 569_550_384


def test_audio_tower_formula_on_a_tiny_tower() -> None:
    """h=8, 1 layer, 2 heads, kernel 3, o=4, channels (8, 2): sub-sampling
    72 + 8 + 144 + 2 + 2·2·8 = 258; layer 2·(8·64 + 16) + (5·64 + 4) + (3·64 + 24 + 16)
    + 24 = 1,636 (the clip bounds are not counted); output 8·4 + 4 = 36; embed_audio
    4·16 = 64 -> 1,994."""
    audio = {
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "conv_kernel_size": 3,
        "output_proj_dims": 4,
        "subsampling_conv_channels": [8, 2],
        "use_clipped_linears": True,
    }
    assert gemma4_audio(audio, 16) == 1_994


def test_checkpoints_unused_shared_kv_weights_are_a_named_hub_extra() -> None:
    """The 4-layer shared config's checkpoint keeps k/v and k_norm of its shared layers:
    sliding 2·64·32 + 16 and global 2·64·32 + 32 = 8,240, which explains a Hub total that
    much above the count (transformers ignores those keys on load)."""
    config = {
        **TINY,
        "num_hidden_layers": 4,
        "layer_types": ["sliding_attention", "full_attention"] * 2,
        "num_kv_shared_layers": 2,
    }
    arch = architecture_from_config(config)
    counted = count_parameters(arch)
    assert unused_shared_kv_parameters(arch) == 8_240
    check = check_hub_total(arch, counted, {"BF16": counted.total + 8_240}, quantized=False)
    assert check is not None
    assert check.verdict is CountVerdict.EXPLAINED
    assert "shared-KV" in check.explanation


@pytest.mark.parametrize(
    ("context", "flops"),
    [
        # sliding: 2·4·(16+16)·100 = 25,600; global: 2·4·(32+32)·100 = 51,200
        (100, 25_600 + 51_200),
        # sliding capped at its 512-token window: 256·512 = 131,072; global 512·1000
        (1000, 256 * 512 + 512 * 1000),
    ],
    ids=["inside-window", "past-window"],
)
def test_decode_attention_flops_use_each_layers_head_width(context: int, flops: int) -> None:
    """QKᵀ and AV per new token: the global layer's heads are 32 wide, the sliding one's 16."""
    assert attention_flops_per_token(architecture_from_config(TINY), context) == flops


def test_prefill_attention_flops_use_each_layers_head_width() -> None:
    """100-token prefill, causal: 5,050 positions per layer; sliding 2·4·32 = 256 FLOPs per
    position, global 2·4·64 = 512; the matmul term is the rest."""
    arch = architecture_from_config(TINY)
    matmul = 2 * matmul_parameters_per_token(arch, count_parameters(arch)) * 100
    assert prefill_flops(arch, count_parameters(arch), 100) - matmul == 5050 * (256 + 512)
