"""FLOPs per token: the matmul term ``2·N_active`` plus attention that grows with context.

Formula sheet §2.4 (kipply; Kaplan et al. Table 1)::

    F_token(T)     = 2·N_matmul + Σ_layers 2·H·(h_qk + h_v)·min(T, W)   (each layer's widths)
    F_prefill(S)   = Σ_{i=1..S} F_token(i)          (causal: the masked half is skipped)

``N_matmul`` counts the weights that take part in matrix products for one token: active
parameters minus the input embedding (a lookup), norms and biases, plus ``lm_head``
(read and multiplied even when it is tied to the embedding: 2·V·d per token).
"""

from __future__ import annotations

from service.domain.architecture import Architecture, LayerAttention
from service.domain.kv_cache import stage_layer_kinds, tokens_held
from service.domain.parameters import ParameterCount


def matmul_parameters_per_token(arch: Architecture, params: ParameterCount) -> int:
    """Weights multiplied per token: active minus lookups, norms and biases, plus lm_head."""
    b = params.breakdown
    lm_head = arch.vocab_size * arch.hidden_size
    return (
        params.active
        - b.embedding
        - b.position_embedding
        - b.norms
        - b.biases
        - b.attention_sinks
        - b.lm_head
        + lm_head
    )


def attention_head_widths(
    arch: Architecture, layer: LayerAttention | None = None
) -> tuple[int, int]:
    """(query-key width, value width) of one head; MLA uses nope+rope for QK and v_head_dim;
    a layer with its own width (Gemma 4 global layers: ``global_head_dim``) uses it."""
    if arch.mla is not None:
        return arch.mla.qk_nope_head_dim + arch.mla.qk_rope_head_dim, arch.mla.v_head_dim
    width = (layer.head_dim if layer is not None else None) or arch.head_dim
    return width, width


def _flops_per_attended_position(arch: Architecture, layer: LayerAttention) -> int:
    """``2 · H · (h_qk + h_v)`` for this layer's head widths."""
    qk, v = attention_head_widths(arch, layer)
    return 2 * arch.num_attention_heads * (qk + v)


def _decode_flops_per_attended_position(arch: Architecture, layer: LayerAttention) -> int:
    """A decode token's attention per cached position. MLA decodes in the absorbed form
    (DeepSeek-V2 §2.1.2; vLLM's MLA backends and FlashMLA): each head's query is carried
    into the latent space and attends to the cached latent itself, ``2·H·((r + r_rope) + r)``
    (QKᵀ over the latent and its RoPE part, AV over the latent), 3.4x the decompressed
    form's ``2·H·(h_qk + h_v)`` for DeepSeek-V3 (r = 512, r_rope = 64, h_qk = 192,
    h_v = 128); prefill runs the decompressed form (:func:`prefill_flops`)."""
    if arch.mla is not None:
        rank = arch.mla.kv_lora_rank
        return 2 * arch.num_attention_heads * (rank + arch.mla.qk_rope_head_dim + rank)
    return _flops_per_attended_position(arch, layer)


def attention_flops_per_token(arch: Architecture, context_tokens: int) -> int:
    """QKᵀ and AV for one new (decode) token attending to ``context_tokens`` (windowed per
    layer); MLA in its absorbed form (:func:`_decode_flops_per_attended_position`).

    Scales with query heads H, not KV heads: GQA shrinks the cache, not these FLOPs.
    """
    (layers,) = stage_layer_kinds(arch)
    return sum(
        count
        * _decode_flops_per_attended_position(arch, layer)
        * tokens_held(layer, context_tokens)
        for layer, count in layers
    )


def prefill_flops(arch: Architecture, params: ParameterCount, prompt_tokens: int) -> int:
    """FLOPs to prefill one prompt of ``prompt_tokens`` with causal attention.

    Full layers: ``Σ_{i=1..S} i = S(S+1)/2`` attended positions; sliding layers cap each
    position at the window ``W``.
    """
    (layers,) = stage_layer_kinds(arch)
    attention = sum(
        count
        * _flops_per_attended_position(arch, layer)
        * _causal_positions(prompt_tokens, layer.window_tokens)
        for layer, count in layers
    )
    return 2 * matmul_parameters_per_token(arch, params) * prompt_tokens + attention


def _causal_positions(prompt_tokens: int, window: int | None) -> int:
    """``Σ_{i=1..S} min(i, W)``: positions each query attends to under a causal mask."""
    if window is None or window >= prompt_tokens:
        return prompt_tokens * (prompt_tokens + 1) // 2
    return window * (window + 1) // 2 + (prompt_tokens - window) * window
