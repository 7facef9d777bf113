"""Exact parameter counts, total and active, with a breakdown.

Convention: unique learned parameters as stored in the checkpoint. Tied embeddings are
counted once; buffers (rotary ``inv_freq``, GPT-2 causal masks) are not parameters;
DeepSeek-V3's multi-token-prediction layer is excluded, its router
``e_score_correction_bias`` included. Layer shapes follow the transformers modelling code
(formula sheet §2.1: attention q/k/v/o with H·h and H_kv·h widths, gated MLP 3·d·f, plain
MLP 2·d·f, RMSNorm d and LayerNorm 2·d per norm, MoE router d·E and experts E·3·d·f_e).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Annotated

import msgspec

from service.domain.architecture import Architecture, LayerAttention, MlpKind, NormKind


class ParameterBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Parameter counts by role. Matrix weights are split from norms and biases so that
    weight memory can keep the small tensors at 16 bit when the matrices are quantised.
    ``encoder`` is a multimodal checkpoint's vision tower and projector (kept 16-bit)."""

    embedding: Annotated[int, msgspec.Meta(description="Token embedding parameters (count)")]
    position_embedding: Annotated[
        int, msgspec.Meta(description="Learned position embedding parameters (count)")
    ]
    attention: Annotated[int, msgspec.Meta(description="Attention projection parameters (count)")]
    mlp: Annotated[int, msgspec.Meta(description="Dense MLP parameters (count)")]
    routed_experts: Annotated[
        int, msgspec.Meta(description="Routed expert parameters, all experts (count)")
    ]
    shared_experts: Annotated[int, msgspec.Meta(description="Shared expert parameters (count)")]
    router: Annotated[int, msgspec.Meta(description="MoE router parameters (count)")]
    norms: Annotated[int, msgspec.Meta(description="Normalisation weights (count)")]
    biases: Annotated[int, msgspec.Meta(description="Bias parameters (count)")]
    attention_sinks: Annotated[int, msgspec.Meta(description="Attention sink parameters (count)")]
    lm_head: Annotated[
        int,
        msgspec.Meta(description="Output head parameters; 0 when tied to the embedding (count)"),
    ]
    encoder: Annotated[
        int,
        msgspec.Meta(
            description="Vision tower and projector parameters of a multimodal checkpoint (count)"
        ),
    ] = 0

    @property
    def total(self) -> int:
        return sum(msgspec.structs.astuple(self))


class ParameterCount(msgspec.Struct, frozen=True, kw_only=True):
    """Total and active (per-token) parameters; equal for dense models.

    ``mtp`` counts the multi-token-prediction layers the checkpoint ships beside the model;
    they are not in ``total`` and engines load them only when speculative decoding uses
    them (vLLM ``--speculative-config`` with the ``mtp`` method).
    """

    total: int
    active: int
    breakdown: ParameterBreakdown
    mtp: int = 0

    @property
    def non_embedding(self) -> int:
        """Total minus input/position embeddings and lm_head (Kaplan's N; Gemma's "2B")."""
        b = self.breakdown
        return self.total - b.embedding - b.position_embedding - b.lm_head


def _layer_widths(arch: Architecture, layer: LayerAttention | None) -> tuple[int, int, int]:
    """(head_dim, KV width, number of k/v projections) of one layer: Gemma 4's global layers
    override head_dim and KV heads, K-as-V layers have one projection, shared-KV none."""
    head_dim = (layer.head_dim if layer else None) or arch.head_dim
    kv_heads = (layer.kv_heads if layer else None) or arch.num_kv_heads
    projections = 2
    if layer is not None and layer.shares_kv:
        projections = 0
    elif layer is not None and layer.values_from_keys:
        projections = 1
    return head_dim, kv_heads * head_dim, projections


