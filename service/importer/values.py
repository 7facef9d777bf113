"""What an imported model stores: the core's reading of its config next to the Hub's figures.

Pure: no I/O. The raw ``config.json`` is normalised by the domain core; the Hub's
safetensors element count is kept beside the computed parameter count, and a disagreement
that no known checkpoint convention explains is written into the model's notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.db.model_columns import derived_model_columns
from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from service.hub.models import HubModelInfo
from service.hub.quantization import detect_quantization, safetensors_total_agrees
from service.importer.errors import ImportFailed


def catalog_values(
    info: HubModelInfo,
    config: dict[str, Any],
    hub_counts: Mapping[str, int] | None,
) -> dict[str, Any]:
    """The ``models`` columns for ``config`` at ``info.sha``; ImportFailed if unusable.

    ``hub_counts`` are the safetensors elements per storage dtype (None: no safetensors).
    """
    where = f"{info.repo_id}@{info.sha[:12]}"
    try:
        architecture = architecture_from_config(config)
    except UnsupportedArchitecture as exc:
        raise ImportFailed(f"{where}: {exc}; capplan cannot plan this model") from exc
    except InvalidConfig as exc:
        raise ImportFailed(f"{where}: config.json is incomplete: {exc}") from exc
    parameters = count_parameters(architecture)
    quantization = detect_quantization(config)
    counts = dict(hub_counts) if hub_counts is not None else None
    hub_total = sum(counts.values()) if counts is not None else None
    note = safetensors_note(architecture, parameters.total, hub_total, quantized=bool(quantization))
    return derived_model_columns(config, architecture, parameters) | {
        "revision": info.sha,
        "hub_safetensors_total": hub_total,
        "hub_parameter_counts": counts,
        "gated": info.gated,
        "notes": f"Imported from the Hugging Face Hub at {info.sha}.\n{note}",
    }


def safetensors_note(
    architecture: Architecture, computed_total: int, hub_total: int | None, *, quantized: bool
) -> str:
    """One line comparing the Hub's safetensors total with the computed parameter count."""
    if hub_total is None:
        return "The Hub reports no safetensors for this revision: nothing to compare with."
    if quantized:
        return (
            f"Hub safetensors total {hub_total:,} not compared with the computed "
            f"{computed_total:,}: a quantised checkpoint stores packed elements and scales."
        )
    agrees, explanation = safetensors_total_agrees(
        hub_total,
        computed_total,
        architecture.num_layers,
        architecture.head_dim,
        vocab_size=architecture.vocab_size if architecture.tie_word_embeddings else None,
        hidden_size=architecture.hidden_size if architecture.tie_word_embeddings else None,
        mask_positions=architecture.max_context_tokens
        if architecture.model_type == "gpt2"
        else None,
    )
    if agrees:
        return (
            f"Hub safetensors total {hub_total:,} agrees with the computed count ({explanation})."
        )
    return f"WARNING: Hub safetensors total disagrees with the computed count: {explanation}."
