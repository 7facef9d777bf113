"""The normalised description of a decoder-only transformer.

Every Hugging Face ``config.json`` family is turned into one :class:`Architecture`
(see :mod:`service.domain.hf_config`); everything downstream (parameter counts, weight
memory, KV cache, FLOPs, latency) reads only this struct.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from service.domain.quant_scheme import QuantScheme


class AttentionKind(enum.StrEnum):
    """How a layer attends, which decides what its KV cache holds."""

    FULL = "full"
    SLIDING = "sliding"
    CHUNKED = "chunked"


class MlpKind(enum.StrEnum):
    """Gated MLPs (SwiGLU/GeGLU: gate, up, down) or plain two-matrix MLPs (GPT-2)."""

    GATED = "gated"
    PLAIN = "plain"


class NormKind(enum.StrEnum):
    """RMSNorm has a weight of width d; LayerNorm has a weight and a bias (2·d)."""

    RMS = "rms"
    LAYER = "layer"


class MixerKind(enum.StrEnum):
    """The token mixer of a decoder layer: attention (with a KV cache) or a layer whose
    per-sequence state is constant in context length (linear attention, state space, LFM2's
    gated short convolution). ``ATTENTION_MAMBA2`` runs both side by side (Falcon-H1): a KV
    cache and a state."""

    ATTENTION = "attention"
    GATED_DELTANET = "gated_deltanet"
    LIGHTNING = "lightning"
    KDA = "kda"
    MAMBA = "mamba"
    MAMBA2 = "mamba2"
    ATTENTION_MAMBA2 = "attention+mamba2"
    SHORT_CONV = "short_conv"
    NONE = "none"


class StateSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One linear-attention or state-space layer: parameters and per-sequence state.

    The state is constant in context length: a convolution state of ``conv_kernel - 1``
    columns of the convolved channels, and a recurrent state of ``state_heads`` heads of
    ``state_elements_per_head`` each (vLLM ``MambaStateShapeCalculator``). Under tensor
    parallelism the channels and heads are split; grouped channels (Mamba2's B and C) are
    replicated when there are fewer groups than ranks. ``matrix_parameters`` are the
    projections (quantised like attention), ``small_parameters`` the convolution, A, D,
    dt bias and norms (kept 16-bit).
    """

    kind: Annotated[
        MixerKind,
        msgspec.Meta(description="Mixer kind of these layers (gated_deltanet, mamba2, ...)"),
    ]
    conv_kernel: Annotated[int, msgspec.Meta(description="Convolution width (tokens)")]
    conv_channels: Annotated[int, msgspec.Meta(description="Convolved channels (count)")]
    conv_groups: Annotated[
        int,
        msgspec.Meta(
            description="Channel groups replicated under tensor parallelism (count; 0: none)"
        ),
    ] = 0
    conv_group_channels: Annotated[int, msgspec.Meta(description="Channels per group (count)")] = 0
    state_heads: Annotated[int, msgspec.Meta(description="Recurrent state heads (count)")]
    state_elements_per_head: Annotated[
        int, msgspec.Meta(description="Recurrent state elements per head")
    ]
    matrix_parameters: Annotated[
        int,
        msgspec.Meta(
            description="Projection parameters per layer (count; quantised like attention)"
        ),
    ]
    small_parameters: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Convolution, A, D, dt bias and norm parameters per layer (count; kept 16-bit)"
            )
        ),
    ]
    ssm_state_dtype: (
        Annotated[
            str,
            msgspec.Meta(description="Dtype of the recurrent state; null: the activation dtype"),
        ]
        | None
    ) = None

    def conv_elements(self, tensor_parallel: int = 1) -> int:
        """``(k - 1) · (C / t + g_rank · c_g)`` with ``g_rank = max(1, g // t)``."""
        if self.conv_kernel <= 1:
            return 0
        groups = max(1, self.conv_groups // tensor_parallel) if self.conv_groups else 0
        per_rank = self.conv_channels // tensor_parallel + groups * self.conv_group_channels
        return (self.conv_kernel - 1) * per_rank

    def state_elements(self, tensor_parallel: int = 1) -> int:
        """``max(1, heads // t) · elements_per_head``."""
        return max(1, self.state_heads // tensor_parallel) * self.state_elements_per_head

    def bytes_per_sequence(
        self, conv_bytes_per_element: int, state_bytes_per_element: int, tensor_parallel: int = 1
    ) -> int:
        """Bytes one sequence's state occupies in one such layer on one GPU."""
        return (
            self.conv_elements(tensor_parallel) * conv_bytes_per_element
            + self.state_elements(tensor_parallel) * state_bytes_per_element
        )


class LayerAttention(msgspec.Struct, frozen=True, kw_only=True):
    """Attention of one decoder layer: full, a sliding window of ``window_tokens``, or
    chunked local attention (Llama 4: tokens attend within aligned chunks of
    ``window_tokens``, so at most that many are cached)."""

    kind: Annotated[
        AttentionKind,
        msgspec.Meta(
            description="full, sliding (a window of window_tokens) or chunked local attention"
        ),
    ]
    window_tokens: (
        Annotated[
            int, msgspec.Meta(description="Window or chunk size in tokens; null: full attention")
        ]
        | None
    ) = None
    head_dim: (
        Annotated[
            int,
            msgspec.Meta(
                description=(
                    "This layer's head width when it differs from Architecture.head_dim "
                    "(elements); null: the same"
                )
            ),
        ]
        | None
    ) = None
    """This layer's head width when it differs from the architecture's (Gemma 4 global
    layers: ``global_head_dim``); None: ``Architecture.head_dim``."""
    kv_heads: (
        Annotated[
            int,
            msgspec.Meta(
                description=(
                    "This layer's KV heads when they differ from Architecture.num_kv_heads "
                    "(count); null: the same"
                )
            ),
        ]
        | None
    ) = None
    """This layer's KV heads when they differ (Gemma 4: ``num_global_key_value_heads``)."""
    values_from_keys: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the key projection is reused as the value (no v_proj); K and V are still"
                " cached"
            )
        ),
    ] = False
    """No ``v_proj``: the key projection is reused as the value (Gemma 4
    ``attention_k_eq_v``); engines still cache K and V."""
    shares_kv: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the layer reads an earlier layer's keys and values (no cache of its own)"
            )
        ),
    ] = False
    """The layer reads an earlier layer's keys and values (Gemma 4 ``num_kv_shared_layers``):
    no k/v projections or k norm, and no cache of its own (vLLM
    ``kv_sharing_target_layer_name``)."""


