"""Gemma 3n (``gemma3n_text``): AltUp, LAuReL, per-layer embeddings, shared KV, the towers.

Every expected value is hand arithmetic on a tiny config (each tensor named, as
transformers ``modeling_gemma3n.py`` builds it), or a count published outside capplan.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import kv_cache_bytes, kv_cache_bytes_per_token
from service.domain.parameters import count_parameters, unused_shared_kv_parameters
from service.domain.precision import Precision

# d=8, 5 layers (4 sliding : 1 full by default), 2 query heads and 1 KV head of 4, MLP 16,
# V=32, per-layer embeddings p=2 over 24 rows, AltUp n=3, LAuReL r=2, the last 2 layers
# share KV, tied embeddings.
TINY: dict[str, Any] = {
    "model_type": "gemma3n_text",
    "hidden_size": 8,
    "num_hidden_layers": 5,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 4,
    "intermediate_size": [16] * 5,
    "vocab_size": 32,
    "vocab_size_per_layer_input": 24,
    "hidden_size_per_layer_input": 2,
    "altup_num_inputs": 3,
    "laurel_rank": 2,
    "num_kv_shared_layers": 2,
    "sliding_window": 4,
    "max_position_embeddings": 64,
}

# (tensor, elements of one, how many): Gemma3nTextModel of TINY, layers 0-2 own their K/V.
TINY_TENSORS: list[tuple[str, int, int]] = [
    ("embed_tokens", 32 * 8, 1),
    ("embed_tokens_per_layer", 24 * 5 * 2, 1),
    ("per_layer_model_projection", 8 * 5 * 2, 1),
    ("per_layer_projection_norm", 2, 1),
    ("altup_projections.{0,1}", 8 * 8, 2),
    ("altup_unembed_projections.{0,1}", 8 * 8, 2),
    ("norm", 8, 1),
    ("self_attn.q_proj", 8 * 2 * 4, 5),
    ("self_attn.k_proj", 8 * 1 * 4, 3),
    ("self_attn.v_proj", 8 * 1 * 4, 3),
    ("self_attn.o_proj", 2 * 4 * 8, 5),
    ("self_attn.q_norm", 4, 5),
    ("self_attn.k_norm", 4, 3),
    ("mlp.gate_proj", 8 * 16, 5),
    ("mlp.up_proj", 8 * 16, 5),
    ("mlp.down_proj", 16 * 8, 5),
    ("input/post_attention/pre_feedforward/post_feedforward_layernorm", 8, 4 * 5),
    ("altup.correct_output_scale", 8, 5),
    ("altup.correction_coefs", 3 * 3, 5),
    ("altup.prediction_coefs", 3 * 9, 5),
    ("altup.modality_router", 8 * 3, 5),
    ("altup.router_norm", 8, 5),
    ("laurel.linear_left", 8 * 2, 5),
    ("laurel.linear_right", 2 * 8, 5),
    ("laurel.post_laurel_norm", 8, 5),
    ("per_layer_input_gate", 8 * 2, 5),
    ("per_layer_projection", 2 * 8, 5),
    ("post_per_layer_input_norm", 8, 5),
]


def _arch(**changes: Any) -> Any:
    return architecture_from_config({**TINY, **changes})


def test_tiny_model_counts_every_named_tensor_once() -> None:
    """The total is the sum of the named tensors above (4,566); tied lm_head adds nothing."""
    expected = sum(elements * copies for _, elements, copies in TINY_TENSORS)
    assert expected == 4_566
    assert count_parameters(_arch()).total == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("embedding", 32 * 8 + 24 * 5 * 2),
        ("attention", 3 * (64 + 32 + 32 + 64) + 2 * (64 + 64)),
        # MLPs 5·384, per-layer gate/projection 5·32 and model projection 80, LAuReL 5·32,
        # AltUp routers 5·24 and stream projections 4·64.
        ("mlp", 5 * 384 + 5 * 32 + 80 + 5 * 32 + 5 * 24 + 4 * 64),
        # 8 norms of 8 per layer, q/k norms 5·4 + 3·4, per-layer projection norm 2, final 8,
        # AltUp coefficients 5·(9 + 27).
        ("norms", 5 * 8 * 8 + 5 * 4 + 3 * 4 + 2 + 8 + 5 * 36),
        ("lm_head", 0),
    ],
    ids=["embedding", "attention", "mlp", "norms", "lm-head-tied"],
)
def test_breakdown_by_role(role: str, expected: int) -> None:
    """Each role holds the tensors its formula names (matrices quantisable, coefficients not)."""
    assert getattr(count_parameters(_arch()).breakdown, role) == expected


def test_shared_kv_layers_cache_nothing_and_their_stored_kv_is_named_apart() -> None:
    """Layers 3 (sliding) and 4 (full) reuse K/V: per token bf16 2·1·4·2 = 16 B on layers
    0-2 only; the K/V the checkpoint keeps for 3 and 4, 2·(2·8·4 + 4) = 136, is not counted."""
    arch = _arch()
    assert [layer.shares_kv for layer in arch.layer_attention] == [False] * 3 + [True] * 2
    assert kv_cache_bytes_per_token(arch, Precision.BF16) == 3 * 16
    assert unused_shared_kv_parameters(arch) == 136


def test_sliding_window_follows_the_default_layer_pattern() -> None:
    """4 sliding : 1 full: at T = 10 tokens, layers 0-2 (sliding, window 4) hold 4 each."""
    assert kv_cache_bytes(_arch(), Precision.BF16, 10) == 3 * 4 * 16


def test_explicit_layer_types_are_read() -> None:
    """A full layer 0 holds all 10 tokens: 10·16 + 2·4·16."""
    kinds = ["full_attention"] + ["sliding_attention"] * 4
    assert kv_cache_bytes(_arch(layer_types=kinds), Precision.BF16, 10) == 10 * 16 + 2 * 4 * 16


def test_a_plain_intermediate_size_counts_like_the_per_layer_list() -> None:
    """``intermediate_size`` 16 and ``[16] * 5`` are the same model."""
    assert count_parameters(_arch(intermediate_size=16)).total == 4_566


# Shapes of google/gemma-3n-E2B-it's and -E4B-it's text_config as public fixtures quote them
# (catalog/reference/models_2025.json names the sources).
E2B: dict[str, Any] = {
    **TINY,
    "hidden_size": 2048,
    "num_hidden_layers": 30,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "head_dim": 256,
    "intermediate_size": [8192] * 30,
    "vocab_size": 262400,
    "vocab_size_per_layer_input": 262144,
    "hidden_size_per_layer_input": 256,
    "altup_num_inputs": 4,
    "laurel_rank": 64,
    "num_kv_shared_layers": 10,
    "sliding_window": 512,
    "max_position_embeddings": 32768,
}
E4B = {
    **E2B,
    "num_hidden_layers": 35,
    "intermediate_size": [16384] * 35,
    "num_kv_shared_layers": 15,
}


def test_e2b_language_model_matches_a_published_element_count() -> None:
    """4,435,182,688: the element total a public model description (maneex/tensorspine,
    ``tests/run_derived.py``, gemma3n-kvshare) states for the E2B language model without the
    shared layers' K/V."""
    assert count_parameters(architecture_from_config(E2B)).total == 4_435_182_688


