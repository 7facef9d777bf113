"""Linear-attention and state-space layers: exact parameters and per-sequence state.

Formulas are written out per test from the transformers modelling code
(``modeling_qwen3_next.py`` Qwen3NextGatedDeltaNet, ``modeling_nemotron_h.py``
NemotronHMamba2Mixer) and vLLM's state shapes (``mamba_utils.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import InvalidConfig, MixerKind, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import layer_kv_specs
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from service.domain.state_layers import gated_deltanet, jamba_mamba, mamba2
from service.domain.weights import weight_memory
from tests.domain.reference import with_fields

# Qwen/Qwen3-Next-80B-A3B-Instruct shapes (catalog/reference/models_2025.json).
QWEN3_NEXT: dict[str, Any] = {
    "model_type": "qwen3_next",
    "hidden_size": 2048,
    "num_hidden_layers": 48,
    "vocab_size": 151936,
    "head_dim": 256,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "num_experts": 512,
    "num_experts_per_tok": 10,
    "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512,
    "linear_num_key_heads": 16,
    "linear_key_head_dim": 128,
    "linear_num_value_heads": 32,
    "linear_value_head_dim": 128,
    "linear_conv_kernel_dim": 4,
    "full_attention_interval": 4,
    "tie_word_embeddings": False,
}
# nvidia/NVIDIA-Nemotron-Nano-9B-v2 shapes (catalog/reference/models_2025.json).
NEMOTRON_NANO: dict[str, Any] = {
    "model_type": "nemotron_h",
    "hidden_size": 4480,
    "num_hidden_layers": 56,
    "hybrid_override_pattern": "M-M-M-MM-M-M-M*-M-M-M*-M-M-M-M*-M-M-M-M*-M-MM-M-M-M-M-M-",
    "intermediate_size": 15680,
    "mamba_head_dim": 80,
    "mamba_num_heads": 128,
    "n_groups": 8,
    "ssm_state_size": 128,
    "conv_kernel": 4,
    "num_attention_heads": 40,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 131072,
    "tie_word_embeddings": False,
}


def test_gated_deltanet_parameters_follow_the_projections() -> None:
    """d=8, 2 key heads of 3, 4 value heads of 5, kernel 4: K=6, V=20.
    Matrices: qkvz 8·(12+40)=416, ba 8·8=64, out 20·8=160 -> 640.
    Small: conv (12+20)·4=128, dt_bias 4, A_log 4, gated norm 5 -> 141."""
    spec = gated_deltanet(
        {
            "linear_num_key_heads": 2,
            "linear_key_head_dim": 3,
            "linear_num_value_heads": 4,
            "linear_value_head_dim": 5,
            "linear_conv_kernel_dim": 4,
        },
        hidden_size=8,
    )
    assert (spec.matrix_parameters, spec.small_parameters) == (640, 141)


def test_mamba2_parameters_follow_the_projections() -> None:
    """d=8, 4 heads of 2 (I=8), 2 groups, N=3, kernel 4: C = 8 + 2·2·3 = 20.
    Matrices: in_proj 8·(8+20+4)=256, out_proj 8·8=64 -> 320.
    Small: conv 20·4=80 + conv bias 20, A_log/D/dt_bias 3·4=12, gated norm 8 -> 120."""
    spec = mamba2(
        {"mamba_num_heads": 4, "mamba_head_dim": 2, "n_groups": 2, "ssm_state_size": 3},
        hidden_size=8,
    )
    assert (spec.matrix_parameters, spec.small_parameters) == (320, 120)


@pytest.mark.parametrize(
    ("tp", "conv", "state"),
    [(1, 3 * (2 * 2048 + 4096), 32 * 128 * 128), (2, 3 * 4096, 16 * 128 * 128)],
    ids=["tp1", "tp2"],
)
def test_gated_deltanet_state_is_split_across_ranks(tp: int, conv: int, state: int) -> None:
    """Qwen3-Next: conv (k-1)·(2K+V)/t, recurrent n_v/t · h_k · h_v elements per sequence."""
    spec = architecture_from_config(QWEN3_NEXT).state
    assert spec is not None
    assert (spec.conv_elements(tp), spec.state_elements(tp)) == (conv, state)


@pytest.mark.parametrize(
    ("tp", "conv", "state"),
    [(1, 3 * (10240 + 2 * 8 * 128), 128 * 80 * 128), (16, 3 * (640 + 2 * 128), 8 * 80 * 128)],
    ids=["tp1", "tp16-groups-replicated"],
)
def test_mamba2_state_replicates_groups_beyond_their_count(tp: int, conv: int, state: int) -> None:
    """Nemotron-Nano-9B: 8 groups over 16 ranks leave one (replicated) group per rank."""
    spec = architecture_from_config(NEMOTRON_NANO).state
    assert spec is not None
    assert (spec.conv_elements(tp), spec.state_elements(tp)) == (conv, state)


def test_state_bytes_use_separate_conv_and_ssm_dtypes() -> None:
    """bf16 conv state and fp32 recurrent state: 2·conv + 4·state bytes."""
    spec = architecture_from_config(QWEN3_NEXT).state
    assert spec is not None
    expected = 2 * spec.conv_elements() + 4 * spec.state_elements()
    assert spec.bytes_per_sequence(2, 4) == expected


def test_qwen3_next_attends_every_fourth_layer() -> None:
    """full_attention_interval 4: layers 3, 7, ... 47 attend; the 36 others are DeltaNet."""
    arch = architecture_from_config(QWEN3_NEXT)
    assert arch.attention_layers == tuple(range(3, 48, 4))
    assert len(arch.state_layers) == 36
    assert arch.attention_query_gate


def test_explicit_layer_types_override_the_interval() -> None:
    """A Qwen3.5-style layer_types list decides which layers attend."""
    kinds = ["linear_attention", "full_attention"] * 24
    arch = architecture_from_config(with_fields(QWEN3_NEXT, layer_types=kinds))
    assert arch.attention_layers == tuple(range(1, 48, 2))


def test_nemotron_blocks_hold_one_mixer_each() -> None:
    """'M' Mamba2, '*' attention, '-' MLP: only the MLP blocks have an MLP."""
    arch = architecture_from_config(NEMOTRON_NANO)
    pattern = NEMOTRON_NANO["hybrid_override_pattern"]
    assert len(arch.attention_layers) == pattern.count("*")
    assert len(arch.state_layers) == pattern.count("M")
    assert arch.mixers.count(MixerKind.NONE) == pattern.count("-")
    assert len(arch.mlp_free_layers) == pattern.count("M") + pattern.count("*")


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        (with_fields(QWEN3_NEXT, layer_types=["full_attention"] * 47), "layer_types"),
        (with_fields(QWEN3_NEXT, layer_types=["linear_attention", "nope"] * 24), "layer_types"),
        (
            with_fields(NEMOTRON_NANO, hybrid_override_pattern="M-X" * 18 + "MM"),
            "hybrid_override_pattern",
        ),
        (with_fields(NEMOTRON_NANO, num_hidden_layers=52), "num_hidden_layers"),
        (
            with_fields(QWEN3_NEXT, linear_num_value_heads=24, linear_num_key_heads=16),
            "linear_num_value_heads",
        ),
    ],
    ids=[
        "layer-types-length",
        "unknown-layer-kind",
        "unknown-block-symbol",
        "pattern-length",
        "heads-ratio",
    ],
)
def test_inconsistent_layer_pattern_is_invalid_naming_the_field(
    cfg: dict[str, Any], field: str
) -> None:
    """A layer pattern that contradicts the config is a 400 naming the field, not a guess."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(cfg)
    assert raised.value.field == field


