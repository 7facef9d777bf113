"""LFM2: gated short-convolution layers between attention layers (service.domain.hf_lfm2).

The config is LFM2-1.2B's as published (catalog/reference/models_2025.json, which also holds
its stated total); expected figures are written out from vLLM lfm2.py / modeling_lfm2.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import InvalidConfig
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from tests.domain.reference import REFERENCE_DIR, load_reference


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
