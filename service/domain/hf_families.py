"""Per-family layer conventions: which biases, norms and MLP shape each ``model_type`` has.

Each entry was read off the family's transformers modelling code (file named per entry);
the generic (Llama) reading covers a family that adds nothing; families added in 2025-26
whose configs look like Llama's are in :mod:`service.domain.hf_traits`. ``FAMILY_ALIASES`` maps
model types that reuse another family's modelling code to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import MlpKind, NormKind
from service.domain.config_fields import read_bool, read_str
from service.domain.hf_traits import FamilyTraits, recent_family_traits

FAMILY_ALIASES = {
    # Kimi K2's config.json names DeepseekV3ForCausalLM; its shapes are DeepSeek-V3's.
    "kimi_k2": "deepseek_v3",
    # DeepSeek-V3.2: DeepSeek-V3 plus the DSA indexer (index_n_heads, index_head_dim).
    "deepseek_v32": "deepseek_v3",
    # GLM-5: MLA (q/kv_lora_rank) with a DSA indexer and noaux_tc routing, as DeepSeek-V3.2.
    "glm_moe_dsa": "deepseek_v3",
    # GLM-4.7-Flash: modular_glm4_moe_lite.py builds DeepSeek-V3's MLA attention, dense-first
    # layers, shared expert and Glm4MoeLiteTopkRouter (= DeepseekV3TopkRouter, whose
    # e_score_correction_bias is always present; hf_moe counts it for this model_type).
    "glm4_moe_lite": "deepseek_v3",
    "olmo3": "olmo2",
    # Ministral 3 / Devstral 2 (modular_ministral3.py): MistralAttention and
    # MistralDecoderLayer; llama_4_scaling_beta rescales queries, no tensor of its own.
    "ministral3": "mistral",
    # A Gemma 3 config written flat (no text_config) is the Gemma 3 language model.
    "gemma3": "gemma3_text",
    "qwen3_5_moe_text": "qwen3_next",
    "qwen3_5_text": "qwen3_next",
    "qwen3_5_moe": "qwen3_next",
    "qwen3_5": "qwen3_next",
    # Qwen3-VL text towers reuse Qwen3 / Qwen3-MoE layers (modeling_qwen3_vl(_moe).py).
    "qwen3_vl_text": "qwen3",
    "qwen3_vl_moe_text": "qwen3_moe",
    # A Gemma 4 config written flat (no text_config) is the Gemma 4 language model.
    "gemma4": "gemma4_text",
}


def family_traits(config: Mapping[str, Any], family: str) -> FamilyTraits:
    """The layer conventions of ``family`` as configured by ``config``."""
    recent = recent_family_traits(config, family)
    if recent is not None:
        return recent
    bias = read_bool(config, "attention_bias", default=False)
    mlp_bias = read_bool(config, "mlp_bias", default=False)
    if family == "gpt2":
        return FamilyTraits(
            qkv_bias=True,
            output_bias=True,
            mlp_bias=True,
            mlp_kind=MlpKind.PLAIN,
            norm_kind=NormKind.LAYER,
            tied_by_default=True,
        )
    if family == "starcoder2":
        # modeling_starcoder2.py: q/k/v/o and c_fc/c_proj biased by use_bias; LayerNorm.
        use_bias = read_bool(config, "use_bias", default=True)
        return FamilyTraits(
            qkv_bias=use_bias,
            output_bias=use_bias,
            mlp_bias=use_bias,
            mlp_kind=MlpKind.PLAIN,
            norm_kind=NormKind.LAYER,
            tied_by_default=True,
        )
    if family == "gemma4_text":
        # modeling_gemma4.py Gemma4TextAttention: q/k/v/o biased by attention_bias, q_norm and
        # k_norm of the layer's head_dim; norms per layer come from hf_gemma4.
        return FamilyTraits(qkv_bias=bias, output_bias=bias, tied_by_default=True, qk_norm=True)
    if family in ("gemma", "gemma2") or family.startswith("gemma3"):
        gemma3 = family.startswith("gemma3")
        return FamilyTraits(
            qkv_bias=bias,
            output_bias=bias,
            tied_by_default=True,
            norms_per_layer=4 if family != "gemma" else 2,
            qk_norm=gemma3,
        )
    if family in ("qwen2", "qwen2_moe"):
        return FamilyTraits(qkv_bias=True, output_bias=bias, mlp_bias=mlp_bias)
    if family in ("qwen3", "qwen3_moe"):
        return FamilyTraits(qkv_bias=bias, output_bias=bias, qk_norm=True)
    if family == "qwen3_next":
        # modeling_qwen3_next.py Qwen3NextAttention: q_proj doubled for the output gate.
        return FamilyTraits(
            qkv_bias=bias,
            output_bias=bias,
            qk_norm=True,
            query_gate=read_bool(config, "attn_output_gate", default=True),
        )
    if family == "glm4_moe":
        # modeling_glm4_moe.py Glm4MoeAttention: q/k/v biased by attention_bias, o_proj not;
        # q_norm/k_norm of head_dim when use_qk_norm.
        return FamilyTraits(qkv_bias=bias, qk_norm=read_bool(config, "use_qk_norm", default=False))
    if family == "seed_oss":
        # modeling_seed_oss.py: q/k/v bias attention_bias, o_proj bias attention_out_bias.
        return FamilyTraits(
            qkv_bias=bias,
            output_bias=read_bool(config, "attention_out_bias", default=False),
            mlp_bias=mlp_bias,
        )
    if family == "olmo2":
        # modeling_olmo2.py: no pre-norms, post_attention and post_feedforward norms;
        # q_norm over H·h and k_norm over H_kv·h.
        return FamilyTraits(qkv_bias=bias, output_bias=bias, qk_norm=True, qk_norm_full_width=True)
    if family == "gpt_oss":
        # configuration_gpt_oss.py: attention_bias defaults to True (q/k/v/o biased).
        oss_bias = read_bool(config, "attention_bias", default=True)
        return FamilyTraits(qkv_bias=oss_bias, output_bias=oss_bias, attention_sinks=True)
    if family == "phi3":
        return FamilyTraits(qkv_bias=bias, output_bias=bias, mlp_bias=mlp_bias, fused_qkv=True)
    if family == "minimax_m2":
        # modeling_minimax_m2.py: q/k/v/o without bias; use_qk_norm with qk_norm_type
        # 'per_layer' norms the whole q (H·h) and k (H_kv·h) projections.
        qk = read_bool(config, "use_qk_norm", default=True)
        return FamilyTraits(
            qkv_bias=bias,
            output_bias=bias,
            qk_norm=qk,
            qk_norm_full_width=qk
            and read_str(config, "qk_norm_type", default="per_layer") == "per_layer",
        )
    if family == "ernie4_5_moe":
        # modular_ernie4_5_moe.py: q/k/v/o, MLPs and lm_head biased by use_bias.
        use_bias = read_bool(config, "use_bias", default=False)
        return FamilyTraits(qkv_bias=use_bias, output_bias=use_bias, mlp_bias=use_bias)
    if family in ("hunyuan_v1_dense", "hunyuan_v1_moe"):
        # vLLM hunyuan_v1.py HunYuanAttention: q/k/v/o biased by attention_bias (or 'bias');
        # query_layernorm/key_layernorm of head_dim when use_qk_norm; dense MLP by mlp_bias.
        hy_bias = bias or read_bool(config, "bias", default=False)
        return FamilyTraits(
            qkv_bias=hy_bias,
            output_bias=hy_bias,
            mlp_bias=mlp_bias,
            qk_norm=read_bool(config, "use_qk_norm", default=False),
        )
    if family == "granitemoehybrid":
        # modeling_granitemoeshared.py attention: q/k/v/o biased by attention_bias; embeddings
        # tied by default (GraniteMoeHybridConfig).
        return FamilyTraits(qkv_bias=bias, output_bias=bias, tied_by_default=True)
    if family == "nemotron_h":
        # modeling_nemotron_h.py: one RMSNorm and one mixer per block; attention without
        # biases; up/down MLP (squared ReLU) biased by mlp_bias.
        return FamilyTraits(mlp_bias=mlp_bias, mlp_kind=MlpKind.PLAIN, norms_per_layer=1)
    return FamilyTraits(qkv_bias=bias, output_bias=bias, mlp_bias=mlp_bias)
