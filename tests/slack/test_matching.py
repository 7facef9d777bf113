"""Loose name matching against the catalog."""

from __future__ import annotations

import pytest

from service.planning.names import Match, match_gpu, match_model

MODELS = [
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B",
    "meta-llama/Llama-3.3-70B-Instruct",
    "Qwen/Qwen3-8B",
    "Qwen/Qwen3-0.6B",
    "google/gemma-2-9b",
]
GPUS = [
    ("h100-sxm", "NVIDIA H100 SXM5 80GB"),
    ("h100-pcie", "NVIDIA H100 PCIe 80GB"),
    ("h200-sxm", "NVIDIA H200 SXM 141GB"),
    ("l4", "NVIDIA L4 24GB"),
    ("l40s", "NVIDIA L40S 48GB"),
    ("rtx-4090", "NVIDIA GeForce RTX 4090 24GB"),
    ("mi300x", "AMD Instinct MI300X 192GB"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B", id="exact-id"),
        pytest.param("llama-3.1-70b", "meta-llama/Llama-3.1-70B", id="no-org-lower-case"),
        pytest.param("Llama 3.1 70B", "meta-llama/Llama-3.1-70B", id="spaces"),
        pytest.param("llama3.1-8b", "meta-llama/Llama-3.1-8B", id="dots-and-dashes"),
        pytest.param("meta-llama/llama-3.3-70b", "meta-llama/Llama-3.3-70B-Instruct", id="prefix"),
        pytest.param("qwen3 0.6b", "Qwen/Qwen3-0.6B", id="words"),
        pytest.param("gemma 9b", "google/gemma-2-9b", id="words-contained"),
    ],
)
def test_model_names_match_loosely(query: str, expected: str) -> None:
    """Case, dots, dashes, spaces and the org prefix do not matter."""
    assert match_model(query, MODELS) == Match(value=expected)


def test_ambiguous_model_lists_candidates() -> None:
    """A name several models share returns them all, shortest first."""
    match = match_model("llama 70b", MODELS)
    assert match.ambiguous
    assert match.candidates == ("meta-llama/Llama-3.1-70B", "meta-llama/Llama-3.3-70B-Instruct")


def test_unknown_model_suggests_close_names() -> None:
    """A typo finds no match but close names to suggest."""
    match = match_model("qwen3-8bb", MODELS)
    assert (match.value, match.ambiguous) == (None, False)
    assert "Qwen/Qwen3-8B" in match.candidates


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("h100-sxm", "h100-sxm", id="exact-id"),
        pytest.param("H100 SXM", "h100-sxm", id="spaced"),
        pytest.param("l4", "l4", id="exact-beats-prefix"),
        pytest.param("h200", "h200-sxm", id="unique-prefix"),
        pytest.param("4090", "rtx-4090", id="contained"),
        pytest.param("mi300", "mi300x", id="prefix-of-id"),
        pytest.param("Instinct MI300X", "mi300x", id="display-name"),
    ],
)
def test_gpu_names_match_ids_and_names(query: str, expected: str) -> None:
    """GPUs match by id or display name, loosely."""
    assert match_gpu(query, GPUS) == Match(value=expected)


def test_ambiguous_gpu_lists_variants() -> None:
    """``h100`` names two catalog GPUs."""
    assert match_gpu("h100", GPUS).candidates == ("h100-sxm", "h100-pcie")
