"""What an imported model stores: the core's reading of its config next to the Hub's figures.

Pure: no I/O. The raw ``config.json`` is normalised by the domain core; the Hub's
safetensors element count is kept beside the computed parameter count, the verdict of the
independent check (``exact``, ``explained``, ``mismatch``) is stored, and a disagreement that
no known checkpoint convention explains is written into the model's notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.db.model_columns import derived_model_columns
from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.checkpoint import (
    CheckpointTensor,
    UnknownTensorDtype,
    checkpoint_bytes_by_dtype,
)
from service.domain.count_check import CountCheck, CountVerdict, check_hub_total
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from service.hub.models import HubModelInfo, HubTensor
from service.hub.quantization import detect_quantization
from service.importer.errors import ImportFailed
from service.importer.refusals import refusal_message


def catalog_values(
    info: HubModelInfo,
    config: dict[str, Any],
    hub_counts: Mapping[str, int] | None,
    tensors: Sequence[HubTensor] | None = None,
) -> dict[str, Any]:
    """The ``models`` columns for ``config`` at ``info.sha``; ImportFailed if unusable.

    ``hub_counts`` are the safetensors elements per storage dtype (None: no safetensors).
    ``parameter_check`` stores the verdict of :func:`check_hub_total` (null: not compared).
    ``tensors`` (the safetensors headers) give ``checkpoint_bytes_by_dtype``, the exact bytes
    of the served tensors that weight memory then uses.
    """
    where = f"{info.repo_id}@{info.sha[:12]}"
    try:
        architecture = architecture_from_config(config)
    except UnsupportedArchitecture as exc:
        model_type = config.get("model_type")
        name = model_type if isinstance(model_type, str) else ""
        raise ImportFailed(refusal_message(where, name, exc.feature, str(exc))) from exc
    except InvalidConfig as exc:
        raise ImportFailed(f"{where}: config.json is incomplete: {exc}") from exc
    parameters = count_parameters(architecture)
    quantization = detect_quantization(config)
    counts = dict(hub_counts) if hub_counts is not None else None
    hub_total = sum(counts.values()) if counts is not None else None
    check = check_hub_total(architecture, parameters, counts or {}, quantized=bool(quantization))
    note = safetensors_note(check, parameters.total, hub_total)
    return derived_model_columns(config, architecture, parameters) | {
        "revision": info.sha,
        "hub_safetensors_total": hub_total,
        "hub_parameter_counts": counts,
        "checkpoint_bytes_by_dtype": served_bytes(tensors, architecture.num_layers),
        "parameter_check": check.verdict.value if check is not None else None,
        "gated": info.gated,
        "notes": f"Imported from the Hugging Face Hub at {info.sha}.\n{note}",
    }


def served_bytes(tensors: Sequence[HubTensor] | None, num_layers: int) -> dict[str, int] | None:
    """Exact bytes per dtype of the tensors the engine loads; None without safetensors or
    when a header names a dtype capplan has no width for (weights then come from config)."""
    if not tensors:
        return None
    try:
        return checkpoint_bytes_by_dtype(
            (CheckpointTensor(name=t.name, dtype=t.dtype, shape=t.shape) for t in tensors),
            num_layers,
        )
    except UnknownTensorDtype:
        return None


def safetensors_note(check: CountCheck | None, computed_total: int, hub_total: int | None) -> str:
    """One line comparing the Hub's safetensors total with the computed parameter count."""
    if hub_total is None:
        return "The Hub reports no safetensors for this revision: nothing to compare with."
    if check is None:
        return (
            f"Hub safetensors total {hub_total:,} not compared with the computed "
            f"{computed_total:,}: a quantised checkpoint stores packed elements and scales."
        )
    if check.verdict is CountVerdict.EXACT:
        return f"Hub safetensors total {hub_total:,} agrees with the computed count (exact match)."
    if check.verdict is CountVerdict.EXPLAINED:
        return (
            f"Hub safetensors total {hub_total:,} agrees with the computed count "
            f"({check.explanation})."
        )
    return f"WARNING: Hub safetensors total disagrees with the computed count: {check.explanation}."
