"""Hybrid layer stacks: which layers attend and which hold a constant-size state.

Qwen3-Next / Qwen3.5 (``modeling_qwen3_next.py``): ``layer_types`` of ``linear_attention``
and ``full_attention``, or when absent layer ``i`` attends iff
``(i + 1) % full_attention_interval == 0``; every layer keeps its (MoE) MLP.

Nemotron-H (``modeling_nemotron_h.py``, ``NemotronHBlock``): each block holds one norm and
one mixer, named by ``hybrid_override_pattern`` (``M`` Mamba2, ``*`` attention, ``-`` MLP,
``E`` MoE) or ``layers_block_type``; only ``-`` and ``E`` blocks have an MLP.

Granite 4.0 hybrids (``modeling_granitemoehybrid.py``): ``layer_types`` of ``mamba`` and
``attention``; every layer keeps its MoE and shared MLP.

Kimi-Linear (vLLM ``kimi_linear.py``): ``linear_attn_config.kda_layers`` (1-based) are KDA,
the others MLA (``full_attn_layers``, also 1-based, when given must be the rest).

MiniMax-Text-01 / M1 (``modeling_minimax.py``): ``layer_types`` of ``linear_attention`` and
``full_attention``, or ``attn_type_list`` (0 lightning, 1 softmax); every layer keeps its MoE.

Falcon-H1 (``modular_falcon_h1.py``): each layer sums an attention and a Mamba2 branch, so
it caches both (vLLM registers an attention and a Mamba layer per decoder layer).

Jamba (``modeling_jamba.py``): layer ``i`` attends when ``i % attn_layer_period ==
attn_layer_offset`` (or per ``layers_block_type``), the others are Mamba1; every layer keeps
its MLP (MoE on ``i % expert_layer_period == expert_layer_offset``).

LFM2 (:mod:`service.domain.hf_lfm2`): ``layer_types`` of ``conv`` (gated short convolution)
and ``full_attention``; every layer keeps its MLP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import InvalidConfig, MixerKind, StateSpec
from service.domain.config_fields import read_int, read_int_list, read_str, read_str_list
from service.domain.hf_lfm2 import lfm2_mixers, short_convolution
from service.domain.state_layers import (
    falcon_h1_mamba2,
    gated_deltanet,
    jamba_mamba,
    kimi_delta_attention,
    lightning_attention,
    mamba2,
)

_QWEN_NEXT_KINDS = {
    "linear_attention": MixerKind.GATED_DELTANET,
    "full_attention": MixerKind.ATTENTION,
}
_NEMOTRON_SYMBOLS = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}


class HybridLayout(msgspec.Struct, frozen=True, kw_only=True):
    """The mixer of each layer, the state layer's spec, and the blocks without an MLP
    (``moe_blocks``: blocks whose MLP is an MoE, for families that name them here)."""

    mixers: tuple[MixerKind, ...]
    state: StateSpec | None
    mlp_free_layers: tuple[int, ...] = ()
    moe_blocks: tuple[int, ...] = ()


def qwen3_next_layout(config: Mapping[str, Any], num_layers: int, hidden_size: int) -> HybridLayout:
    """Gated DeltaNet and full attention layers of Qwen3-Next and Qwen3.5."""
    names = read_str_list(config, "layer_types")
    if names is None:
        interval = read_int(config, "full_attention_interval", default=4)
        mixers = tuple(
            MixerKind.ATTENTION if (i + 1) % interval == 0 else MixerKind.GATED_DELTANET
            for i in range(num_layers)
        )
    else:
        if len(names) != num_layers:
            raise InvalidConfig("layer_types", f"has {len(names)} entries for {num_layers} layers")
        unknown = sorted(set(names) - set(_QWEN_NEXT_KINDS))
        if unknown:
            raise InvalidConfig("layer_types", f"unknown layer kind '{unknown[0]}'")
        mixers = tuple(_QWEN_NEXT_KINDS[name] for name in names)
    state = gated_deltanet(config, hidden_size) if MixerKind.GATED_DELTANET in mixers else None
    return HybridLayout(mixers=mixers, state=state)


def nemotron_h_blocks(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Block kinds (``mamba``, ``attention``, ``mlp``, ``moe``), one per layer."""
    kinds = read_str_list(config, "layers_block_type")
    if kinds is None:
        pattern = read_str(config, "hybrid_override_pattern", default="")
        if not pattern:
            raise InvalidConfig("hybrid_override_pattern", "required field is missing")
        bad = sorted(set(pattern) - set(_NEMOTRON_SYMBOLS))
        if bad:
            raise InvalidConfig("hybrid_override_pattern", f"unknown block symbol '{bad[0]}'")
        return tuple(_NEMOTRON_SYMBOLS[symbol] for symbol in pattern)
    bad = sorted(set(kinds) - set(_NEMOTRON_SYMBOLS.values()))
    if bad:
        raise InvalidConfig("layers_block_type", f"unknown block kind '{bad[0]}'")
    return kinds


