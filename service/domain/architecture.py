"""The normalised description of a decoder-only transformer.

Every Hugging Face ``config.json`` family is turned into one :class:`Architecture`
(see :mod:`service.domain.hf_config`); everything downstream (parameter counts, weight
memory, KV cache, FLOPs, latency) reads only this struct.
"""

from __future__ import annotations

import enum

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
    per-sequence state is constant in context length (linear attention, state space).
    ``ATTENTION_MAMBA2`` runs both side by side (Falcon-H1): a KV cache and a state."""

    ATTENTION = "attention"
    GATED_DELTANET = "gated_deltanet"
    LIGHTNING = "lightning"
    KDA = "kda"
    MAMBA = "mamba"
    MAMBA2 = "mamba2"
    ATTENTION_MAMBA2 = "attention+mamba2"
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

    kind: MixerKind
    conv_kernel: int
    conv_channels: int
    conv_groups: int = 0
    conv_group_channels: int = 0
    state_heads: int
    state_elements_per_head: int
    matrix_parameters: int
    small_parameters: int
    ssm_state_dtype: str | None = None

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

    kind: AttentionKind
    window_tokens: int | None = None
    head_dim: int | None = None
    """This layer's head width when it differs from the architecture's (Gemma 4 global
    layers: ``global_head_dim``); None: ``Architecture.head_dim``."""
    kv_heads: int | None = None
    """This layer's KV heads when they differ (Gemma 4: ``num_global_key_value_heads``)."""
    values_from_keys: bool = False
    """No ``v_proj``: the key projection is reused as the value (Gemma 4
    ``attention_k_eq_v``); engines still cache K and V."""
    shares_kv: bool = False
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

    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    moe_layers: tuple[int, ...]
    num_shared_experts: int = 0
    shared_expert_intermediate_size: int = 0
    shared_expert_gate: bool = False
    router_bias: bool = False
    expert_bias: bool = False
    latent_size: int = 0
    router_scales: bool = False
    """Gemma 4 router: a ``scale`` of width d and a ``per_expert_scale`` of E per layer."""


class MultiHeadLatentAttention(msgspec.Struct, frozen=True, kw_only=True):
    """DeepSeek-V2/V3 MLA shapes (arXiv:2405.04434); only the latent is cached."""

    q_lora_rank: int | None
    kv_lora_rank: int
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int


class SparseAttentionIndexer(msgspec.Struct, frozen=True, kw_only=True):
    """DeepSeek-V3.2's lightning indexer (DSA): it scores past tokens to pick the top-k
    each query attends to, and caches one ``head_dim`` key per token per layer beside the
    MLA latent (vLLM ``DeepseekV32IndexerCache``: fp8 key plus a 4-byte scale per 128)."""

    num_heads: int
    head_dim: int
    top_k_tokens: int
    parameters_per_layer: int
    layers: tuple[int, ...] = ()
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

    method: str
    weight_dtype: str
    group_size: int | None = None
    attention_quantized: bool = True
    scheme: QuantScheme | None = None


class Architecture(msgspec.Struct, frozen=True, kw_only=True):
    """One typed description of a decoder-only LLM, whatever family it came from."""

    model_type: str
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    mlp_kind: MlpKind
    norm_kind: NormKind
    norms_per_layer: int
    layer_attention: tuple[LayerAttention, ...]
    max_context_tokens: int
    checkpoint_dtype: str = "bf16"
    qkv_bias: bool = False
    attention_output_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    attention_sinks: bool = False
    fused_qkv: bool = False
    learned_position_embeddings: int = 0
    moe: MixtureOfExperts | None = None
    mla: MultiHeadLatentAttention | None = None
    quantization: Quantization | None = None
    # Exact bytes of the served checkpoint's tensors (safetensors headers), when known; the
    # planning layer sets it from the catalog row, weight memory then uses it.
    checkpoint_bytes: int | None = None
    layer_mixers: tuple[MixerKind, ...] = ()
    state: StateSpec | None = None
    mlp_free_layers: tuple[int, ...] = ()
    attention_query_gate: bool = False
    qk_norm_full_width: bool = False
    indexer: SparseAttentionIndexer | None = None
    lm_head_bias: bool = False
    mtp_layers: int = 0
    mtp_layout: str = ""
    encoder_parameters: int = 0
    # Gemma 4 per-layer embeddings (PLE): a table of per_layer_embedding_vocab rows of
    # num_layers x per_layer_embedding_width, its projection from d and per-layer gates.
    per_layer_embedding_width: int = 0
    per_layer_embedding_vocab: int = 0
    # One stored scalar per decoder layer (Gemma 4 ``layer_scalar``, a persistent buffer).
    layer_scalars: bool = False
    # Layers whose dense MLP is twice intermediate_size wide (Gemma 4 use_double_wide_mlp).
    wide_mlp_layers: tuple[int, ...] = ()
    # Embedding rows the largest multimodal item (one image) gives the language model; 0 when
    # unknown. vLLM's profile run caches that many encoder outputs (:mod:`..engines.vllm_v1`).
    encoder_max_tokens_per_item: int = 0
    notes: tuple[str, ...] = ()

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
