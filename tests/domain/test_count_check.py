"""The independent count check: Hub safetensors totals against capplan's exact count."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.count_check import CountVerdict, check_hub_total
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from tests.domain.reference import REFERENCE_DIR, arch, load_reference, params


def _entry(repo_id: str) -> dict[str, Any]:
    models = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    [entry] = [m for m in models if m["repo_id"] == repo_id]
    return entry


def test_equal_totals_are_exact() -> None:
    """Nemotron-Nano-9B-v2: the Hub's BF16 total equals the count."""
    entry = _entry("nvidia/NVIDIA-Nemotron-Nano-9B-v2")
    model = architecture_from_config(entry["config"])
    check = check_hub_total(
        model, count_parameters(model), {"BF16": entry["hub_safetensors_total"]}, quantized=False
    )
    assert check is not None
    assert check.verdict is CountVerdict.EXACT


def test_an_undeclared_mtp_layer_is_explained() -> None:
    """Qwen3-Next-80B ships one MTP layer its config does not declare: explained, and named."""
    entry = _entry("Qwen/Qwen3-Next-80B-A3B-Instruct")
    model = architecture_from_config(entry["config"])
    check = check_hub_total(
        model, count_parameters(model), {"BF16": entry["hub_safetensors_total"]}, quantized=False
    )
    assert check is not None
    assert check.verdict is CountVerdict.EXPLAINED
    assert "1 MTP layer" in check.explanation


def test_stored_rotary_buffers_are_explained() -> None:
    """Llama-3-8B plus 32 layers · 64 inv_freq floats: a known export convention."""
    counted = params("llama3-8b")
    hub = {"BF16": counted.total, "F32": 32 * 128 // 2}
    check = check_hub_total(arch("llama3-8b"), counted, hub, quantized=False)
    assert check is not None
    assert check.verdict is CountVerdict.EXPLAINED
    assert "inv_freq" in check.explanation


def test_an_unexplained_difference_is_a_mismatch_with_both_numbers() -> None:
    """A difference of 12,345 elements matches no convention: mismatch, numbers named."""
    counted = params("llama3-8b")
    check = check_hub_total(
        arch("llama3-8b"), counted, {"BF16": counted.total + 12_345}, quantized=False
    )
    assert check is not None
    assert check.verdict is CountVerdict.MISMATCH
    assert "+12,345" in check.explanation


@pytest.mark.parametrize(
    ("counts", "quantized"),
    [({}, False), ({"F8_E4M3": 1000, "F32": 10}, True)],
    ids=["no-safetensors", "quantised"],
)
def test_nothing_comparable_gives_no_verdict(counts: dict[str, int], quantized: bool) -> None:
    """No safetensors, or packed quantised storage: no verdict rather than a false one."""
    assert (
        check_hub_total(arch("llama3-8b"), params("llama3-8b"), counts, quantized=quantized) is None
    )