class MixtureOfExperts(msgspec.Struct, frozen=True, kw_only=True):
    """Routed experts replacing the dense MLP in some layers.

    ``moe_layers`` lists the 0-based indices of layers with experts; the others keep a
    dense MLP of the architecture's ``intermediate_size``. ``latent_size`` > 0: routed
    experts work in a latent width reached through two projections of ``d·latent_size``
    each (Nemotron-3 ``moe_latent_size``).
    """

    num_experts: Annotated[int, msgspec.Meta(description="Routed experts per MoE layer (count)")]
    experts_per_token: Annotated[
        int, msgspec.Meta(description="Routed experts each token uses (count)")
    ]
    expert_intermediate_size: Annotated[
        int, msgspec.Meta(description="MLP width of one routed expert (elements)")
    ]
    moe_layers: Annotated[
        tuple[int, ...], msgspec.Meta(description="0-based indices of the layers with experts")
    ]
    num_shared_experts: Annotated[
        int, msgspec.Meta(description="Experts every token uses (count)")
    ] = 0
    shared_expert_intermediate_size: Annotated[
        int, msgspec.Meta(description="MLP width of the shared experts (elements)")
    ] = 0
    shared_expert_gate: Annotated[
        bool, msgspec.Meta(description="Whether the shared expert output is gated")
    ] = False
    router_bias: Annotated[bool, msgspec.Meta(description="Whether the router has a bias")] = False
    expert_bias: Annotated[
        bool, msgspec.Meta(description="Whether the experts' projections have biases")
    ] = False
    latent_size: Annotated[
        int,
        msgspec.Meta(
            description="Latent width routed experts work in (elements; 0: the model width)"
        ),
    ] = 0
    router_scales: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the router has a per-width scale and a per-expert scale (Gemma 4)"
        ),
    ] = False
    """Gemma 4 router: a ``scale`` of width d and a ``per_expert_scale`` of E per layer."""


class MultiHeadLatentAttention(msgspec.Struct, frozen=True, kw_only=True):
    """DeepSeek-V2/V3 MLA shapes (arXiv:2405.04434); only the latent is cached."""

    q_lora_rank: (
        Annotated[
            int,
            msgspec.Meta(description="Query low-rank width (elements); null: full-rank queries"),
        ]
        | None
    )
    kv_lora_rank: Annotated[int, msgspec.Meta(description="Cached KV latent width (elements)")]
    qk_rope_head_dim: Annotated[
        int, msgspec.Meta(description="Rotary part of each query/key head (elements)")
    ]
    qk_nope_head_dim: Annotated[
        int, msgspec.Meta(description="Non-rotary part of each query/key head (elements)")
    ]
    v_head_dim: Annotated[int, msgspec.Meta(description="Elements per value head")]


