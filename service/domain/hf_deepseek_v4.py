"""DeepSeek-V4 (``model_type`` ``deepseek_v4``): exact parameters and checkpoint bytes.

Shapes are those of DeepSeek's reference model, ``inference/model.py`` of
https://huggingface.co/deepseek-ai/DeepSeek-V4-Flash/blob/60d8d70770c6776ff598c94bb586a859a38244f1/inference/model.py
(d = hidden_size, H heads of h = head_dim, q_r / o_r the q / o LoRA ranks, g = o_groups,
m = hc_mult, E routed experts of width f, V the vocabulary, c_i = compress_ratios[i])::

    attention   H (attn_sink) + d·q_r + q_r (q_norm) + q_r·H·h + d·h + h (kv_norm)
                + H·h·o_r (wo_a, g groups) + g·o_r·d (wo_b)
    compressor  c_i > 0: c_i·k·h (ape) + 2·d·k·h (wkv, wgate) + h (norm), k = 2 if c_i = 4
    indexer     c_i = 4: q_r·I_H·I_h (wq_b) + d·I_H (weights_proj) + a ratio-4 compressor of I_h
    MoE         E·d (gate) + E (bias; the first num_hash_layers route by a V·top_k token table
                instead) + E·3·d·f (experts) + 3·d·f (one shared expert)
    block       2·d (attn_norm, ffn_norm) + 2·[(2+m)·m·m·d + (2+m)·m + 3] (hyper-connections)
    model       2·V·d (embed, head) + d (norm) + m·m·d + m + 1 (hc_head)
    MTP layer   a block at c_{L+j} (0 when the list is shorter) + 2·d² (e_proj, h_proj)
                + 3·d (enorm, hnorm, norm) + m·m·d + m + 1; embed and head shared

Parameters are learned tensors; the hash layers' ``tid2eid`` table (V·top_k integers, stored
int64) and the scales are not parameters but are stored. Checkpoint bytes follow the release
(``expert_dtype`` fp4, ``quantization_config`` fp8 e4m3 blocks of 128x128 with ue8m0 scales):
experts FP4 (½ B) with a 1 B scale per 32, other linears (wq_a, wq_b, wkv, wo_a, wo_b,
indexer wq_b, shared experts, e_proj, h_proj) FP8 with a 1 B scale per 128x128 block,
compressors' wkv/wgate, indexer weights_proj, gate, embed, head and norms bf16, ape,
attn_sink, gate bias and hyper-connection tensors fp32. DeepSeek-V4-Flash: 284,332,240,471
parameters (model card: 284B) + 6,610,048,891 in its MTP layer; 69,187 tensors and
159,609,485,896 bytes, the count and ``total_size`` of its ``model.safetensors.index.json``
as https://github.com/fxp19950422/rtp-llm/blob/0cc3ab0b485479c79a31c26b9618b55a84b0d922/rtp_llm/model_loader/test/test_dsv4_checkpoint_inventory.py
states them (catalog/reference/deepseek_v4.json).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from service.domain.architecture import InvalidConfig
from service.domain.config_fields import read_int, read_int_list, read_str

FP8_BLOCK = 128
FP4_GROUP = 32
_REQUIRED = (
    "hidden_size", "num_hidden_layers", "num_attention_heads", "head_dim", "qk_rope_head_dim",
    "q_lora_rank", "o_lora_rank", "o_groups", "sliding_window", "index_n_heads",
    "index_head_dim", "index_topk", "n_routed_experts", "num_experts_per_tok",
    "moe_intermediate_size", "hc_mult", "vocab_size",
)  # fmt: skip


class DeepseekV4Shape(msgspec.Struct, frozen=True, kw_only=True):
    """The config keys that size a DeepSeek-V4 checkpoint."""

    hidden: int
    layers: int
    heads: int
    head_dim: int
    q_lora_rank: int
    o_lora_rank: int
    o_groups: int
    window_tokens: int
    index_heads: int
    index_head_dim: int
    experts: int
    experts_per_token: int
    expert_width: int
    shared_experts: int
    hash_layers: int
    hc_mult: int
    vocab: int
    compress_ratios: tuple[int, ...]
    mtp_layers: int
    fp4_experts: bool

    def ratio(self, layer: int) -> int:
        """``compress_ratios[layer]``, 0 (window only) past the list's end."""
        return self.compress_ratios[layer] if layer < len(self.compress_ratios) else 0


