"""The layer conventions a family adds to the Llama layout, and those of the families added
in 2025-26 (:data:`RECENT_FAMILIES`).

Several of these (EXAONE 4's q/k norms, Arcee's ungated MLP, GLM-4's extra norms, VaultGemma's
tied head) carry no config key that reveals the difference, so the generic rule would read
them as a plain Llama; their explicit entry here is what keeps the count right. Others
(Apertus, LFM2, ERNIE 4.5) have keys of their own that the generic rule refuses. Each entry
names the transformers modelling file it was read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import MlpKind, NormKind
from service.domain.config_fields import read_bool


class FamilyTraits(msgspec.Struct, frozen=True, kw_only=True):
    """What a family's decoder layer holds beyond the Llama layout."""

    qkv_bias: bool = False
    output_bias: bool = False
    mlp_bias: bool = False
    mlp_kind: MlpKind = MlpKind.GATED
    norm_kind: NormKind = NormKind.RMS
    norms_per_layer: int = 2
    qk_norm: bool = False
    qk_norm_full_width: bool = False
    tied_by_default: bool = False
    attention_sinks: bool = False
    fused_qkv: bool = False
    query_gate: bool = False
    activation_parameters: int = 0


RECENT_FAMILIES = frozenset(
    {
        "exaone4", "olmoe", "arcee", "glm", "glm4", "ernie4_5", "vaultgemma", "nemotron",
        "lfm2", "apertus",
    }
)  # fmt: skip


def recent_family_traits(config: Mapping[str, Any], family: str) -> FamilyTraits | None:
    """Traits of a family in :data:`RECENT_FAMILIES`, or None for any other family."""
    bias = read_bool(config, "attention_bias", default=False)
    mlp_bias = read_bool(config, "mlp_bias", default=False)
    if family in ("glm", "glm4"):
        # modeling_glm.py GlmAttention: q/k/v biased by attention_bias, o_proj never; fused
        # gate_up MLP (3·d·f). modular_glm4.py Glm4DecoderLayer adds post_self_attn and
        # post_mlp norms to the input and post-attention ones (four per layer).
        return FamilyTraits(qkv_bias=bias, norms_per_layer=4 if family == "glm4" else 2)
    if family == "nemotron":
        # modeling_nemotron.py: LayerNorm1P norms (weight and bias), q/k/v/o biased by
        # attention_bias, NemotronMLP up/down (squared ReLU, no gate) biased by mlp_bias.
        return FamilyTraits(
            qkv_bias=bias,
            output_bias=bias,
            mlp_bias=mlp_bias,
            mlp_kind=MlpKind.PLAIN,
            norm_kind=NormKind.LAYER,
        )
    if family == "arcee":
        # modular_arcee.py: Llama attention, ArceeMLP = NemotronMLP (up_proj and down_proj
        # with ReLU², no gate), biased by mlp_bias.
        return FamilyTraits(
            qkv_bias=bias, output_bias=bias, mlp_bias=mlp_bias, mlp_kind=MlpKind.PLAIN
        )
    if family == "olmoe":
        # modeling_olmoe.py OlmoeAttention: q/k/v/o biased by attention_bias (default none),
        # q_norm over H·h and k_norm over H_kv·h; input and post-attention norms.
        return FamilyTraits(qkv_bias=bias, output_bias=bias, qk_norm=True, qk_norm_full_width=True)
    if family == "exaone4":
        # modeling_exaone4.py Exaone4Attention: q/k/v/o without bias, q_norm and k_norm of
        # head_dim; two norms per layer (post_attention and post_feedforward, no pre-norms).
        return FamilyTraits(qkv_bias=bias, output_bias=bias, qk_norm=True)
    if family == "ernie4_5":
        # modular_ernie4_5.py: q/k/v/o and gate/up/down biased by use_bias; lm_head without
        # bias; Ernie4_5Config ties the embeddings by default.
        use_bias = read_bool(config, "use_bias", default=False)
        return FamilyTraits(
            qkv_bias=use_bias, output_bias=use_bias, mlp_bias=use_bias, tied_by_default=True
        )
    if family == "vaultgemma":
        # modular_vaultgemma.py: Gemma 2 layers without the post-attention and post-feedforward
        # norms (two per layer); VaultGemmaConfig inherits Gemma 2's tied embeddings.
        return FamilyTraits(qkv_bias=bias, output_bias=bias, tied_by_default=True)
    if family == "apertus":
        # modeling_apertus.py: q/k/v/o biased by attention_bias with q_norm/k_norm of head_dim;
        # ApertusMLP up_proj/down_proj (biased by mlp_bias) around XIELUActivation, whose
        # alpha_p and alpha_n are parameters (beta and eps are buffers).
        return FamilyTraits(
            qkv_bias=bias,
            output_bias=bias,
            mlp_bias=mlp_bias,
            mlp_kind=MlpKind.PLAIN,
            qk_norm=True,
            activation_parameters=2,
        )
    if family == "lfm2":
        # modeling_lfm2.py Lfm2Attention: q/k/v/out_proj without bias, q_layernorm and
        # k_layernorm of head_dim; Lfm2Config ties the embeddings by default.
        return FamilyTraits(qk_norm=True, tied_by_default=True)
    return None
