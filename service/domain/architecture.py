"""The normalised description of a decoder-only transformer.

Every Hugging Face ``config.json`` family is turned into one :class:`Architecture`
(see :mod:`service.domain.hf_config`); everything downstream (parameter counts, weight
memory, KV cache, FLOPs, latency) reads only this struct.
"""

from __future__ import annotations

import enum

import msgspec


class AttentionKind(enum.StrEnum):
    """How a layer attends, which decides what its KV cache holds."""

    FULL = "full"
    SLIDING = "sliding"


class MlpKind(enum.StrEnum):
    """Gated MLPs (SwiGLU/GeGLU: gate, up, down) or plain two-matrix MLPs (GPT-2)."""

    GATED = "gated"
    PLAIN = "plain"


class NormKind(enum.StrEnum):
    """RMSNorm has a weight of width d; LayerNorm has a weight and a bias (2·d)."""

    RMS = "rms"
    LAYER = "layer"


class LayerAttention(msgspec.Struct, frozen=True, kw_only=True):
    """Attention of one decoder layer: full, or a sliding window of ``window_tokens``."""

    kind: AttentionKind
    window_tokens: int | None = None


class MixtureOfExperts(msgspec.Struct, frozen=True, kw_only=True):
    """Routed experts replacing the dense MLP in some layers.

    ``moe_layers`` lists the 0-based indices of layers with experts; the others keep a
    dense MLP of the architecture's ``intermediate_size``.
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


class MultiHeadLatentAttention(msgspec.Struct, frozen=True, kw_only=True):
    """DeepSeek-V2/V3 MLA shapes (arXiv:2405.04434); only the latent is cached."""

    q_lora_rank: int | None
    kv_lora_rank: int
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int


class Quantization(msgspec.Struct, frozen=True, kw_only=True):
    """What a quantised checkpoint stores (from ``quantization_config``)."""

    method: str
    weight_dtype: str
    group_size: int | None = None
    attention_quantized: bool = True


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
    notes: tuple[str, ...] = ()

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    @property
    def uses_sliding_window(self) -> bool:
        return any(layer.kind is AttentionKind.SLIDING for layer in self.layer_attention)

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
