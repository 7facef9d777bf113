"""Normalisation: a Hugging Face config.json becomes one Architecture, or a named error."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import AttentionKind, InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from tests.domain.reference import (
    DEEPSEEK_V3,
    GEMMA3_1B,
    GEMMA_7B,
    GPT_OSS_20B,
    LLAMA_LIKE,
    arch,
    config,
    with_fields,
)


def full_layers(config_dict: dict[str, Any]) -> list[int]:
    layers = architecture_from_config(config_dict).layer_attention
    return [i for i, layer in enumerate(layers) if layer.kind is AttentionKind.FULL]


# --- head_dim --------------------------------------------------------------------------------


def test_explicit_head_dim_wins_over_hidden_over_heads() -> None:
    """Gemma-7B's head_dim 256 is used, not hidden/heads = 3072/16 = 192 (sheet §5.1)."""
    assert architecture_from_config(GEMMA_7B).head_dim == 256


def test_absent_head_dim_defaults_to_hidden_over_heads() -> None:
    """Llama-3-8B has no head_dim key: 4096 / 32 heads = 128."""
    assert arch("llama3-8b").head_dim == 128


def test_absent_head_dim_with_indivisible_hidden_is_invalid() -> None:
    """hidden 100 over 3 heads has no integer head_dim; the error names head_dim."""
    bad = with_fields(LLAMA_LIKE, model_type="llama", hidden_size=100, num_attention_heads=3)
    bad["num_key_value_heads"] = 3
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(bad)
    assert raised.value.field == "head_dim"


def test_absent_kv_heads_means_multi_head_attention() -> None:
    """GPT-2 has no num_key_value_heads: every query head has its own KV head (12)."""
    gpt2 = arch("gpt2")
    assert (gpt2.num_attention_heads, gpt2.num_kv_heads) == (12, 12)


# --- every family ----------------------------------------------------------------------------


def test_every_reference_family_normalises(reference_model: dict[str, Any]) -> None:
    """Each models.json config normalises with one attention entry per layer and no notes
    beyond the known non-standard window key."""
    cfg = reference_model["config"]
    normalised = architecture_from_config(cfg)
    assert normalised.model_type == cfg["model_type"]
    assert normalised.num_layers == cfg.get("num_hidden_layers", cfg.get("n_layer"))
    assert len(normalised.layer_attention) == normalised.num_layers
    assert all("llama-like" not in note for note in normalised.notes)


@pytest.mark.parametrize(
    ("model", "tied"),
    [("gemma-2b", True), ("gpt2", True), ("llama3.2-1b", True), ("llama3-8b", False)],
    ids=["gemma-ties-by-default", "gpt2-ties-by-default", "llama3.2-1b-explicit", "llama3-8b"],
)
def test_tied_embeddings_follow_config_or_family_default(model: str, tied: bool) -> None:
    """tie_word_embeddings is read, else the family default (Gemma, GPT-2 tie)."""
    assert arch(model).tie_word_embeddings is tied


def test_checkpoint_dtype_is_read_from_torch_dtype() -> None:
    """Llama-2-7B's torch_dtype float16 is an fp16 checkpoint."""
    assert arch("llama2-7b").checkpoint_dtype == "fp16"


def test_checkpoint_dtype_is_read_from_newer_dtype_key() -> None:
    """transformers 4.56+ writes ``dtype``; float32 is an fp32 checkpoint."""
    cfg = with_fields(config("tinyllama-1.1b"), torch_dtype=None, dtype="float32")
    assert architecture_from_config(cfg).checkpoint_dtype == "fp32"


def test_absent_dtype_defaults_to_bf16() -> None:
    """A config with no dtype at all is treated as a bf16 checkpoint."""
    cfg = with_fields(config("tinyllama-1.1b"), torch_dtype=None)
    assert architecture_from_config(cfg).checkpoint_dtype == "bf16"


