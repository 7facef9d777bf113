"""2025-26 architectures: exact counts against the Hub's safetensors totals.

Oracles: ``catalog/reference/models_2025.json`` (public configs with the Hub's totals, each
entry naming its sources). A checkpoint's extras (MTP layers the config may not declare, or
element counts the source states) are added before comparing; nothing else is tolerated.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import (
    count_parameters,
    mtp_parameters,
    unused_shared_kv_parameters,
)
from tests.domain.reference import REFERENCE_DIR, load_reference


@functools.cache
def _entries() -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    return models


def _ids() -> list[str]:
    return [entry["repo_id"] for entry in _entries()]


@pytest.mark.parametrize("entry", _entries(), ids=_ids())
def test_count_plus_checkpoint_extras_is_the_hub_total(entry: dict[str, Any]) -> None:
    """Model parameters + shipped MTP layers (or stated extra elements, or the K/V Gemma 4
    keeps for shared-KV layers) = Hub total, exactly."""
    architecture = architecture_from_config(entry["config"])
    counted = count_parameters(architecture)
    extras = entry["checkpoint_extras"]
    extra = extras.get("mtp_elements", 0)
    if "mtp_layers" in extras:
        own_copies = not extras.get("mtp_shares_embedding_and_head", False)
        extra += mtp_parameters(
            architecture, layers=extras["mtp_layers"], own_embedding_and_head=own_copies
        )
    if extras.get("unused_shared_kv"):
        extra += unused_shared_kv_parameters(architecture)
    assert counted.total + extra == entry["hub_safetensors_total"]


@pytest.mark.parametrize("entry", _entries(), ids=_ids())
def test_every_2025_entry_names_its_sources(entry: dict[str, Any]) -> None:
    """Each datapoint carries where its config and its count were read."""
    assert entry["config_source"].startswith("https://")
    assert entry["count_source"].startswith("https://")


@pytest.mark.parametrize("entry", _entries(), ids=_ids())
def test_breakdown_adds_up_for_hybrid_and_moe_layouts(entry: dict[str, Any]) -> None:
    """The per-role breakdown sums to the total on hybrid and MoE layouts too."""
    counted = count_parameters(architecture_from_config(entry["config"]))
    assert counted.breakdown.total == counted.total
    assert counted.active <= counted.total
