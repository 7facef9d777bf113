"""Linear-attention and state-space layers: their parameters and per-sequence state.

Each builder reads one family's config keys and returns a :class:`StateSpec` whose
parameter counts follow the transformers modelling code and whose state shapes follow
vLLM's ``MambaStateShapeCalculator`` (``vllm/model_executor/layers/mamba/mamba_utils.py``):

Gated DeltaNet (``modeling_qwen3_next.py``, ``Qwen3NextGatedDeltaNet``), with key width
``K = n_k·h_k`` and value width ``V = n_v·h_v``::

    in_proj_qkvz d·(2K + 2V) + in_proj_ba d·2n_v + out_proj V·d         (matrices)
    conv1d (2K + V)·k + dt_bias n_v + A_log n_v + gated norm h_v         (small)
    state: conv (k - 1)·(2K + V), recurrent n_v · h_k · h_v

Mamba2 (``modeling_nemotron_h.py``, ``NemotronHMamba2Mixer``), with inner width
``I = n_heads·h`` and convolved width ``C = I + 2·g·N``::

    in_proj d·(I + C + n_heads) + out_proj I·d   (+ biases when use_bias)   (matrices)
    conv1d C·k (+ C bias) + dt_bias, A_log, D n_heads each + gated norm I    (small)
    state: conv (k - 1)·C, recurrent n_heads · h · N

Kimi Delta Attention (vLLM ``model_executor/layers/kda.py`` KimiDeltaAttention), ``H``
heads of ``h`` (``P = H·h``), short convolutions of kernel ``k`` on q, k and v::

    q/k/v_proj 3·d·P, f_a d·h + f_b h·P, b_proj d·H, g_a d·h + g_b h·P, o_proj P·d (matrices)
    q/k/v_conv1d 3·P·k, dt_bias P, A_log H, gated o_norm h                         (small)
    state: conv (k - 1)·3P, recurrent H · h · h

Lightning attention (transformers ``modeling_minimax.py`` MiniMaxLightningAttention), ``P``
= H·h::

    qkv_proj d·3P, output_gate d·P, out_proj P·d (matrices); norm P (small)
    state: no convolution, recurrent H · h · h (vLLM ``linear_attention_state_shape``)

Mamba1 as in Jamba (``modeling_jamba.py`` JambaMambaMixer), ``I = mamba_expand·d``, ``R``
= dt rank (``ceil(d/16)`` when ``auto``), ``N`` = d_state::

    in_proj d·2I, x_proj I·(R + 2N), dt_proj R·I, out_proj I·d           (matrices)
    conv1d I·k (+ I bias), dt_proj bias I, A_log I·N, D I,
    dt/b/c RMSNorms R + 2N, projection biases 2I + d when mamba_proj_bias  (small)
    state: conv (k - 1)·I, recurrent I · N
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, MixerKind, StateSpec
from service.domain.config_fields import read_bool, read_int, read_optional_int, read_str

_DTYPE_NAMES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


def _ssm_dtype(config: Mapping[str, Any], key: str) -> str | None:
    raw = read_str(config, key, default="")
    if not raw:
        return None
    if raw not in _DTYPE_NAMES:
        raise InvalidConfig(key, f"expected one of {sorted(_DTYPE_NAMES)}, got {raw!r}")
    return _DTYPE_NAMES[raw]


def gated_deltanet(config: Mapping[str, Any], hidden_size: int) -> StateSpec:
    """Qwen3-Next / Qwen3.5 linear-attention layer (``linear_*`` keys)."""
    n_k = read_int(config, "linear_num_key_heads")
    n_v = read_int(config, "linear_num_value_heads")
    h_k = read_int(config, "linear_key_head_dim")
    h_v = read_int(config, "linear_value_head_dim")
    kernel = read_int(config, "linear_conv_kernel_dim", default=4)
    if n_v % n_k:
        raise InvalidConfig("linear_num_value_heads", f"{n_v} is not a multiple of {n_k} key heads")
    key_width, value_width = n_k * h_k, n_v * h_v
    conv_channels = 2 * key_width + value_width
    d = hidden_size
    matrices = d * (2 * key_width + 2 * value_width) + d * 2 * n_v + value_width * d
    small = conv_channels * kernel + 2 * n_v + h_v
    return StateSpec(
        kind=MixerKind.GATED_DELTANET,
        conv_kernel=kernel,
        conv_channels=conv_channels,
        state_heads=n_v,
        state_elements_per_head=h_k * h_v,
        matrix_parameters=matrices,
        small_parameters=small,
        ssm_state_dtype=_ssm_dtype(config, "mamba_ssm_dtype"),
    )


def kimi_delta_attention(linear: Mapping[str, Any], hidden_size: int) -> StateSpec:
    """Kimi-Linear's KDA layer from its ``linear_attn_config``."""
    heads = read_int(linear, "num_heads")
    head_dim = read_int(linear, "head_dim")
    kernel = read_int(linear, "short_conv_kernel_size", default=4)
    width = heads * head_dim
    d = hidden_size
    matrices = 3 * d * width + 2 * (d * head_dim + head_dim * width) + d * heads + width * d
    small = 3 * width * kernel + width + heads + head_dim
    return StateSpec(
        kind=MixerKind.KDA,
        conv_kernel=kernel,
        conv_channels=3 * width,
        state_heads=heads,
        state_elements_per_head=head_dim * head_dim,
        matrix_parameters=matrices,
        small_parameters=small,
        # vLLM MambaStateDtypeCalculator.kda_state_dtype: the recurrent state is float32.
        ssm_state_dtype="fp32",
    )