def nemotron_h_layout(config: Mapping[str, Any], hidden_size: int) -> HybridLayout:
    """Mamba2, attention, MLP and MoE blocks of Nemotron-H."""
    blocks = nemotron_h_blocks(config)
    mixers = tuple(
        MixerKind.MAMBA2
        if kind == "mamba"
        else MixerKind.ATTENTION
        if kind == "attention"
        else MixerKind.NONE
        for kind in blocks
    )
    state = mamba2(config, hidden_size) if MixerKind.MAMBA2 in mixers else None
    return HybridLayout(
        mixers=mixers,
        state=state,
        mlp_free_layers=tuple(i for i, kind in enumerate(blocks) if kind in ("mamba", "attention")),
        moe_blocks=tuple(i for i, kind in enumerate(blocks) if kind == "moe"),
    )


_GRANITE_KINDS = {"mamba": MixerKind.MAMBA2, "attention": MixerKind.ATTENTION}


def granite_hybrid_layout(
    config: Mapping[str, Any], num_layers: int, hidden_size: int
) -> HybridLayout:
    """Mamba2 (Bamba mixer) and attention layers of GraniteMoeHybrid."""
    names = read_str_list(config, "layer_types") or read_str_list(config, "layers_block_type")
    if names is None:
        raise InvalidConfig("layer_types", "required field is missing")
    if len(names) != num_layers:
        raise InvalidConfig("layer_types", f"has {len(names)} entries for {num_layers} layers")
    unknown = sorted(set(names) - set(_GRANITE_KINDS))
    if unknown:
        raise InvalidConfig("layer_types", f"unknown layer kind '{unknown[0]}'")
    mixers = tuple(_GRANITE_KINDS[name] for name in names)
    state = mamba2(config, hidden_size, keys="granite") if MixerKind.MAMBA2 in mixers else None
    return HybridLayout(mixers=mixers, state=state)


def jamba_layout(config: Mapping[str, Any], num_layers: int, hidden_size: int) -> HybridLayout:
    """Mamba1 and attention layers of Jamba."""
    names = read_str_list(config, "layers_block_type")
    if names is None:
        period = read_int(config, "attn_layer_period", default=8)
        offset = read_int(config, "attn_layer_offset", default=4, minimum=0)
        names = tuple("attention" if i % period == offset else "mamba" for i in range(num_layers))
    if len(names) != num_layers:
        raise InvalidConfig(
            "layers_block_type", f"has {len(names)} entries for {num_layers} layers"
        )
    unknown = sorted(set(names) - set(_GRANITE_KINDS))
    if unknown:
        raise InvalidConfig("layers_block_type", f"unknown layer kind '{unknown[0]}'")
    mixers = tuple(
        MixerKind.ATTENTION if name == "attention" else MixerKind.MAMBA for name in names
    )
    state = jamba_mamba(config, hidden_size) if MixerKind.MAMBA in mixers else None
    return HybridLayout(mixers=mixers, state=state)