@pytest.mark.parametrize(
    ("config", "published_billions"), [(E2B, 4.46), (E4B, 6.87)], ids=["e2b", "e4b"]
)
def test_with_the_stored_shared_kv_the_counts_round_to_ollamas(
    config: dict[str, Any], published_billions: float
) -> None:
    """Ollama's GGUF conversions keep every stored tensor; its library lists gemma3n:e2b at
    4.46B and e4b at 6.87B (quoted in https://github.com/ollama/ollama/pull/11286)."""
    arch = architecture_from_config(config)
    stored = count_parameters(arch).total + unused_shared_kv_parameters(arch)
    assert round(stored / 1e9, 2) == published_billions


def test_the_multimodal_config_is_refused_naming_the_unmodelled_towers() -> None:
    """google/gemma-3n-*: vision_config names a timm MobileNet-V5 whose shapes are not in it."""
    config = {"model_type": "gemma3n", "text_config": E2B, "vision_config": {}}
    with pytest.raises(UnsupportedArchitecture, match="MobileNet-V5") as refused:
        architecture_from_config(config)
    assert "audio" in refused.value.feature


def test_per_layer_mlp_widths_that_differ_are_refused() -> None:
    """A MatFormer-sliced checkpoint with unequal widths is not modelled: 422, not a guess."""
    with pytest.raises(UnsupportedArchitecture, match="per-layer MLP widths"):
        _arch(intermediate_size=[16, 16, 16, 16, 32])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"intermediate_size": [16] * 4}, "intermediate_size"),
        ({"altup_active_idx": 3}, "altup_active_idx"),
        ({"hidden_size_per_layer_input": 0}, "hidden_size_per_layer_input"),
        ({"layer_types": ["sliding_attention"] * 4}, "layer_types"),
        ({"num_kv_shared_layers": 5}, "num_kv_shared_layers"),
    ],
    ids=[
        "mlp-list-length",
        "altup-active-index",
        "no-per-layer-input",
        "layer-types",
        "all-shared",
    ],
)
def test_inconsistent_configs_name_the_field(changes: dict[str, Any], field: str) -> None:
    """400 naming the key, never a count from a malformed config."""
    with pytest.raises(InvalidConfig) as rejected:
        _arch(**changes)
    assert rejected.value.field == field


def test_the_shared_layers_kv_vllm_loads_is_noted_with_its_size() -> None:
    """vLLM's fused qkv_proj and k_norm on layers 3 and 4: 2·(2·8·4 + 4) = 136 parameters."""
    assert any("(136 parameters, unused)" in note for note in _arch().notes)
