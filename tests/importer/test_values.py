"""catalog_values: the stored columns, and the note comparing the Hub's total with ours."""

from __future__ import annotations

from typing import Any

import pytest

from service.hub.models import HubModelInfo
from service.importer.errors import ImportFailed
from service.importer.values import catalog_values
from tests.importer.models import LLAMA_1B_TOTAL, MAMBA_CONFIG, SHA_1, llama_1b_config

LLAMA_LAYERS, LLAMA_HEAD_DIM = 16, 64


def info(gated: bool = False) -> HubModelInfo:
    return HubModelInfo(
        repo_id="org/llama",
        sha=SHA_1,
        gated=gated,
        created_at=None,
        safetensors_parameters=None,
        safetensors_total=None,
        pipeline_tag="text-generation",
        library_name="transformers",
    )


def values(config: dict[str, Any] | None = None, **counts: int) -> dict[str, Any]:
    return catalog_values(info(), config or llama_1b_config(), counts or None)


def test_counts_and_provenance_are_stored() -> None:
    """The row carries the exact counts, the pinned sha, the Hub counts and the raw config."""
    stored = values(BF16=LLAMA_1B_TOTAL)
    assert stored["total_params"] == stored["active_params"] == LLAMA_1B_TOTAL
    assert stored["revision"] == SHA_1
    assert stored["hub_parameter_counts"] == {"BF16": LLAMA_1B_TOTAL}
    assert stored["hub_safetensors_total"] == LLAMA_1B_TOTAL
    assert stored["config"] == llama_1b_config()
    assert stored["architecture"]["model_type"] == "llama"
    assert (stored["quantization"], stored["gated"]) == (None, False)


def test_gated_flag_is_kept() -> None:
    """A gated repository is marked gated."""
    assert catalog_values(info(gated=True), llama_1b_config(), None)["gated"] is True


def test_matching_total_is_noted_as_agreeing() -> None:
    """An exact match is recorded as agreement."""
    assert "agrees with the computed count (exact match)" in values(BF16=LLAMA_1B_TOTAL)["notes"]


def test_known_convention_explains_a_difference() -> None:
    """Stored rotary inv_freq buffers (layers · head_dim / 2) are an accepted difference."""
    extra = LLAMA_LAYERS * LLAMA_HEAD_DIM // 2
    notes = values(BF16=LLAMA_1B_TOTAL, F32=extra)["notes"]
    assert "agrees" in notes
    assert "rotary inv_freq" in notes


def test_unexplained_difference_is_flagged() -> None:
    """A difference no convention explains is flagged in the notes with both numbers."""
    notes = values(BF16=LLAMA_1B_TOTAL + 12_345)["notes"]
    assert notes.splitlines()[1].startswith("WARNING: Hub safetensors total disagrees")
    assert "1,235,826,745" in notes


def test_quantised_checkpoint_is_not_compared() -> None:
    """Packed quantised storage is not compared with the logical parameter count."""
    config = {**llama_1b_config(), "quantization_config": {"quant_method": "fp8"}}
    stored = values(config, F8_E4M3=LLAMA_1B_TOTAL - 1000, F32=500)
    assert stored["quantization"] == "fp8"
    assert "not compared" in stored["notes"]


def test_missing_safetensors_is_noted() -> None:
    """Without safetensors there is nothing to compare, and the notes say so."""
    stored = values()
    assert stored["hub_safetensors_total"] is None
    assert "no safetensors" in stored["notes"]


def test_unsupported_architecture_names_the_feature() -> None:
    """A Mamba config fails permanently, naming the unmodelled feature."""
    with pytest.raises(ImportFailed, match=r"state-space \(Mamba\) layers"):
        values(MAMBA_CONFIG)


def test_incomplete_config_says_which_field() -> None:
    """A config missing a required field fails naming the field."""
    config = llama_1b_config()
    del config["vocab_size"]
    with pytest.raises(ImportFailed, match="vocab_size"):
        values(config)