def lightning_attention(heads: int, head_dim: int, hidden_size: int) -> StateSpec:
    """MiniMax-Text-01 / MiniMax-M1 linear-attention layer."""
    width = heads * head_dim
    return StateSpec(
        kind=MixerKind.LIGHTNING,
        conv_kernel=1,
        conv_channels=0,
        state_heads=heads,
        state_elements_per_head=head_dim * head_dim,
        matrix_parameters=5 * hidden_size * width,
        small_parameters=width,
    )


def jamba_mamba(config: Mapping[str, Any], hidden_size: int) -> StateSpec:
    """Jamba's Mamba1 mixer with its dt/B/C RMSNorms."""
    d = hidden_size
    inner = read_int(config, "mamba_expand", default=2) * d
    state_size = read_int(config, "mamba_d_state", default=16)
    kernel = read_int(config, "mamba_d_conv", default=4)
    raw_rank = config.get("mamba_dt_rank", "auto")
    rank = -(-d // 16) if raw_rank == "auto" else read_int(config, "mamba_dt_rank")
    matrices = d * 2 * inner + inner * (rank + 2 * state_size) + rank * inner + inner * d
    small = inner * kernel + inner + inner * state_size + inner + rank + 2 * state_size
    if read_bool(config, "mamba_conv_bias", default=True):
        small += inner
    if read_bool(config, "mamba_proj_bias", default=False):
        small += 2 * inner + d
    return StateSpec(
        kind=MixerKind.MAMBA,
        conv_kernel=kernel,
        conv_channels=inner,
        state_heads=inner,
        state_elements_per_head=state_size,
        matrix_parameters=matrices,
        small_parameters=small,
        ssm_state_dtype=_ssm_dtype(config, "mamba_ssm_cache_dtype"),
    )


def falcon_h1_mamba2(config: Mapping[str, Any], hidden_size: int) -> StateSpec:
    """Falcon-H1's Mamba2 mixer (``modular_falcon_h1.py`` FalconH1Mixer): inner width
    ``mamba_d_ssm`` (else ``mamba_expand·d``), gated norm only with ``mamba_rms_norm``,
    out_proj biased by ``projectors_bias``; the shapes are otherwise Mamba2's."""
    d = hidden_size
    heads = read_int(config, "mamba_n_heads")
    head_dim = read_int(config, "mamba_d_head")
    groups = read_int(config, "mamba_n_groups", default=1)
    state_size = read_int(config, "mamba_d_state")
    kernel = read_int(config, "mamba_d_conv", default=4)
    inner = read_optional_int(config, "mamba_d_ssm") or read_int(config, "mamba_expand") * d
    conv_channels = inner + 2 * groups * state_size
    projection = inner + conv_channels + heads
    small = conv_channels * kernel + 3 * heads
    if read_bool(config, "mamba_conv_bias", default=True):
        small += conv_channels
    if read_bool(config, "mamba_proj_bias", default=False):
        small += projection
    if read_bool(config, "projectors_bias", default=False):
        small += d
    if read_bool(config, "mamba_rms_norm", default=False):
        small += inner
    return StateSpec(
        kind=MixerKind.MAMBA2,
        conv_kernel=kernel,
        conv_channels=inner,
        conv_groups=groups,
        conv_group_channels=2 * state_size,
        state_heads=heads,
        state_elements_per_head=head_dim * state_size,
        matrix_parameters=d * projection + inner * d,
        small_parameters=small,
        ssm_state_dtype=_ssm_dtype(config, "mamba_ssm_cache_dtype"),
    )


_NEMOTRON_KEYS = {
    "heads": "mamba_num_heads",
    "head_dim": "mamba_head_dim",
    "groups": "n_groups",
    "state": "ssm_state_size",
    "kernel": "conv_kernel",
    "proj_bias": "use_bias",
    "conv_bias": "use_conv_bias",
}
# GraniteMoeHybrid hands its mamba_* keys to Bamba's mixer (modeling_bamba.py BambaMixer).
_GRANITE_KEYS = {
    "heads": "mamba_n_heads",
    "head_dim": "mamba_d_head",
    "groups": "mamba_n_groups",
    "state": "mamba_d_state",
    "kernel": "mamba_d_conv",
    "proj_bias": "mamba_proj_bias",
    "conv_bias": "mamba_conv_bias",
}


def mamba2(config: Mapping[str, Any], hidden_size: int, *, keys: str = "nemotron") -> StateSpec:
    """A Mamba2 mixer; ``keys`` picks the family's key names (``nemotron``, ``granite``)."""
    k = _GRANITE_KEYS if keys == "granite" else _NEMOTRON_KEYS
    heads = read_int(config, k["heads"])
    head_dim = read_int(config, k["head_dim"])
    groups = read_int(config, k["groups"], default=1)
    state_size = read_int(config, k["state"])
    kernel = read_int(config, k["kernel"], default=4)
    if heads % groups:
        raise InvalidConfig(k["groups"], f"{groups} groups do not divide {heads} Mamba heads")
    inner = heads * head_dim
    expand = config.get("mamba_expand") if keys == "granite" else None
    if expand is not None and expand * hidden_size != inner:
        raise InvalidConfig(
            "mamba_expand", f"{expand}·{hidden_size} != {heads} heads · {head_dim} (Bamba mixer)"
        )
    conv_channels = inner + 2 * groups * state_size
    projection = inner + conv_channels + heads
    use_bias = read_bool(config, k["proj_bias"], default=False)
    conv_bias = read_bool(config, k["conv_bias"], default=True)
    d = hidden_size
    matrices = d * projection + inner * d
    small = conv_channels * kernel + 3 * heads + inner
    if use_bias:
        small += projection + d
    if conv_bias:
        small += conv_channels
    return StateSpec(
        kind=MixerKind.MAMBA2,
        conv_kernel=kernel,
        conv_channels=inner,
        conv_groups=groups,
        conv_group_channels=2 * state_size,
        state_heads=heads,
        state_elements_per_head=head_dim * state_size,
        matrix_parameters=matrices,
        small_parameters=small,
        ssm_state_dtype=_ssm_dtype(config, "mamba_ssm_cache_dtype"),
    )