@pytest.mark.parametrize("cfg", [QWEN3_NEXT, NEMOTRON_NANO], ids=["qwen3-next", "nemotron-h"])
def test_hybrid_bf16_weights_on_one_gpu_are_two_bytes_per_parameter(cfg: dict[str, Any]) -> None:
    """On one GPU the per-GPU weights equal the total: 2 bytes for every parameter."""
    arch = architecture_from_config(cfg)
    params = count_parameters(arch)
    memory = weight_memory(arch, params, Precision.BF16, 1, 1)
    assert memory.per_gpu_bytes == memory.total_bytes == 2 * params.total


def test_hybrid_weights_split_across_tensor_parallel_ranks() -> None:
    """At TP 2 each rank holds at most half the mixer and MLP matrices plus replicas."""
    arch = architecture_from_config(QWEN3_NEXT)
    params = count_parameters(arch)
    one = weight_memory(arch, params, Precision.BF16, 1, 1).per_gpu_bytes
    two = weight_memory(arch, params, Precision.BF16, 2, 1).per_gpu_bytes
    assert one / 2 <= two < one


def test_granite_mamba_keys_map_to_the_bamba_mixer() -> None:
    """Granite's mamba_* keys give the same mixer as Nemotron's names for the same shapes."""
    granite = mamba2(
        {"mamba_n_heads": 4, "mamba_d_head": 2, "mamba_n_groups": 2, "mamba_d_state": 3},
        hidden_size=8,
        keys="granite",
    )
    nemotron = mamba2(
        {"mamba_num_heads": 4, "mamba_head_dim": 2, "n_groups": 2, "ssm_state_size": 3},
        hidden_size=8,
    )
    assert granite == nemotron