class SparseAttentionIndexer(msgspec.Struct, frozen=True, kw_only=True):
    """DeepSeek-V3.2's lightning indexer (DSA): it scores past tokens to pick the top-k
    each query attends to, and caches one ``head_dim`` key per token per layer beside the
    MLA latent (vLLM ``DeepseekV32IndexerCache``: fp8 key plus a 4-byte scale per 128)."""

    num_heads: Annotated[int, msgspec.Meta(description="Indexer heads (count)")]
    head_dim: Annotated[
        int,
        msgspec.Meta(description="Elements per indexer head (one cached key per token per layer)"),
    ]
    top_k_tokens: Annotated[
        int, msgspec.Meta(description="Past tokens each query attends to (count)")
    ]
    parameters_per_layer: Annotated[
        int, msgspec.Meta(description="Indexer parameters per layer (count)")
    ]
    layers: Annotated[
        tuple[int, ...],
        msgspec.Meta(
            description=(
                "0-based indices of layers with their own indexer; empty: every attention layer"
            )
        ),
    ] = ()
    """Layers with their own indexer; empty: every attention layer. GLM-5's
    ``indexer_types`` marks the others ``shared`` (no indexer weights, the top-k of an earlier
    layer reused)."""

    @property
    def cache_bytes_per_token(self) -> int:
        """Indexer key bytes one token adds to one layer: an fp8 key of ``head_dim`` plus a
        4-byte scale per 128 (vLLM ``deepseek_v2.py``: ``head_dim + head_dim // 128 * 4``
        uint8, quant block 128); 132 B for DeepSeek-V3.2's 128-dim keys."""
        return self.head_dim + self.head_dim // 128 * 4


class Quantization(msgspec.Struct, frozen=True, kw_only=True):
    """What a quantised checkpoint stores (from ``quantization_config``)."""

    method: Annotated[
        str,
        msgspec.Meta(
            description=(
                "quantization_config quant_method (fp8, mxfp4, awq, gptq, compressed-tensors, ...)"
            )
        ),
    ]
    weight_dtype: Annotated[
        str, msgspec.Meta(description="Precision the quantised weights are stored in")
    ]
    group_size: (
        Annotated[
            int,
            msgspec.Meta(
                description=(
                    "Weights per quantisation scale (count); null: per channel or per tensor"
                )
            ),
        ]
        | None
    ) = None
    attention_quantized: Annotated[
        bool, msgspec.Meta(description="Whether attention projections are quantised too")
    ] = True
    scheme: (
        Annotated[
            QuantScheme,
            msgspec.Meta(
                description="Per-module formats; null: one format for every quantised module"
            ),
        ]
        | None
    ) = None