def attention_weights_per_layer(arch: Architecture, layer: LayerAttention | None = None) -> int:
    """q, k, v and o projections (or MLA's compressed projections) of one layer."""
    d, heads = arch.hidden_size, arch.num_attention_heads
    if arch.mla is not None:
        m = arch.mla
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            q = d * m.q_lora_rank + m.q_lora_rank * heads * qk_head
        else:
            q = d * heads * qk_head
        kv = d * (m.kv_lora_rank + m.qk_rope_head_dim)
        kv += m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim)
        return q + kv + heads * m.v_head_dim * d
    head_dim, kv_width, projections = _layer_widths(arch, layer)
    q_width = heads * head_dim
    q_projection = 2 * q_width if arch.attention_query_gate else q_width
    return d * (q_projection + projections * kv_width) + q_width * d


def _over_attention_layers(arch: Architecture, per_layer: Callable[[LayerAttention], int]) -> int:
    """``Σ per_layer(layer)`` over the attention layers, each distinct layer shape once."""
    counts = Counter(arch.layer_attention[i] for i in arch.attention_layers)
    return sum(n * per_layer(layer) for layer, n in counts.items())


def state_mixer_weights(arch: Architecture) -> int:
    """Projection matrices of every linear-attention / state-space layer, all layers."""
    if arch.state is None:
        return 0
    return len(arch.state_layers) * arch.state.matrix_parameters


def _indexer_weights(arch: Architecture) -> int:
    if arch.indexer is None:
        return 0
    layers = len(arch.indexer.layers) or len(arch.attention_layers)
    return layers * arch.indexer.parameters_per_layer


def _attention_norms_per_layer(arch: Architecture, layer: LayerAttention | None = None) -> int:
    if arch.mla is not None:
        return (arch.mla.q_lora_rank or 0) + arch.mla.kv_lora_rank
    if arch.qk_norm_full_width:
        return arch.query_width + arch.num_kv_heads * arch.head_dim
    head_dim, _, _ = _layer_widths(arch, layer)
    # q_norm always; k_norm only where the layer projects its own keys.
    has_k_norm = layer is None or not layer.shares_kv
    return head_dim * (1 + has_k_norm) if arch.qk_norm else 0


def _attention_biases_per_layer(arch: Architecture, layer: LayerAttention | None = None) -> int:
    biases = 0
    if arch.qkv_bias:
        head_dim, kv_width, projections = _layer_widths(arch, layer)
        biases += arch.num_attention_heads * head_dim + projections * kv_width
    if arch.attention_output_bias:
        biases += arch.hidden_size
    return biases


def mlp_weights(arch: Architecture, intermediate_size: int) -> int:
    """Gated (gate, up, down): 3·d·f; plain (fc1, fc2): 2·d·f."""
    matrices = 3 if arch.mlp_kind is MlpKind.GATED else 2
    return matrices * arch.hidden_size * intermediate_size


def _mlp_biases(arch: Architecture, intermediate_size: int) -> int:
    if not arch.mlp_bias:
        return 0
    inputs = 2 * intermediate_size if arch.mlp_kind is MlpKind.GATED else intermediate_size
    return inputs + arch.hidden_size


def _shared_expert_biases(arch: Architecture) -> int:
    """Biases of the shared experts where experts have biases (ERNIE 4.5 ``use_bias``)."""
    moe = arch.moe
    if moe is None or not moe.expert_bias or not moe.num_shared_experts:
        return 0
    per_layer = moe.num_shared_experts * (
        2 * moe.shared_expert_intermediate_size + arch.hidden_size
    )
    return len(moe.moe_layers) * per_layer


def routed_expert_parameters(arch: Architecture) -> int:
    """One routed expert: its matrices, plus its biases where the family has them."""
    if arch.moe is None:
        return 0
    f_e = arch.moe.expert_intermediate_size
    width = arch.moe.latent_size or arch.hidden_size
    biases = 2 * f_e + width if arch.moe.expert_bias else 0
    matrices = 3 if arch.mlp_kind is MlpKind.GATED else 2
    return matrices * width * f_e + biases


def _norm_width(arch: Architecture) -> int:
    return arch.hidden_size * (2 if arch.norm_kind is NormKind.LAYER else 1)