def test_granite_expand_must_match_the_heads() -> None:
    """mamba_expand·d must equal heads·head_dim, else the config is invalid (named)."""
    with pytest.raises(InvalidConfig) as raised:
        mamba2(
            {"mamba_n_heads": 4, "mamba_d_head": 2, "mamba_d_state": 3, "mamba_expand": 2},
            hidden_size=8,
            keys="granite",
        )
    assert raised.value.field == "mamba_expand"


def test_jamba_mamba1_parameters_follow_the_projections() -> None:
    """d=8, expand 2 (I=16), N=3, R=2, kernel 4: in_proj 8·32=256, x_proj 16·8=128,
    dt_proj 2·16=32, out_proj 16·8=128 -> 544; conv 64 + bias 16, dt bias 16, A_log 48,
    D 16, dt/b/c norms 2+3+3 -> 168."""
    spec = jamba_mamba(
        {"mamba_expand": 2, "mamba_d_state": 3, "mamba_dt_rank": 2, "mamba_d_conv": 4},
        hidden_size=8,
    )
    assert (spec.matrix_parameters, spec.small_parameters) == (544, 168)
    assert (spec.conv_elements(), spec.state_elements()) == (3 * 16, 16 * 3)


def test_jamba_attends_by_period_and_offset() -> None:
    """attn_layer_period 8 / offset 4 over 16 layers: layers 4 and 12 attend, MoE on odd layers."""
    cfg = {
        "model_type": "jamba",
        "hidden_size": 64,
        "num_hidden_layers": 16,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": 100,
        "attn_layer_period": 8,
        "attn_layer_offset": 4,
        "expert_layer_period": 2,
        "expert_layer_offset": 1,
        "num_experts": 4,
        "num_experts_per_tok": 2,
    }
    arch = architecture_from_config(cfg)
    assert arch.attention_layers == (4, 12)
    assert arch.moe is not None
    assert arch.moe.moe_layers == tuple(range(1, 16, 2))


KIMI_LINEAR: dict[str, Any] = {
    # Kimi-Linear-48B-A3B layer pattern (1-based full_attn_layers) on tiny shapes.
    "model_type": "kimi_linear",
    "hidden_size": 64,
    "num_hidden_layers": 8,
    "num_attention_heads": 4,
    "kv_lora_rank": 16,
    "q_lora_rank": None,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 4,
    "v_head_dim": 8,
    "intermediate_size": 128,
    "vocab_size": 100,
    "num_experts": 4,
    "num_experts_per_token": 2,
    "num_shared_experts": 1,
    "moe_intermediate_size": 16,
    "first_k_dense_replace": 1,
    "linear_attn_config": {
        "full_attn_layers": [4, 8],
        "head_dim": 8,
        "num_heads": 2,
        "short_conv_kernel_size": 4,
    },
}


def test_kda_parameters_follow_the_projections() -> None:
    """vLLM kda.py, d=64, 2 heads of 8 (P=16), kernel 4: q/k/v 3·64·16 = 3072,
    f_a/g_a 2·64·8 = 1024, f_b/g_b 2·8·16 = 256, b_proj 64·2 = 128, o_proj 16·64 = 1024
    -> 5504; convs 3·16·4 = 192, dt_bias 16, A_log 2, o_norm 8 -> 218."""
    spec = architecture_from_config(KIMI_LINEAR).state
    assert spec is not None
    assert (spec.matrix_parameters, spec.small_parameters) == (5504, 218)
    assert (spec.conv_elements(), spec.state_elements()) == (3 * 48, 2 * 8 * 8)


