"""Mixture-of-experts structure read from a config: expert counts, sizes and which layers.

Each family's layout follows its modelling code (file named per branch); the generic branch
is Mixtral's (every layer, experts of ``intermediate_size``, router without bias).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, MixtureOfExperts, UnsupportedArchitecture
from service.domain.config_fields import (
    read_bool,
    read_int,
    read_int_list,
    read_optional_int,
    read_str,
    read_str_list,
)
from service.domain.hf_gemma4 import GEMMA4_FAMILY, gemma4_moe

# Model types read as deepseek_v3 whose routers always hold e_score_correction_bias.
_ALWAYS_CORRECTION_BIAS = frozenset({"glm4_moe_lite", "kimi_k2"})


def mixture_of_experts(
    config: Mapping[str, Any], model_type: str, num_layers: int, intermediate_size: int
) -> MixtureOfExperts | None:
    """Expert counts and which layers hold experts, or None for a dense model.

    Mixtral/gpt-oss: every layer (``num_local_experts``). Qwen MoE: ``num_experts``, layer
    ``i`` sparse unless in ``mlp_only_layers`` and when ``(i + 1) % decoder_sparse_step == 0``.
    DeepSeek: ``n_routed_experts`` from ``first_k_dense_replace`` on, every
    ``moe_layer_freq``-th layer, shared experts of ``n_shared_experts · moe_intermediate_size``.
    """
    if model_type == "ernie4_5_moe":
        return _ernie_moe(config, num_layers)
    if model_type == "hunyuan_v1_moe":
        return _hunyuan_moe(config, num_layers, intermediate_size)
    if model_type == GEMMA4_FAMILY:
        return gemma4_moe(config, num_layers, intermediate_size)
    experts = read_optional_int(config, "num_local_experts", "num_experts", "n_routed_experts")
    if not experts or experts <= 1:
        return None
    per_token = read_int(
        config, "num_experts_per_tok", "experts_per_token", "num_experts_per_token"
    )
    if per_token > experts:
        raise InvalidConfig("num_experts_per_tok", f"{per_token} exceeds the {experts} experts")
    if model_type == "nemotron_h":
        # modeling_nemotron_h.py NemotronHMoE: up/down experts, a shared up/down MLP and a
        # router with e_score_correction_bias; the blocks holding it come from the pattern.
        shared_size = read_int(config, "moe_shared_expert_intermediate_size", default=0, minimum=0)
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=read_int(config, "moe_intermediate_size"),
            moe_layers=(),
            num_shared_experts=1 if shared_size else 0,
            shared_expert_intermediate_size=shared_size,
            router_bias=True,
            latent_size=read_int(config, "moe_latent_size", default=0, minimum=0),
        )
    if model_type == "jamba":
        # JambaSparseMoeBlock: router without bias, gated experts of intermediate_size on
        # layers i % expert_layer_period == expert_layer_offset.
        period = read_int(config, "expert_layer_period", default=2)
        offset = read_int(config, "expert_layer_offset", default=1, minimum=0)
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=intermediate_size,
            moe_layers=tuple(i for i in range(num_layers) if i % period == offset),
        )
    if model_type == "llama4_text":
        # modeling_llama4.py Llama4TextMoe: experts (gate_up 2f, down) of intermediate_size,
        # a router without bias and an always-on shared expert of the same size; MoE layers
        # are moe_layers, else every interleave_moe_layer_step-th layer.
        step = read_int(config, "interleave_moe_layer_step", default=1)
        listed = read_int_list(config, "moe_layers")
        layers = listed or tuple(range(step - 1, num_layers, step))
        expert_size = read_int(config, "intermediate_size")
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=expert_size,
            moe_layers=tuple(layers),
            num_shared_experts=1,
            shared_expert_intermediate_size=expert_size,
        )
    if model_type == "minimax_m2":
        # MiniMaxM2SparseMoeBlock: w1/w2/w3 experts of intermediate_size in every layer, a
        # router with e_score_correction_bias when use_routing_bias, no shared expert.
        if read_int(config, "shared_intermediate_size", default=0, minimum=0):
            raise UnsupportedArchitecture(
                "MiniMax shared experts", "config key 'shared_intermediate_size'"
            )
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=intermediate_size,
            moe_layers=tuple(range(num_layers)),
            router_bias=read_bool(config, "use_routing_bias", default=True),
        )
    if model_type == "granitemoehybrid":
        # modeling_granitemoe(shared).py: router without bias, experts input_linear (2f, d)
        # and output_linear (d, f), a gated shared_mlp of shared_intermediate_size.
        shared_size = read_int(config, "shared_intermediate_size", default=0, minimum=0)
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=intermediate_size,
            moe_layers=tuple(range(num_layers)),
            num_shared_experts=1 if shared_size else 0,
            shared_expert_intermediate_size=shared_size,
        )
    if model_type == "kimi_linear":
        # vLLM kimi_linear.py KimiMoE: gate (no bias) + e_score_correction_bias, experts of
        # moe_intermediate_size, one shared MLP of num_shared_experts · moe_intermediate_size,
        # on layers i >= first_k_dense_replace with i % moe_layer_freq == 0.
        first_dense = read_int(config, "first_k_dense_replace", default=0, minimum=0)
        freq = read_int(config, "moe_layer_freq", default=1)
        size = read_int(config, "moe_intermediate_size")
        shared = read_int(config, "num_shared_experts", default=0, minimum=0)
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=size,
            moe_layers=tuple(i for i in range(num_layers) if i >= first_dense and i % freq == 0),
            num_shared_experts=1 if shared else 0,
            shared_expert_intermediate_size=shared * size,
            router_bias=True,
        )
    if model_type.startswith("deepseek") or model_type == "glm4_moe":
        first_dense = read_int(config, "first_k_dense_replace", default=0, minimum=0)
        freq = read_int(config, "moe_layer_freq", default=1)
        layers = tuple(i for i in range(num_layers) if i >= first_dense and i % freq == 0)
        mlp_types = read_str_list(config, "mlp_layer_types")  # GLM-5: 'dense' / 'sparse'
        if mlp_types is not None:
            if len(mlp_types) != num_layers or set(mlp_types) - {"dense", "sparse"}:
                raise InvalidConfig(
                    "mlp_layer_types", f"expected {num_layers} entries of 'dense' or 'sparse'"
                )
            layers = tuple(i for i, kind in enumerate(mlp_types) if kind == "sparse")
        expert_size = read_int(config, "moe_intermediate_size")
        shared = read_int(config, "n_shared_experts", default=0, minimum=0)
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=expert_size,
            moe_layers=layers,
            num_shared_experts=1 if shared else 0,
            shared_expert_intermediate_size=shared * expert_size,
            # e_score_correction_bias: DeepSeek-V3 with noaux_tc; always in Glm4MoeTopkRouter,
            # Glm4MoeLiteTopkRouter (GLM-4.7-Flash) and Kimi K2's checkpoints (60 x 384 F32
            # elements in its shard headers), both read as deepseek_v3.
            router_bias=model_type == "glm4_moe"
            or read_str(config, "model_type", default="") in _ALWAYS_CORRECTION_BIAS
            or read_str(config, "topk_method", default="") == "noaux_tc",
        )
    if model_type.startswith(("qwen2_moe", "qwen3_moe", "qwen3_next")):
        dense_only = set(read_int_list(config, "mlp_only_layers"))
        step = read_int(config, "decoder_sparse_step", default=1)
        layers = tuple(i for i in range(num_layers) if i not in dense_only and (i + 1) % step == 0)
        shared_size = read_int(config, "shared_expert_intermediate_size", default=0, minimum=0)
        return MixtureOfExperts(
            num_experts=experts,
            experts_per_token=per_token,
            expert_intermediate_size=read_int(config, "moe_intermediate_size"),
            moe_layers=layers,
            num_shared_experts=1 if shared_size else 0,
            shared_expert_intermediate_size=shared_size,
            shared_expert_gate=bool(shared_size),
        )
    is_gpt_oss = model_type == "gpt_oss"
    return MixtureOfExperts(
        num_experts=experts,
        experts_per_token=per_token,
        expert_intermediate_size=intermediate_size,
        moe_layers=tuple(range(num_layers)),
        router_bias=is_gpt_oss,
        expert_bias=is_gpt_oss,
    )


def _ernie_moe(config: Mapping[str, Any], num_layers: int) -> MixtureOfExperts | None:
    """ERNIE 4.5 (modular_ernie4_5_moe.py): layer ``i`` is MoE when
    ``(i + 1) % moe_layer_interval == 0`` and ``start <= i <= end``; ``moe_num_experts``
    gated experts of ``moe_intermediate_size`` (biased by ``use_bias``), a gate without
    bias and ``moe_statics.e_score_correction_bias``, and one shared MLP of
    ``moe_num_shared_experts · moe_intermediate_size``."""
    experts = read_optional_int(config, "moe_num_experts")
    if not experts or experts <= 1:
        return None
    per_token = read_int(config, "moe_k")
    if per_token > experts:
        raise InvalidConfig("moe_k", f"{per_token} exceeds the {experts} experts")
    interval = read_int(config, "moe_layer_interval", default=1)
    start = read_int(config, "moe_layer_start_index", default=0, minimum=0)
    end_raw = config.get("moe_layer_end_index")
    end = (
        num_layers - 1
        if end_raw in (None, -1)
        else read_int(config, "moe_layer_end_index", minimum=0)
    )
    size = read_int(config, "moe_intermediate_size")
    shared = read_int(config, "moe_num_shared_experts", default=0, minimum=0)
    return MixtureOfExperts(
        num_experts=experts,
        experts_per_token=per_token,
        expert_intermediate_size=size,
        moe_layers=tuple(
            i for i in range(num_layers) if (i + 1) % interval == 0 and start <= i <= end
        ),
        num_shared_experts=1 if shared else 0,
        shared_expert_intermediate_size=shared * size,
        router_bias=True,
        expert_bias=read_bool(config, "use_bias", default=False),
    )


def _per_layer(config: Mapping[str, Any], key: str, num_layers: int, default: int) -> int:
    """One value of a Hunyuan int-or-per-layer-list key; lists must be uniform."""
    raw = config.get(key)
    if raw is None:
        return default
    if isinstance(raw, list):
        values = read_int_list(config, key)
        if len(values) != num_layers:
            raise InvalidConfig(key, f"has {len(values)} entries for {num_layers} layers")
        if len(set(values)) > 1:
            raise UnsupportedArchitecture(
                "per-layer MoE shapes that differ between layers", f"config key '{key}'"
            )
        return values[0]
    return read_int(config, key, minimum=0)


def _hunyuan_moe(
    config: Mapping[str, Any], num_layers: int, intermediate_size: int
) -> MixtureOfExperts | None:
    """Hunyuan MoE (vLLM hunyuan_v1.py HunYuanSparseMoeBlock): every layer is MoE when
    ``num_experts`` > 1; a gate without bias, gated experts of ``moe_intermediate_size``
    (else ``intermediate_size``), top-k ``moe_topk``; with ``use_mixed_mlp_moe`` one shared
    MLP of ``intermediate_size · num_shared_expert``. Int-or-list keys must be uniform."""
    experts = _per_layer(config, "num_experts", num_layers, 1)
    if experts <= 1:
        return None
    per_token = _per_layer(config, "moe_topk", num_layers, 1)
    if per_token > experts:
        raise InvalidConfig("moe_topk", f"{per_token} exceeds the {experts} experts")
    size = _per_layer(config, "moe_intermediate_size", num_layers, intermediate_size)
    shared = 0
    if read_bool(config, "use_mixed_mlp_moe", default=False):
        shared = _per_layer(config, "num_shared_expert", num_layers, 1)
    return MixtureOfExperts(
        num_experts=experts,
        experts_per_token=per_token,
        expert_intermediate_size=size,
        moe_layers=tuple(range(num_layers)),
        num_shared_experts=1 if shared else 0,
        shared_expert_intermediate_size=shared * intermediate_size,
    )