class DeepseekV4Count(msgspec.Struct, frozen=True, kw_only=True):
    """Parameters (total, active per token, MTP apart) and the stored checkpoint."""

    total: int
    active: int
    mtp: int
    routed_experts: int
    routing_table_entries: int
    checkpoint_bytes: int


def deepseek_v4_shape(config: Mapping[str, Any]) -> DeepseekV4Shape:
    """Read a ``deepseek_v4`` config; a missing or inconsistent key is InvalidConfig."""
    for key in _REQUIRED:
        read_int(config, key)
    layers = read_int(config, "num_hidden_layers", maximum=1024)
    heads, groups = read_int(config, "num_attention_heads"), read_int(config, "o_groups")
    if heads % groups:
        raise InvalidConfig("o_groups", f"{groups} does not divide {heads} heads")
    if read_int(config, "num_key_value_heads", default=1) != 1:
        raise InvalidConfig("num_key_value_heads", "DeepSeek-V4 attention has one KV head")
    if read_int(config, "qk_rope_head_dim") >= read_int(config, "head_dim"):
        raise InvalidConfig("qk_rope_head_dim", "must be smaller than head_dim")
    ratios = read_int_list(config, "compress_ratios")
    if len(ratios) < layers:
        raise InvalidConfig("compress_ratios", f"has {len(ratios)} entries for {layers} layers")
    if any(r not in (0, 4, 128) for r in ratios):
        raise InvalidConfig("compress_ratios", "entries must be 0, 4 or 128 (model.py)")
    expert_dtype = read_str(config, "expert_dtype", default="fp8")
    if expert_dtype not in ("fp4", "fp8"):
        raise InvalidConfig("expert_dtype", f"expected fp4 or fp8, got {expert_dtype!r}")
    experts = read_int(config, "n_routed_experts")
    if read_int(config, "num_experts_per_tok") > experts:
        raise InvalidConfig("num_experts_per_tok", f"more than the {experts} routed experts")
    return DeepseekV4Shape(
        hidden=read_int(config, "hidden_size"),
        layers=layers,
        heads=heads,
        head_dim=read_int(config, "head_dim"),
        q_lora_rank=read_int(config, "q_lora_rank"),
        o_lora_rank=read_int(config, "o_lora_rank"),
        o_groups=groups,
        window_tokens=read_int(config, "sliding_window"),
        index_heads=read_int(config, "index_n_heads"),
        index_head_dim=read_int(config, "index_head_dim"),
        experts=experts,
        experts_per_token=read_int(config, "num_experts_per_tok"),
        expert_width=read_int(config, "moe_intermediate_size"),
        shared_experts=read_int(config, "n_shared_experts", default=1),
        hash_layers=read_int(config, "num_hash_layers", default=0, minimum=0, maximum=layers),
        hc_mult=read_int(config, "hc_mult"),
        vocab=read_int(config, "vocab_size"),
        compress_ratios=ratios,
        mtp_layers=read_int(config, "num_nextn_predict_layers", default=0, minimum=0),
        fp4_experts=expert_dtype == "fp4",
    )


# One stored tensor kind: (role, elements, bytes per element, multiplicity).
_Tensor = tuple[str, int, float, int]