def test_non_string_dtype_is_invalid() -> None:
    """torch_dtype must be a string; the error names torch_dtype."""
    cfg = with_fields(config("tinyllama-1.1b"), torch_dtype=16)
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(cfg)
    assert raised.value.field == "torch_dtype"


def test_integral_float_is_accepted_as_an_integer() -> None:
    """Some exporters write 4096.0; an integral float is read as the integer."""
    cfg = with_fields(config("tinyllama-1.1b"), hidden_size=2048.0)
    assert architecture_from_config(cfg).hidden_size == 2048


# --- sliding windows -------------------------------------------------------------------------


def test_gemma2_alternates_sliding_then_full() -> None:
    """Gemma 2: layer 0 local (window 4096), layer 1 global, 1:1 (arXiv:2408.00118)."""
    layers = arch("gemma-2-2b").layer_attention
    assert layers[0].kind is AttentionKind.SLIDING
    assert layers[0].window_tokens == 4096
    assert layers[1].kind is AttentionKind.FULL
    assert full_layers(config("gemma-2-2b")) == list(range(1, 26, 2))


def test_gemma3_pattern_six_makes_every_sixth_layer_full() -> None:
    """Gemma 3 pattern 6: layers 5, 11, 17, 23 global, the other 22 local (window 512)."""
    assert full_layers(GEMMA3_1B) == [5, 11, 17, 23]
    windows = {layer.window_tokens for layer in architecture_from_config(GEMMA3_1B).layer_attention}
    assert windows == {None, 512}


def test_gemma3_without_pattern_key_defaults_to_six() -> None:
    """transformers' Gemma3TextConfig default sliding_window_pattern is 6."""
    cfg = with_fields(GEMMA3_1B, sliding_window_pattern=None)
    assert full_layers(cfg) == [5, 11, 17, 23]


def test_explicit_layer_types_are_followed() -> None:
    """gpt-oss lists its layers: even layers sliding (128 tokens), odd layers full."""
    layers = architecture_from_config(GPT_OSS_20B).layer_attention
    assert [layer.kind for layer in layers[:2]] == [AttentionKind.SLIDING, AttentionKind.FULL]
    assert full_layers(GPT_OSS_20B) == list(range(1, 24, 2))
    assert layers[0].window_tokens == 128


def test_layer_types_of_wrong_length_are_invalid() -> None:
    """layer_types must have one entry per layer; the error names layer_types."""
    cfg = with_fields(GPT_OSS_20B, layer_types=["full_attention"] * 3)
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(cfg)
    assert raised.value.field == "layer_types"


def test_layer_types_that_are_not_strings_are_invalid() -> None:
    """layer_types must be a list of strings."""
    cfg = with_fields(GPT_OSS_20B, layer_types=[1] * 24)
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(cfg)
    assert raised.value.field == "layer_types"


def test_sliding_layer_types_without_a_window_are_invalid() -> None:
    """A sliding layer needs a window size; the error names sliding_window."""
    cfg = with_fields(GPT_OSS_20B, sliding_window=None)
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(cfg)
    assert raised.value.field == "sliding_window"


def test_qwen2_with_use_sliding_window_false_is_all_full() -> None:
    """Qwen2-7B ships sliding_window 131072 but use_sliding_window false: no window at all."""
    assert AttentionKind.SLIDING not in {layer.kind for layer in arch("qwen2-7b").layer_attention}


def test_qwen2_sliding_window_applies_from_max_window_layers_on() -> None:
    """Qwen2 with use_sliding_window: layers >= max_window_layers slide (transformers)."""
    cfg = with_fields(
        LLAMA_LIKE,
        model_type="qwen2",
        sliding_window=1024,
        use_sliding_window=True,
        max_window_layers=2,
    )
    assert full_layers(cfg) == [0, 1]


def test_mistral_v01_slides_every_layer() -> None:
    """Mistral-7B-v0.1: all 32 layers use the 4096-token rolling window (arXiv:2310.06825)."""
    cfg = with_fields(config("mistral-7b-v0.1"), sliding_window_size=None, sliding_window=4096)
    layers = architecture_from_config(cfg).layer_attention
    assert all(layer.kind is AttentionKind.SLIDING for layer in layers)
    assert {layer.window_tokens for layer in layers} == {4096}