class Architecture(msgspec.Struct, frozen=True, kw_only=True):
    """One typed description of a decoder-only LLM, whatever family it came from."""

    model_type: Annotated[
        str, msgspec.Meta(description="config.json model_type (llama, qwen3_moe, deepseek_v3, ...)")
    ]
    num_layers: Annotated[int, msgspec.Meta(description="Decoder layers (count)")]
    hidden_size: Annotated[int, msgspec.Meta(description="Model width d (elements)")]
    num_attention_heads: Annotated[int, msgspec.Meta(description="Query heads per layer (count)")]
    num_kv_heads: Annotated[
        int,
        msgspec.Meta(
            description="Key/value heads per layer (count; fewer than query heads under GQA)"
        ),
    ]
    head_dim: Annotated[int, msgspec.Meta(description="Elements per attention head")]
    intermediate_size: Annotated[int, msgspec.Meta(description="Dense MLP width (elements)")]
    vocab_size: Annotated[int, msgspec.Meta(description="Tokens in the vocabulary (count)")]
    tie_word_embeddings: Annotated[
        bool, msgspec.Meta(description="Whether the output head shares the token embedding")
    ]
    mlp_kind: Annotated[
        MlpKind,
        msgspec.Meta(description="MLP shape: gated (SwiGLU/GeGLU, three matrices) or plain (two)"),
    ]
    norm_kind: Annotated[
        NormKind, msgspec.Meta(description="Normalisation: rms (RMSNorm) or layer (LayerNorm)")
    ]
    norms_per_layer: Annotated[
        int, msgspec.Meta(description="Normalisations per decoder layer (count)")
    ]
    layer_attention: Annotated[
        tuple[LayerAttention, ...],
        msgspec.Meta(description="Attention of each decoder layer, in order"),
    ]
    max_context_tokens: Annotated[
        int,
        msgspec.Meta(
            description="Longest context the model takes (max_position_embeddings), tokens"
        ),
    ]
    checkpoint_dtype: Annotated[
        str, msgspec.Meta(description="Dtype of the checkpoint's unquantised tensors (torch_dtype)")
    ] = "bf16"
    qkv_bias: Annotated[
        bool, msgspec.Meta(description="Whether the q, k, v projections have biases")
    ] = False
    attention_output_bias: Annotated[
        bool, msgspec.Meta(description="Whether the attention output projection has a bias")
    ] = False
    mlp_bias: Annotated[
        bool, msgspec.Meta(description="Whether the MLP projections have biases")
    ] = False
    qk_norm: Annotated[
        bool, msgspec.Meta(description="Whether queries and keys are normalised per head")
    ] = False
    attention_sinks: Annotated[
        bool, msgspec.Meta(description="Whether each head has a learned attention sink")
    ] = False
    fused_qkv: Annotated[
        bool, msgspec.Meta(description="Whether q, k, v are one stored projection")
    ] = False
    learned_position_embeddings: Annotated[
        int, msgspec.Meta(description="Rows of a learned position table (0: rotary or none)")
    ] = 0
    moe: (
        Annotated[
            MixtureOfExperts, msgspec.Meta(description="Routed experts; null: dense MLPs only")
        ]
        | None
    ) = None
    mla: (
        Annotated[
            MultiHeadLatentAttention,
            msgspec.Meta(
                description="Multi-head latent attention shapes; null: ordinary attention"
            ),
        ]
        | None
    ) = None
    quantization: (
        Annotated[
            Quantization,
            msgspec.Meta(description="What a quantised checkpoint stores; null: unquantised"),
        ]
        | None
    ) = None
    # Exact bytes of the served checkpoint's tensors (safetensors headers), when known; the
    # planning layer sets it from the catalog row, weight memory then uses it.
    checkpoint_bytes: (
        Annotated[
            int,
            msgspec.Meta(
                description=(
                    "Exact bytes of the served checkpoint's tensors (safetensors headers); null: "
                    "unknown"
                )
            ),
        ]
        | None
    ) = None
    layer_mixers: Annotated[
        tuple[MixerKind, ...],
        msgspec.Meta(
            description=(
                "Token mixer of each layer (attention, gated_deltanet, mamba2, ...); empty: "
                "attention everywhere"
            )
        ),
    ] = ()
    state: (
        Annotated[
            StateSpec,
            msgspec.Meta(description="Linear-attention or state-space layer shapes; null: none"),
        ]
        | None
    ) = None
    mlp_free_layers: Annotated[
        tuple[int, ...], msgspec.Meta(description="0-based indices of layers without an MLP")
    ] = ()
    attention_query_gate: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether attention output is gated by a gate projected with the queries "
                "(attn_output_gate)"
            )
        ),
    ] = False
    qk_norm_full_width: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the q/k norms span the full q/k width (all heads), not one head"
        ),
    ] = False
    indexer: (
        Annotated[
            SparseAttentionIndexer,
            msgspec.Meta(description="Sparse-attention indexer (DeepSeek-V3.2); null: none"),
        ]
        | None
    ) = None
    lm_head_bias: Annotated[
        bool, msgspec.Meta(description="Whether the output head has a bias")
    ] = False
    mtp_layers: Annotated[
        int, msgspec.Meta(description="Multi-token-prediction layers (count)")
    ] = 0
    mtp_layout: Annotated[
        str,
        msgspec.Meta(
            description="Whose multi-token-prediction layer layout (deepseek, or the family name)"
        ),
    ] = ""
    encoder_parameters: Annotated[
        int,
        msgspec.Meta(
            description="Parameters of a multimodal checkpoint's vision tower and projector (count)"
        ),
    ] = 0
    # Gemma 4 per-layer embeddings (PLE): a table of per_layer_embedding_vocab rows of
    # num_layers x per_layer_embedding_width, its projection from d and per-layer gates.
    per_layer_embedding_width: Annotated[
        int, msgspec.Meta(description="Width of Gemma 4 per-layer embeddings (elements; 0: none)")
    ] = 0
    per_layer_embedding_vocab: Annotated[
        int, msgspec.Meta(description="Rows of the per-layer embedding table (count)")
    ] = 0
    # One stored scalar per decoder layer (Gemma 4 ``layer_scalar``, a persistent buffer).
    layer_scalars: Annotated[
        bool,
        msgspec.Meta(
            description="Whether each decoder layer stores one scalar (Gemma 4 layer_scalar)"
        ),
    ] = False
    # Learned scalars of a parametric activation in every layer (Apertus xIELU: alpha_p and
    # alpha_n; its beta and eps are buffers).
    activation_parameters_per_layer: Annotated[
        int,
        msgspec.Meta(
            description="Learned activation parameters per decoder layer (count; Apertus xIELU: 2)"
        ),
    ] = 0
    # Weights outside attention, MLP, MoE and norms (Gemma 3n LAuReL, AltUp router and
    # projections), all layers together; matrices are quantised like the MLP, the small
    # coefficients (Gemma 3n AltUp prediction/correction coefficients) kept 16-bit.
    extra_matrix_parameters: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Matrix weights outside attention, MLP and experts, whole model (count; "
                "Gemma 3n LAuReL and AltUp)"
            )
        ),
    ] = 0
    extra_small_parameters: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Small learned coefficients outside norms, whole model (count; Gemma 3n AltUp "
                "coefficients)"
            )
        ),
    ] = 0
    # Layers whose dense MLP is twice intermediate_size wide (Gemma 4 use_double_wide_mlp).
    wide_mlp_layers: Annotated[
        tuple[int, ...],
        msgspec.Meta(
            description="0-based indices of layers whose MLP is twice intermediate_size wide"
        ),
    ] = ()
    # Embedding rows the largest multimodal item (one image) gives the language model; 0 when
    # unknown. vLLM's profile run caches that many encoder outputs (:mod:`..engines.vllm_v1`).
    encoder_max_tokens_per_item: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Embedding rows the largest multimodal item gives the model (tokens; 0: unknown)"
            )
        ),
    ] = 0
    # The vision transformer's side of that item: patch tokens it encodes (before merging) and
    # its widths, for the encoder forward of vLLM's profile run (:mod:`..engines.encoder_cache`).
    encoder_patches_per_item: Annotated[
        int,
        msgspec.Meta(
            description="Patch tokens the vision tower encodes for the largest item (tokens; 0: "
            "unknown)"
        ),
    ] = 0
    encoder_hidden_size: Annotated[
        int, msgspec.Meta(description="Width of the vision tower (elements; 0: unknown)")
    ] = 0
    encoder_intermediate_size: Annotated[
        int, msgspec.Meta(description="MLP width of the vision tower (elements; 0: unknown)")
    ] = 0
    notes: Annotated[
        tuple[str, ...], msgspec.Meta(description="What normalisation assumed or left out")
    ] = ()

    @property
    def mixers(self) -> tuple[MixerKind, ...]:
        """One mixer per layer; ``layer_mixers`` empty means every layer attends."""
        return self.layer_mixers or (MixerKind.ATTENTION,) * self.num_layers

    @property
    def attention_layers(self) -> tuple[int, ...]:
        """Indices of the layers with attention (and a KV cache)."""
        attending = (MixerKind.ATTENTION, MixerKind.ATTENTION_MAMBA2)
        return tuple(i for i, kind in enumerate(self.mixers) if kind in attending)

    @property
    def state_layers(self) -> tuple[int, ...]:
        """Indices of the layers holding a per-sequence ``state`` instead of a KV cache."""
        return tuple(
            i
            for i, kind in enumerate(self.mixers)
            if kind not in (MixerKind.ATTENTION, MixerKind.NONE)
        )

    @property
    def query_width(self) -> int:
        """Width of the concatenated query heads, H·h (not always equal to d)."""
        return self.num_attention_heads * self.head_dim


class UnsupportedArchitecture(ValueError):
    """The config uses a feature capplan does not model; ``feature`` names it."""

    def __init__(self, feature: str, detail: str) -> None:
        super().__init__(f"unsupported architecture feature '{feature}': {detail}")
        self.feature = feature
        self.detail = detail


class InvalidConfig(ValueError):
    """The config is malformed: a required field is missing or has the wrong type."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"invalid config field '{field}': {detail}")
        self.field = field
        self.detail = detail
