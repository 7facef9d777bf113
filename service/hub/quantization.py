"""Checking the Hub's safetensors totals against computed counts (pure, no I/O).

Quantisation detection lives in :mod:`service.domain.quantization`; it is re-exported here.
"""

from __future__ import annotations

from itertools import combinations

from service.domain.quantization import detect_quantization

__all__ = ["detect_quantization", "safetensors_total_agrees"]


def safetensors_total_agrees(
    hub_total: int,
    computed_total: int,
    num_layers: int,
    head_dim: int,
    *,
    vocab_size: int | None = None,
    hidden_size: int | None = None,
    mask_positions: int | None = None,
) -> tuple[bool, str]:
    """Whether the Hub's safetensors total matches a computed parameter count.

    Checkpoints store a few tensors that are not parameters; a difference made up of any
    combination of these known extras is accepted:

    * rotary ``inv_freq`` buffers, ``num_layers · head_dim / 2`` (older Llama exports);
    * a tied ``lm_head`` stored anyway, ``vocab_size · hidden_size``;
    * GPT-2 ``attn.bias`` causal masks, ``num_layers · mask_positions²``.

    Returns ``(agrees, explanation)``.
    """
    if hub_total == computed_total:
        return True, "exact match"
    extras = _known_extras(num_layers, head_dim, vocab_size, hidden_size, mask_positions)
    difference = hub_total - computed_total
    for size in range(1, len(extras) + 1):
        for chosen in combinations(extras, size):
            if sum(count for _, count in chosen) == difference:
                parts = " + ".join(f"{name} ({count:,})" for name, count in chosen)
                return True, f"hub stores {difference:,} extra elements: {parts}"
    known = ", ".join(f"{name} = {count:,}" for name, count in extras) or "none applicable"
    return False, (
        f"hub total {hub_total:,} differs from computed {computed_total:,} by {difference:+,}, "
        f"which no known convention explains (checked: {known})"
    )


def _known_extras(
    num_layers: int,
    head_dim: int,
    vocab_size: int | None,
    hidden_size: int | None,
    mask_positions: int | None,
) -> list[tuple[str, int]]:
    extras = [("rotary inv_freq buffers", num_layers * head_dim // 2)]
    if vocab_size is not None and hidden_size is not None:
        extras.append(("untied lm_head copy", vocab_size * hidden_size))
    if mask_positions is not None:
        extras.append(("attn.bias mask buffers", num_layers * mask_positions**2))
    return extras