def test_nonstandard_window_key_is_read_with_a_note() -> None:
    """models.json's Mistral preset spells it sliding_window_size: read, and said so."""
    mistral = arch("mistral-7b-v0.1")
    assert {layer.window_tokens for layer in mistral.layer_attention} == {4096}
    assert any("sliding_window_size" in note for note in mistral.notes)


def test_window_at_least_the_context_is_full_attention() -> None:
    """Phi-3.5-mini's 262,144-token window exceeds its 131,072 context: all layers full."""
    assert AttentionKind.SLIDING not in {
        layer.kind for layer in arch("phi-3.5-mini").layer_attention
    }


def test_generic_sliding_window_pattern_is_honoured() -> None:
    """A non-Gemma config with sliding_window_pattern 2 alternates like Gemma 2."""
    cfg = with_fields(LLAMA_LIKE, model_type="llama", sliding_window=256, sliding_window_pattern=2)
    assert full_layers(cfg) == [1, 3]


# --- multimodal and unknown families ---------------------------------------------------------


SIGLIP_896: dict[str, Any] = {
    # vision_config of google/gemma-3-27b-it (catalog/models/google--gemma-3-27b-it.yaml).
    "hidden_size": 1152,
    "image_size": 896,
    "intermediate_size": 4304,
    "model_type": "siglip_vision_model",
    "num_attention_heads": 16,
    "num_hidden_layers": 27,
    "patch_size": 14,
    "vision_use_head": False,
}


def test_multimodal_config_uses_text_config_with_a_note() -> None:
    """Gemma 3 4B-style config: the language model comes from text_config; the vision
    tower is counted and the notes say so."""
    multimodal = {"model_type": "gemma3", "text_config": GEMMA3_1B, "vision_config": SIGLIP_896}
    normalised = architecture_from_config(multimodal)
    assert normalised.model_type == "gemma3_text"
    assert normalised.hidden_size == 1152
    assert normalised.encoder_parameters > 0
    assert any("multimodal" in note and "gemma3" in note for note in normalised.notes)


def test_incomplete_vision_config_names_the_field() -> None:
    """A known tower missing a size is a 400 naming vision_config.<field>, not a guess."""
    partial = {k: v for k, v in SIGLIP_896.items() if k != "intermediate_size"}
    multimodal = {"model_type": "gemma3", "text_config": GEMMA3_1B, "vision_config": partial}
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(multimodal)
    assert raised.value.field == "vision_config.intermediate_size"


def test_flat_gemma3_config_is_a_known_family() -> None:
    """A Gemma 3 variant written without text_config is Gemma 3, not "llama-like"."""
    normalised = architecture_from_config(with_fields(GEMMA3_1B, model_type="gemma3"))
    assert normalised.notes == ()
    assert normalised.qk_norm
    assert normalised.norms_per_layer == 4


def test_unknown_family_with_only_read_keys_is_counted_with_a_note() -> None:
    """An unknown model_type whose every count-changing key is read is counted, and says so."""
    normalised = architecture_from_config(with_fields(LLAMA_LIKE, model_type="my_llama"))
    assert any("not a known family" in note for note in normalised.notes)
    assert normalised.num_kv_heads == 2


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"n_routed_experts": 384, "moe_intermediate_size": 2048}, "moe_intermediate_size"),
        ({"qk_layernorm": True}, "qk_layernorm"),
        ({"num_nextn_predict_layers": 1}, "num_nextn_predict_layers"),
    ],
    ids=["experts", "qk-norm-flag", "mtp-layers"],
)
def test_unknown_family_with_unread_keys_is_refused_naming_them(
    extra: dict[str, Any], named: str
) -> None:
    """No silent llama-like guess: an unknown type with keys capplan ignores is refused."""
    with pytest.raises(UnsupportedArchitecture) as raised:
        architecture_from_config(with_fields(LLAMA_LIKE, model_type="my_new_family", **extra))
    assert named in raised.value.detail
    assert "my_new_family" in raised.value.feature