def kimi_linear_layout(
    config: Mapping[str, Any], num_layers: int, hidden_size: int
) -> HybridLayout:
    """KDA and MLA layers of Kimi-Linear."""
    linear = config.get("linear_attn_config")
    if not isinstance(linear, Mapping):
        raise InvalidConfig("linear_attn_config", "expected an object")
    kda = set(read_int_list(linear, "kda_layers"))
    full = set(read_int_list(linear, "full_attn_layers"))
    if not kda and full:
        kda = set(range(1, num_layers + 1)) - full
    everything = set(range(1, num_layers + 1))
    if not kda <= everything or (full and (kda & full or kda | full != everything)):
        raise InvalidConfig(
            "linear_attn_config",
            f"kda_layers and full_attn_layers must split the 1-based layers 1..{num_layers}",
        )
    mixers = tuple(
        MixerKind.KDA if i + 1 in kda else MixerKind.ATTENTION for i in range(num_layers)
    )
    try:
        state = kimi_delta_attention(linear, hidden_size) if kda else None
    except InvalidConfig as exc:
        raise InvalidConfig(f"linear_attn_config.{exc.field}", exc.detail) from exc
    return HybridLayout(mixers=mixers, state=state)


_MINIMAX_NAMES = {"linear_attention": MixerKind.LIGHTNING, "full_attention": MixerKind.ATTENTION}


def minimax_layout(
    config: Mapping[str, Any], num_layers: int, hidden_size: int, heads: int, head_dim: int
) -> HybridLayout:
    """Lightning and softmax attention layers of MiniMax-Text-01 / MiniMax-M1."""
    names = read_str_list(config, "layer_types")
    if names is not None:
        field = "layer_types"
        unknown = sorted(set(names) - set(_MINIMAX_NAMES))
        if unknown:
            raise InvalidConfig(field, f"unknown layer kind '{unknown[0]}'")
        mixers = tuple(_MINIMAX_NAMES[name] for name in names)
    else:
        field = "attn_type_list"
        flags = read_int_list(config, field)
        if not flags:
            raise InvalidConfig(field, "required field is missing (or layer_types)")
        if set(flags) - {0, 1}:
            raise InvalidConfig(field, "expected 0 (lightning) or 1 (softmax) per layer")
        mixers = tuple(MixerKind.ATTENTION if f else MixerKind.LIGHTNING for f in flags)
    if len(mixers) != num_layers:
        raise InvalidConfig(field, f"has {len(mixers)} entries for {num_layers} layers")
    state = (
        lightning_attention(heads, head_dim, hidden_size) if MixerKind.LIGHTNING in mixers else None
    )
    return HybridLayout(mixers=mixers, state=state)


def falcon_h1_layout(config: Mapping[str, Any], num_layers: int, hidden_size: int) -> HybridLayout:
    """Falcon-H1: every layer runs attention and a Mamba2 mixer side by side."""
    return HybridLayout(
        mixers=(MixerKind.ATTENTION_MAMBA2,) * num_layers,
        state=falcon_h1_mamba2(config, hidden_size),
    )


def hybrid_layout(
    config: Mapping[str, Any],
    family: str,
    num_layers: int,
    hidden_size: int,
    heads: int,
    head_dim: int,
) -> HybridLayout | None:
    """The per-layer mixers of a hybrid family, or None when every layer attends."""
    if family == "qwen3_next":
        return qwen3_next_layout(config, num_layers, hidden_size)
    if family == "nemotron_h":
        return nemotron_h_layout(config, hidden_size)
    if family == "granitemoehybrid":
        return granite_hybrid_layout(config, num_layers, hidden_size)
    if family == "jamba":
        return jamba_layout(config, num_layers, hidden_size)
    if family == "kimi_linear":
        return kimi_linear_layout(config, num_layers, hidden_size)
    if family == "minimax":
        return minimax_layout(config, num_layers, hidden_size, heads, head_dim)
    if family == "falcon_h1":
        return falcon_h1_layout(config, num_layers, hidden_size)
    if family == "lfm2":
        mixers = lfm2_mixers(config, num_layers)
        conv = short_convolution(config, hidden_size) if MixerKind.SHORT_CONV in mixers else None
        return HybridLayout(mixers=mixers, state=conv)
    return None