def _linear(role: str, rows: int, cols: int, fmt: str, times: int = 1) -> Iterator[_Tensor]:
    """A weight and, when quantised, its ue8m0 scale tensor (1 B per block)."""
    if fmt == "fp4":
        yield role, rows * cols, 0.5, times
        yield "scale", rows * (cols // FP4_GROUP), 1, times
    elif fmt == "fp8":
        yield role, rows * cols, 1, times
        yield "scale", math.ceil(rows / FP8_BLOCK) * math.ceil(cols / FP8_BLOCK), 1, times
    else:
        yield role, rows * cols, 2, times


def _compressor(s: DeepseekV4Shape, ratio: int, width: int) -> Iterator[_Tensor]:
    coff = 2 if ratio == 4 else 1  # ratio 4 compresses overlapping windows (model.py)
    yield "attention", ratio * coff * width, 4, 1  # ape, fp32
    yield from _linear("attention", coff * width, s.hidden, "bf16", times=2)  # wkv, wgate
    yield "norms", width, 2, 1


def _block(s: DeepseekV4Shape, layer: int, hashed: bool) -> Iterator[_Tensor]:
    d, h, ratio = s.hidden, s.head_dim, s.ratio(layer)
    yield "attention", s.heads, 4, 1  # attn_sink
    yield from _linear("attention", s.q_lora_rank, d, "fp8")
    yield from _linear("attention", s.heads * h, s.q_lora_rank, "fp8")
    yield from _linear("attention", h, d, "fp8")  # wkv: one latent of head_dim
    yield from _linear("attention", s.o_groups * s.o_lora_rank, s.heads * h // s.o_groups, "fp8")
    yield from _linear("attention", d, s.o_groups * s.o_lora_rank, "fp8")
    yield "norms", s.q_lora_rank + h + 2 * d, 2, 1  # q_norm, kv_norm, attn_norm, ffn_norm
    if ratio:
        yield from _compressor(s, ratio, h)
    if ratio == 4:
        yield from _linear("attention", s.index_heads * s.index_head_dim, s.q_lora_rank, "fp8")
        yield from _linear("attention", s.index_heads, d, "bf16")  # weights_proj
        yield from _compressor(s, 4, s.index_head_dim)
    yield "router", s.experts * d, 2, 1
    if hashed:
        yield "tid2eid", s.vocab * s.experts_per_token, 8, 1
    else:
        yield "router", s.experts, 4, 1  # e_score bias, fp32
    fmt = "fp4" if s.fp4_experts else "fp8"
    for rows, cols in ((s.expert_width, d), (d, s.expert_width), (s.expert_width, d)):
        yield from _linear("routed", rows, cols, fmt, times=s.experts)
        yield from _linear("shared", rows, cols, "fp8", times=s.shared_experts)
    mix = (2 + s.hc_mult) * s.hc_mult
    yield "hyper", mix * s.hc_mult * d, 4, 2  # hc_attn_fn, hc_ffn_fn
    yield "hyper", mix, 4, 2
    yield "hyper", 3, 4, 2


def _head(s: DeepseekV4Shape) -> Iterator[_Tensor]:
    """hc_head_fn, hc_head_base, hc_head_scale (fp32)."""
    yield "hyper", s.hc_mult * s.hc_mult * s.hidden, 4, 1
    yield "hyper", s.hc_mult, 4, 1
    yield "hyper", 1, 4, 1


def _model(s: DeepseekV4Shape) -> Iterator[_Tensor]:
    yield "embedding", s.vocab * s.hidden, 2, 2  # embed, head
    yield "norms", s.hidden, 2, 1
    yield from _head(s)
    for layer in range(s.layers):
        yield from _block(s, layer, layer < s.hash_layers)


def _mtp(s: DeepseekV4Shape) -> Iterator[_Tensor]:
    for j in range(s.mtp_layers):
        yield from _block(s, s.layers + j, False)
        yield from _linear("mtp", s.hidden, s.hidden, "fp8", times=2)  # e_proj, h_proj
        yield "norms", 3 * s.hidden, 2, 1
        yield from _head(s)


def _parameters(tensors: list[_Tensor], role: str | None = None) -> int:
    skip = ("scale", "tid2eid")
    return sum(
        n * times
        for kind, n, _, times in tensors
        if kind not in skip and (role is None or kind == role)
    )


def count_deepseek_v4(s: DeepseekV4Shape) -> DeepseekV4Count:
    """Parameters and the stored checkpoint (module formula); MTP layers counted apart."""
    model, mtp = list(_model(s)), list(_mtp(s))
    stored = model + mtp
    total = _parameters(model)
    routed = _parameters(model, "routed")
    inactive = routed * (s.experts - s.experts_per_token) // s.experts
    return DeepseekV4Count(
        total=total,
        active=total - inactive,
        mtp=_parameters(mtp),
        routed_experts=routed,
        routing_table_entries=sum(n for kind, n, _, _ in model if kind == "tid2eid"),
        checkpoint_bytes=int(sum(n * b * times for _, n, b, times in stored)),
    )