def test_count_neutral_keys_do_not_refuse_an_unknown_family() -> None:
    """Token ids, norm epsilons and rotary settings never change a tensor shape."""
    cfg = with_fields(
        LLAMA_LIKE, model_type="my_llama", rms_norm_eps=1e-6, rope_theta=1e6, bos_token_id=1
    )
    assert architecture_from_config(cfg).num_layers == LLAMA_LIKE["num_hidden_layers"]


# --- unsupported features --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cfg", "feature"),
    [
        (with_fields(LLAMA_LIKE, model_type="mamba"), "state-space"),
        (with_fields(LLAMA_LIKE, model_type="zamba2"), "hybrid Mamba/attention"),
        (
            with_fields(
                LLAMA_LIKE,
                model_type="qwen3",
                layer_types=["linear_attention", "full_attention"] * 2,
            ),
            "linear_attention",
        ),
        (with_fields(LLAMA_LIKE, model_type="recurrent_gemma"), "RG-LRU"),
        (with_fields(LLAMA_LIKE, model_type="rwkv"), "RWKV"),
        (with_fields(GEMMA3_1B, model_type="gemma3n"), "Gemma 3n vision tower"),
        (
            with_fields(GEMMA3_1B, model_type="gemma4_text", use_bidirectional_attention="all"),
            "bidirectional attention",
        ),
        (with_fields(LLAMA_LIKE, model_type="llama", ssm_state_size=16), "state-space"),
        (
            {"model_type": "t5", "is_encoder_decoder": True, "d_model": 512, "vocab_size": 32128},
            "encoder-decoder",
        ),
        (
            {
                "model_type": "opt",
                "hidden_size": 5120,
                "num_hidden_layers": 40,
                "num_attention_heads": 40,
                "ffn_dim": 20480,
                "vocab_size": 50272,
            },
            "opt",
        ),
        ({"hidden_size": 64}, "(none)"),
    ],
    ids=[
        "mamba-model-type",
        "zamba2-hybrid",
        "linear-attention-layer-type",
        "recurrent-gemma",
        "rwkv",
        "gemma3n-multimodal-towers",
        "gemma4-bidirectional-all",
        "ssm-state-size-key",
        "encoder-decoder",
        "unknown-type-not-llama-like",
        "no-model-type",
    ],
)
def test_unsupported_feature_is_refused_by_name(cfg: dict[str, Any], feature: str) -> None:
    """A feature capplan does not model raises UnsupportedArchitecture naming it."""
    with pytest.raises(UnsupportedArchitecture) as raised:
        architecture_from_config(cfg)
    assert feature in raised.value.feature
    assert feature in str(raised.value)


# --- malformed configs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hidden_size": None}, "hidden_size"),
        ({"num_hidden_layers": "32"}, "num_hidden_layers"),
        ({"num_key_value_heads": 3}, "num_key_value_heads"),
        ({"num_attention_heads": True}, "num_attention_heads"),
        ({"num_hidden_layers": 0}, "num_hidden_layers"),
        ({"intermediate_size": 5632.5}, "intermediate_size"),
        ({"tie_word_embeddings": "yes"}, "tie_word_embeddings"),
        ({"model_type": 7}, "model_type"),
        ({"vocab_size": None}, "vocab_size"),
    ],
    ids=[
        "missing-hidden-size",
        "string-layers",
        "kv-heads-not-dividing-heads",
        "bool-where-int-expected",
        "zero-layers",
        "fractional-float",
        "string-where-bool-expected",
        "non-string-model-type",
        "missing-vocab-size",
    ],
)
def test_malformed_field_is_named(changes: dict[str, Any], field: str) -> None:
    """A missing or mistyped field raises InvalidConfig naming that field."""
    bad = with_fields(config("tinyllama-1.1b"), **changes)
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(bad)
    assert raised.value.field == field
    assert field in str(raised.value)


