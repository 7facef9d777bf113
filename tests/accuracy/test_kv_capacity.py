"""KV cache capacity from the engine model within 2 % of every vLLM start-up log."""

from __future__ import annotations

from typing import Any

import pytest

from service.catalog_files import load_engine_profiles
from service.validation.memory_check import (
    check_kv_capacity,
    first_number,
    gpu_total_bytes,
    resolve_engine,
)
from service.validation.models import UnknownName, resolve_model

TOLERANCE_PCT = 2.0


def test_kv_capacity_within_two_percent_of_the_log(memory_point: dict[str, Any]) -> None:
    """Model, GPU total (from the log), TP, utilisation, max_model_len and the engine
    profile of the log's vLLM version in; KV tokens out, against the logged figure."""
    check = check_kv_capacity(memory_point, load_engine_profiles())
    assert abs(check.error_pct) <= TOLERANCE_PCT, check


def test_log_fields_are_read_as_printed() -> None:
    """'default (8192)' is 8192 tokens; the GPU total is the GiB figure vLLM printed, or the
    catalog GPU's runtime-visible total when the log gives none."""
    assert first_number("default (8192)") == 8192
    assert gpu_total_bytes("H100 80GB (total_gpu_memory 79.22 GiB)") == round(79.22 * 2**30)
    assert gpu_total_bytes("H100 80GB") == round(79.19 * 2**30)  # vLLM V1's H100 total
    with pytest.raises(ValueError, match="no number"):
        first_number("default")


def test_published_names_map_onto_the_catalog() -> None:
    """Fine-tune suffixes share the base model's shapes; Llama-2-13B is built from the paper."""
    assert resolve_model("meta-llama/Llama-3.1-70B-Instruct").repo_id == "meta-llama/Llama-3.1-70B"
    assert resolve_model("Qwen/Qwen2.5-7B-Instruct").repo_id == "Qwen/Qwen2.5-7B-Instruct"
    assert resolve_model("meta-llama/Llama-2-13B-hf").parameters.total == 13_015_864_320
    assert resolve_model("meta-llama/Meta-Llama-3-8B").architecture.max_context_tokens == 8192
    with pytest.raises(UnknownName):
        resolve_model("acme/NoSuchModel-1B")


@pytest.mark.parametrize(
    ("version", "profile"),
    [
        ("~0.6.4 (V0, Dec 2024; exact not shown in excerpt)", "vllm-0.6.4"),
        ("main @ Dec 2024 (~0.6.5, V0 worker)", "vllm-0.6.5"),
        ("main @ Dec 2024", "vllm-0.6.5"),
        ("0.7.3", "vllm-0.6.5"),
        ("0.8.5 (V1)", "vllm-0.8.5"),
        ("main @ Jun 2025", "vllm-0.8.5"),
        ("0.5.0", "vllm-0.6.4"),
        ("unknown", "vllm-0.21.0"),
    ],
)
def test_engine_profile_follows_the_logged_version(version: str, profile: str) -> None:
    """An explicit x.y.z picks the newest vLLM profile not newer than it; a month picks the
    newest vLLM profile released by then; anything else the default."""
    assert resolve_engine(load_engine_profiles(), version).id == profile