def test_kimi_linear_full_attention_layers_are_one_based() -> None:
    """full_attn_layers [4, 8] are layers 3 and 7 (0-based), MLA; the rest are KDA."""
    arch = architecture_from_config(KIMI_LINEAR)
    assert arch.attention_layers == (3, 7)
    assert arch.mla is not None
    assert len(arch.state_layers) == 6


def test_kimi_linear_layer_lists_must_split_the_layers() -> None:
    """kda_layers overlapping full_attn_layers is a 400 naming linear_attn_config."""
    linear = {**KIMI_LINEAR["linear_attn_config"], "kda_layers": [1, 2, 3, 4, 5, 6, 7]}
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(with_fields(KIMI_LINEAR, linear_attn_config=linear))
    assert raised.value.field == "linear_attn_config"


def test_kimi_k3_layers_under_the_kimi_linear_type_are_refused() -> None:
    """Kimi K3 writes model_type kimi_linear with latent MoE and gated MLA: refused by name."""
    with pytest.raises(UnsupportedArchitecture, match="Kimi K3"):
        architecture_from_config(with_fields(KIMI_LINEAR, routed_expert_hidden_size=32))


MINIMAX_01: dict[str, Any] = {
    # MiniMax-Text-01 layout (7 lightning : 1 softmax) on tiny shapes.
    "model_type": "minimax",
    "hidden_size": 16,
    "num_hidden_layers": 8,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "intermediate_size": 32,
    "vocab_size": 50,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "attn_type_list": [0, 0, 0, 0, 0, 0, 0, 1],
}


def test_lightning_layers_hold_a_head_square_state_and_no_convolution() -> None:
    """modeling_minimax.py: qkv 16·48 + gate 16·16 + out 16·16 = 1280, norm 16; state
    2 heads · 8 · 8 and no convolution (vLLM linear_attention_state_shape)."""
    arch = architecture_from_config(MINIMAX_01)
    spec = arch.state
    assert spec is not None
    assert (spec.matrix_parameters, spec.small_parameters) == (1280, 16)
    assert (spec.conv_elements(), spec.state_elements()) == (0, 2 * 8 * 8)
    assert arch.attention_layers == (7,)


def test_minimax_layer_types_override_the_flag_list() -> None:
    """The newer layer_types spelling is read the same way."""
    names = ["linear_attention"] * 3 + ["full_attention"]
    cfg = with_fields(MINIMAX_01, num_hidden_layers=4, layer_types=names, attn_type_list=None)
    assert architecture_from_config(cfg).attention_layers == (3,)


def test_minimax_flag_list_of_the_wrong_length_is_invalid() -> None:
    """An attn_type_list that does not cover the layers is a 400 naming it."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(with_fields(MINIMAX_01, attn_type_list=[0, 1]))
    assert raised.value.field == "attn_type_list"


FALCON_H1: dict[str, Any] = {
    # Falcon-H1 keys (modular_falcon_h1.py FalconH1Config) on tiny shapes.
    "model_type": "falcon_h1",
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "intermediate_size": 32,
    "vocab_size": 50,
    "tie_word_embeddings": False,
    "mamba_d_ssm": 16,
    "mamba_n_heads": 4,
    "mamba_d_head": 4,
    "mamba_n_groups": 1,
    "mamba_d_state": 8,
    "mamba_d_conv": 4,
    "mamba_conv_bias": True,
    "mamba_proj_bias": False,
    "mamba_rms_norm": False,
    "projectors_bias": False,
    "time_step_limit": [0.0, float("inf")],
}


def test_falcon_h1_layers_attend_and_hold_a_mamba_state() -> None:
    """Every Falcon-H1 layer counts attention and Mamba2: C = 16 + 2·8 = 32;
    in_proj 16·(16 + 32 + 4) = 832, out_proj 16·16 = 256; conv 32·4 + 32 bias, 3·4 heads."""
    arch = architecture_from_config(FALCON_H1)
    assert arch.attention_layers == (0, 1)
    assert arch.state_layers == (0, 1)
    spec = arch.state
    assert spec is not None
    assert (spec.matrix_parameters, spec.small_parameters) == (832 + 256, 128 + 32 + 12)


def test_falcon_h1_layers_cache_keys_and_state() -> None:
    """The KV budget sees an attention spec and a state spec for each Falcon-H1 layer."""
    kinds = [
        spec.kind for spec in layer_kv_specs(architecture_from_config(FALCON_H1), Precision.BF16)
    ]
    assert sorted(kinds) == ["full", "full", "state", "state"]