@pytest.mark.parametrize("payload", [[1, 2], "config", None], ids=["list", "string", "null"])
def test_non_object_config_is_invalid(payload: Any) -> None:
    """config.json must be a JSON object."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(payload)
    assert raised.value.field == "config"


def test_more_experts_per_token_than_experts_is_invalid() -> None:
    """Routing 9 of 8 experts is impossible; the error names num_experts_per_tok."""
    bad = with_fields(config("mixtral-8x7b"), num_experts_per_tok=9)
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(bad)
    assert raised.value.field == "num_experts_per_tok"


def test_malformed_mlp_only_layers_is_invalid() -> None:
    """Qwen MoE's mlp_only_layers must be a list of integers."""
    bad = with_fields(config("qwen3-30b-a3b"), mlp_only_layers=["0"])
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(bad)
    assert raised.value.field == "mlp_only_layers"


# --- family structure ------------------------------------------------------------------------


def test_deepseek_v3_dense_first_layers_and_router_bias() -> None:
    """DeepSeek-V3: layers 0-2 dense (first_k_dense_replace 3), 58 MoE layers, noaux_tc bias."""
    moe = architecture_from_config(DEEPSEEK_V3).moe
    assert moe is not None
    assert moe.moe_layers == tuple(range(3, 61))
    assert moe.router_bias
    assert (moe.num_shared_experts, moe.shared_expert_intermediate_size) == (1, 2048)


def test_qwen_moe_mlp_only_layers_stay_dense() -> None:
    """Qwen3-MoE layers listed in mlp_only_layers keep the dense MLP."""
    cfg = with_fields(config("qwen3-30b-a3b"), mlp_only_layers=[0, 47])
    moe = architecture_from_config(cfg).moe
    assert moe is not None
    assert moe.moe_layers == tuple(range(1, 47))


def test_single_expert_is_a_dense_model() -> None:
    """num_local_experts 1 is not a mixture: no MoE structure."""
    cfg = with_fields(LLAMA_LIKE, model_type="mixtral", num_local_experts=1, num_experts_per_tok=1)
    assert architecture_from_config(cfg).moe is None


def test_mla_without_query_compression() -> None:
    """DeepSeek-V2-Lite has q_lora_rank null: MLA with uncompressed queries."""
    mla = arch("deepseek-v2-lite").mla
    assert mla is not None
    assert (mla.q_lora_rank, mla.kv_lora_rank, mla.qk_rope_head_dim) == (None, 512, 64)


def test_gpt2_uses_plain_mlp_layernorm_and_learned_positions() -> None:
    """GPT-2: fc1/fc2 MLP, LayerNorm, 1024 learned positions, biases everywhere."""
    gpt2 = arch("gpt2")
    assert (gpt2.mlp_kind.value, gpt2.norm_kind.value) == ("plain", "layer")
    assert gpt2.learned_position_embeddings == 1024
    assert gpt2.qkv_bias
    assert gpt2.attention_output_bias
    assert gpt2.mlp_bias
    assert gpt2.intermediate_size == 4 * 768


def test_multimodal_text_config_inherits_the_top_level_dtype() -> None:
    """transformers writes torch_dtype at the top of a multimodal config only."""
    multimodal = {
        "model_type": "gemma3",
        "torch_dtype": "float16",
        "text_config": with_fields(GEMMA3_1B, torch_dtype=None),
    }
    assert architecture_from_config(multimodal).checkpoint_dtype == "fp16"


def test_gemma3_text_config_omitting_family_defaults_gets_them() -> None:
    """Gemma 3 multimodal text_configs omit vocab_size and max_position_embeddings; the
    transformers Gemma3TextConfig defaults apply: 262,208 and 131,072."""
    text = with_fields(GEMMA3_1B, vocab_size=None, max_position_embeddings=None)
    normalised = architecture_from_config({"model_type": "gemma3", "text_config": text})
    assert (normalised.vocab_size, normalised.max_context_tokens) == (262_208, 131_072)