def count_parameters(arch: Architecture) -> ParameterCount:
    """Total and active parameters of ``arch`` with a per-role breakdown.

    Attention, its norms and biases are counted on the attention layers; linear-attention
    and state-space projections join ``attention`` (token mixers), their convolution,
    A/D/dt parameters and gated norms join ``norms``. Layers without an MLP (Nemotron-H's
    mixer-only blocks) and MoE layers are not counted as dense MLP layers.
    """
    d, layers = arch.hidden_size, arch.num_layers
    attention_layers = len(arch.attention_layers)
    state_layers = len(arch.state_layers)
    moe = arch.moe
    moe_layers = len(moe.moe_layers) if moe else 0
    dense_layers = layers - moe_layers - len(arch.mlp_free_layers)
    per_expert = routed_expert_parameters(arch)
    router = shared = 0
    if moe is not None:
        router = moe_layers * (d * moe.num_experts + (moe.num_experts if moe.router_bias else 0))
        if moe.router_scales:
            router += moe_layers * (d + moe.num_experts)
        shared_size = moe.shared_expert_intermediate_size
        shared = moe_layers * (
            mlp_weights(arch, shared_size) * moe.num_shared_experts
            + (d if moe.shared_expert_gate else 0)
            + 2 * d * moe.latent_size
        )
    state_small = state_layers * arch.state.small_parameters if arch.state else 0
    embedding = arch.vocab_size * d
    ple_width = arch.per_layer_embedding_width
    breakdown = ParameterBreakdown(
        embedding=embedding + arch.per_layer_embedding_vocab * layers * ple_width,
        position_embedding=arch.learned_position_embeddings * d,
        attention=_over_attention_layers(arch, lambda la: attention_weights_per_layer(arch, la))
        + state_mixer_weights(arch)
        + _indexer_weights(arch),
        mlp=dense_layers * mlp_weights(arch, arch.intermediate_size)
        + len(arch.wide_mlp_layers) * mlp_weights(arch, arch.intermediate_size)
        + 3 * layers * d * ple_width
        + arch.extra_matrix_parameters,
        routed_experts=moe_layers * moe.num_experts * per_expert if moe else 0,
        shared_experts=shared,
        router=router,
        norms=layers * arch.norms_per_layer * _norm_width(arch)
        + _over_attention_layers(arch, lambda la: _attention_norms_per_layer(arch, la))
        + state_small
        + _norm_width(arch)
        + (ple_width if ple_width else 0)
        + (layers if arch.layer_scalars else 0)
        + layers * arch.activation_parameters_per_layer
        + arch.extra_small_parameters,
        biases=_over_attention_layers(arch, lambda la: _attention_biases_per_layer(arch, la))
        + dense_layers * _mlp_biases(arch, arch.intermediate_size)
        + _shared_expert_biases(arch)
        + (arch.vocab_size if arch.lm_head_bias and not arch.tie_word_embeddings else 0),
        attention_sinks=attention_layers * arch.num_attention_heads if arch.attention_sinks else 0,
        lm_head=0 if arch.tie_word_embeddings else embedding,
        encoder=arch.encoder_parameters,
    )
    total = breakdown.total
    inactive = moe_layers * (moe.num_experts - moe.experts_per_token) * per_expert if moe else 0
    return ParameterCount(
        total=total, active=total - inactive, breakdown=breakdown, mtp=mtp_parameters(arch)
    )


def unused_shared_kv_parameters(arch: Architecture) -> int:
    """K/V projections and k norms the checkpoint stores for shared-KV layers, which never use
    them (Gemma 4: transformers lists them in ``_keys_to_ignore_on_load_unexpected``).

    Per such layer ``2·d·H_kv·h`` plus a ``k_norm`` of ``h``; not in :func:`count_parameters`
    (not loaded), named by the Hub-total check as a known extra.
    """
    stored = 0
    for layer in arch.layer_attention:
        if layer.shares_kv:
            head_dim, kv_width, _ = _layer_widths(arch, layer)
            stored += 2 * arch.hidden_size * kv_width + (head_dim if arch.qk_norm else 0)
    return stored


