"""The linear layers of a decoder, named as the checkpoint names them, with their shapes.

Names follow the transformers modelling code for Llama-style models
(``model.layers.{i}.self_attn.q_proj``, ``model.layers.{i}.mlp.gate_proj``,
``model.layers.{i}.mlp.experts.{e}.down_proj``, DeepSeek's ``q_a_proj`` /
``kv_a_proj_with_mqa`` / ``kv_b_proj``). They are what ``modules_to_not_convert`` /
``ignore`` patterns are matched against; shapes are ``nn.Linear.weight`` ``[out, in]``.
Routers, embeddings, lm_head and norms are not here: they stay 16-bit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

import msgspec

from service.domain.architecture import Architecture, MlpKind


class Role(enum.StrEnum):
    """Which parameter group of :class:`ParameterBreakdown` a linear layer belongs to."""

    ATTENTION = "attention"
    MLP = "mlp"
    EXPERTS = "routed_experts"
    SHARED = "shared_experts"


class LinearModule(msgspec.Struct, frozen=True, kw_only=True):
    """``count`` identical ``[rows, cols]`` weights named like ``name``."""

    name: str
    rows: int
    cols: int
    role: Role
    count: int = 1


def linear_modules(arch: Architecture) -> Iterator[LinearModule]:
    """Every linear layer of every decoder layer (experts as one entry of ``count`` E)."""
    moe_layers = frozenset(arch.moe.moe_layers) if arch.moe else frozenset()
    for layer in range(arch.num_layers):
        prefix = f"model.layers.{layer}"
        yield from _attention(arch, f"{prefix}.self_attn")
        if layer in moe_layers and arch.moe is not None:
            moe = arch.moe
            yield from _mlp(
                arch,
                f"{prefix}.mlp.experts.0",
                moe.expert_intermediate_size,
                Role.EXPERTS,
                moe.num_experts,
            )
            if moe.num_shared_experts:
                size = moe.shared_expert_intermediate_size * moe.num_shared_experts
                yield from _mlp(arch, f"{prefix}.mlp.shared_experts", size, Role.SHARED, 1)
        else:
            yield from _mlp(arch, f"{prefix}.mlp", arch.intermediate_size, Role.MLP, 1)


def _attention(arch: Architecture, prefix: str) -> Iterator[LinearModule]:
    d, heads = arch.hidden_size, arch.num_attention_heads
    if arch.mla is not None:
        m = arch.mla
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            yield LinearModule(
                name=f"{prefix}.q_a_proj", rows=m.q_lora_rank, cols=d, role=Role.ATTENTION
            )
            yield LinearModule(
                name=f"{prefix}.q_b_proj",
                rows=heads * qk_head,
                cols=m.q_lora_rank,
                role=Role.ATTENTION,
            )
        else:
            yield LinearModule(
                name=f"{prefix}.q_proj", rows=heads * qk_head, cols=d, role=Role.ATTENTION
            )
        yield LinearModule(
            name=f"{prefix}.kv_a_proj_with_mqa",
            rows=m.kv_lora_rank + m.qk_rope_head_dim,
            cols=d,
            role=Role.ATTENTION,
        )
        yield LinearModule(
            name=f"{prefix}.kv_b_proj",
            rows=heads * (m.qk_nope_head_dim + m.v_head_dim),
            cols=m.kv_lora_rank,
            role=Role.ATTENTION,
        )
        yield LinearModule(
            name=f"{prefix}.o_proj", rows=d, cols=heads * m.v_head_dim, role=Role.ATTENTION
        )
        return
    q_width, kv_width = arch.query_width, arch.num_kv_heads * arch.head_dim
    if arch.fused_qkv:
        yield LinearModule(
            name=f"{prefix}.qkv_proj", rows=q_width + 2 * kv_width, cols=d, role=Role.ATTENTION
        )
    else:
        yield LinearModule(name=f"{prefix}.q_proj", rows=q_width, cols=d, role=Role.ATTENTION)
        yield LinearModule(name=f"{prefix}.k_proj", rows=kv_width, cols=d, role=Role.ATTENTION)
        yield LinearModule(name=f"{prefix}.v_proj", rows=kv_width, cols=d, role=Role.ATTENTION)
    yield LinearModule(name=f"{prefix}.o_proj", rows=d, cols=q_width, role=Role.ATTENTION)


def _mlp(
    arch: Architecture, prefix: str, size: int, role: Role, count: int
) -> Iterator[LinearModule]:
    d = arch.hidden_size
    if arch.mlp_kind is MlpKind.GATED:
        yield LinearModule(name=f"{prefix}.gate_proj", rows=size, cols=d, role=role, count=count)
    yield LinearModule(name=f"{prefix}.up_proj", rows=size, cols=d, role=role, count=count)
    yield LinearModule(name=f"{prefix}.down_proj", rows=d, cols=size, role=role, count=count)
