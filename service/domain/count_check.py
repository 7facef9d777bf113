"""An independent check of a parameter count: the Hub's safetensors totals as the oracle.

The Hub sums the elements of every tensor in a checkpoint, per storage dtype. For an
unquantised checkpoint that sum is the exact parameter count plus, at most, a few known
extras; any difference no convention explains flags a model capplan counts wrongly:

* ``exact``: the sum equals capplan's total;
* ``explained``: the difference is a combination of known extras, each named: rotary
  ``inv_freq`` buffers (``L_attn · h / 2``, older Llama exports), a tied ``lm_head`` stored
  anyway (``V · d``), GPT-2 ``attn.bias`` masks (``L · n_ctx²``), and multi-token-prediction
  layers the checkpoint ships (:func:`parameters.mtp_parameters`, 1 to 3 layers, whether or
  not the config declares them), in either of the two DeepSeek-style conventions: each MTP
  layer with its own ``embed_tokens`` and ``shared_head.head`` copies (DeepSeek-V3, GLM-4.5)
  or sharing the main model's (GLM-5/5.1; no config key tells them apart, so both are
  tried, at most one MTP extra per explanation), and the K/V projections Gemma 4
  checkpoints keep for shared-KV layers (:func:`parameters.unused_shared_kv_parameters`);
* ``mismatch``: anything else.

Quantised checkpoints store packed elements and scales, so their sums are not compared
(``None``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from itertools import combinations

import msgspec

from service.domain.architecture import Architecture
from service.domain.parameters import (
    ParameterCount,
    mtp_parameters,
    unused_shared_kv_parameters,
)

MAX_UNDECLARED_MTP_LAYERS = 3


class CountVerdict(enum.StrEnum):
    EXACT = "exact"
    EXPLAINED = "explained"
    MISMATCH = "mismatch"


class CountCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict, the two totals and a one-line explanation naming any extras."""

    verdict: CountVerdict
    hub_total: int
    computed_total: int
    explanation: str


MTP_EXTRA = "MTP"


def _mtp_extras(arch: Architecture, layers: int, label: str) -> list[tuple[str, int, str]]:
    """``layers`` MTP layers in each convention; the shared one only where it differs."""
    own = mtp_parameters(arch, layers=layers)
    shared = mtp_parameters(arch, layers=layers, own_embedding_and_head=False)
    extras = [(label, own, MTP_EXTRA)]
    if shared != own:
        extras.append((f"{label}, sharing the main embedding and head", shared, MTP_EXTRA))
    return extras


def _known_extras(arch: Architecture, params: ParameterCount) -> list[tuple[str, int, str]]:
    """(name, elements, group): at most one extra of the MTP group explains a difference."""
    extras = [("rotary inv_freq buffers", len(arch.attention_layers) * arch.head_dim // 2, "")]
    if arch.tie_word_embeddings:
        extras.append(("tied lm_head stored", arch.vocab_size * arch.hidden_size, ""))
    if arch.model_type == "gpt2":
        extras.append(("GPT-2 attn.bias masks", arch.num_layers * arch.max_context_tokens**2, ""))
    extras.append(("unused K/V of shared-KV layers stored", unused_shared_kv_parameters(arch), ""))
    if params.mtp:
        label = f"{arch.mtp_layers} MTP layer(s) declared by the config"
        extras.extend(_mtp_extras(arch, arch.mtp_layers, label))
    else:
        for layers in range(1, MAX_UNDECLARED_MTP_LAYERS + 1):
            extras.extend(_mtp_extras(arch, layers, f"{layers} MTP layer(s) in the checkpoint"))
    return [extra for extra in extras if extra[1] > 0]


def _consistent(chosen: tuple[tuple[str, int, str], ...]) -> bool:
    """No two extras of the MTP group (one convention, one layer count per checkpoint)."""
    return sum(1 for _, _, group in chosen if group == MTP_EXTRA) <= 1


def check_hub_total(
    arch: Architecture,
    params: ParameterCount,
    hub_counts: Mapping[str, int],
    *,
    quantized: bool,
    oracle: str = "Hub safetensors total",
) -> CountCheck | None:
    """Compare the Hub's per-dtype element counts with ``params``; None when not comparable.

    ``oracle`` names where the total comes from in the explanation (another published count
    is judged by the same conventions).
    """
    if quantized or not hub_counts:
        return None
    hub_total = sum(hub_counts.values())
    computed = params.total
    if hub_total == computed:
        return CountCheck(
            verdict=CountVerdict.EXACT,
            hub_total=hub_total,
            computed_total=computed,
            explanation=f"{oracle} {hub_total:,} equals the computed count",
        )
    difference = hub_total - computed
    extras = _known_extras(arch, params)
    for size in range(1, len(extras) + 1):
        for chosen in combinations(extras, size):
            if _consistent(chosen) and sum(count for _, count, _ in chosen) == difference:
                parts = " + ".join(f"{name} ({count:,})" for name, count, _ in chosen)
                return CountCheck(
                    verdict=CountVerdict.EXPLAINED,
                    hub_total=hub_total,
                    computed_total=computed,
                    explanation=f"{oracle} holds {difference:,} elements beyond the model: {parts}",
                )
    checked = ", ".join(f"{name} = {count:,}" for name, count, _ in extras) or "none applicable"
    return CountCheck(
        verdict=CountVerdict.MISMATCH,
        hub_total=hub_total,
        computed_total=computed,
        explanation=(
            f"{oracle} {hub_total:,} differs from the computed {computed:,} by "
            f"{difference:+,}, which no known convention explains (checked: {checked})"
        ),
    )