def text_only(params: ParameterCount) -> ParameterCount:
    """The count without the vision/audio encoder, for engines told to skip it (vLLM
    ``--limit-mm-per-prompt`` of 0 for every modality leaves the encoder unloaded)."""
    encoder = params.breakdown.encoder
    if not encoder:
        return params
    return msgspec.structs.replace(
        params,
        total=params.total - encoder,
        active=params.active - encoder,
        breakdown=msgspec.structs.replace(params.breakdown, encoder=0),
    )


def _full_attention_moe_layer(arch: Architecture) -> int:
    """One decoder layer with attention and the family's MoE (or dense) MLP."""
    d = arch.hidden_size
    layer = attention_weights_per_layer(arch) + _attention_norms_per_layer(arch)
    layer += _attention_biases_per_layer(arch) + arch.norms_per_layer * _norm_width(arch)
    if arch.indexer is not None:
        layer += arch.indexer.parameters_per_layer
    moe = arch.moe
    if moe is None:
        return layer + mlp_weights(arch, arch.intermediate_size)
    layer += moe.num_experts * routed_expert_parameters(arch)
    layer += moe.num_shared_experts * mlp_weights(arch, moe.shared_expert_intermediate_size)
    layer += d * moe.num_experts + (moe.num_experts if moe.router_bias else 0)
    return layer + (d if moe.shared_expert_gate else 0) + 2 * d * moe.latent_size


def mtp_parameters(
    arch: Architecture, layers: int | None = None, *, own_embedding_and_head: bool = True
) -> int:
    """Multi-token-prediction layers stored in the checkpoint.

    DeepSeek-V3 layout (checkpoint ``model.layers.{L}``; vLLM ``deepseek_mtp.py``): per
    layer an MoE decoder layer, ``enorm`` and ``hnorm`` (d each), ``eh_proj`` 2d·d,
    ``shared_head.norm`` d and its own copies of the embedding and head (2·V·d).
    DeepSeek-V3: 671,026,419,200 + 13,463,426,304 = the Hub's BF16 + F8 elements plus
    the F32 router biases. Qwen3-Next layout (vLLM ``qwen3_next_mtp.py``): ``fc`` 2d·d,
    ``pre_fc_norm_embedding`` and ``pre_fc_norm_hidden`` (d each), the layers and a final
    norm d; embedding and head are shared with the model. ``layers`` overrides the
    config's count (checkpoints such as Qwen3-Next's ship a layer the config omits).

    ``own_embedding_and_head=False``: the DeepSeek layout less the 2·V·d copies, for
    checkpoints whose MTP layer shares the main model's (GLM-5/5.1, ``glm_moe_dsa``: layer
    ``model.layers.78`` stores ``eh_proj``, ``enorm``, ``hnorm``, ``shared_head.norm`` and
    the decoder layer, no ``embed_tokens`` or ``shared_head.head``; vLLM maps it to
    ``deepseek_mtp`` and its proposer points the draft at the target's embedding and head,
    ``vllm/v1/spec_decode/llm_base_proposer.py`` ``_maybe_share_lm_head``: "If the checkpoint
    omits a copy of the lm_head weights at the MTP layer path ... Always share it").
    No config key says which convention a checkpoint follows: the Hub-total check tries
    both. The proposer's resident weights need not know: the engines bind the target's
    embedding and head in either case (:func:`modifiers_draft.mtp_weight_bytes`).
    """
    count = arch.mtp_layers if layers is None else layers
    if not count or arch.mtp_layout not in ("deepseek", "qwen3_next"):
        return 0
    d = arch.hidden_size
    decoder = count * _full_attention_moe_layer(arch)
    if arch.mtp_layout == "deepseek":
        copies = 2 * arch.vocab_size * d if own_embedding_and_head else 0
        return decoder + count * (2 * d + 2 * d * d + d + copies)
    return decoder + 2 * d * d + 2 * d + d
