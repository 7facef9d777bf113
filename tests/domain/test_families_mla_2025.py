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

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters

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


def test_mla_config_without_head_dim_is_read_when_heads_do_not_divide_the_width() -> None:
    """The published GLM-4.7-Flash config.json has no head_dim and 2048 % 20 heads != 0: MLA
    shapes come from the lora ranks (DeepseekV3Config's head_dim is qk_rope_head_dim), so it
    is counted, the same total as with head_dim written out, instead of a 400."""
    published = {key: value for key, value in GLM_4_7_FLASH.items() if key != "head_dim"}
    assert count_parameters(architecture_from_config(published)).total == _expected_total(
        GLM_4_7_FLASH
    )
