"""KV cache capacity from the engine models against public start-up logs: vLLM V0 logs
(vllm_memory.json) within 2 % each; today's engines (engine_memory_logs.json) within the
issue-11 targets."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from service.catalog_files import load_engine_profiles
from service.validation.engine_log_check import check_engine_log
from service.validation.engine_log_report import (
    KV_TOKENS_MEDIAN_TARGET_PCT,
    KV_TOKENS_WORST_TARGET_PCT,
    WEIGHTS_TARGET_PCT,
    check_engine_logs,
    load_engine_logs,
)
from service.validation.engine_log_row import EngineLogCheck
from service.validation.engine_logs import (
    engine_profile,
    prefix_caching,
    speculative_tokens,
    utilization,
)
from service.validation.memory_check import (
    check_kv_capacity,
    first_number,
    gpu_total_bytes,
    resolve_engine,
)
from service.validation.models import UnknownName, resolve_model
from service.validation.reference import default_reference_dir

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
        ("unknown", "vllm-0.24.0"),
    ],
)
def test_engine_profile_follows_the_logged_version(version: str, profile: str) -> None:
    """An explicit x.y.z picks the newest vLLM profile not newer than it; a month picks the
    newest vLLM profile released by then; anything else the default."""
    assert resolve_engine(load_engine_profiles(), version).id == profile


# --- Today's engines: engine_memory_logs.json (issue 11) -----------------------------------


@pytest.fixture(scope="module")
def engine_checks() -> list[EngineLogCheck]:
    """Every engine_memory_logs.json datapoint, checked once."""
    return check_engine_logs(load_engine_logs(default_reference_dir()), load_engine_profiles())


def kv_token_errors(checks: list[EngineLogCheck]) -> list[float]:
    return [abs(e) for c in checks if (e := c.kv_tokens_error_pct) is not None]


def test_at_least_forty_public_startup_logs_of_todays_engines() -> None:
    """>= 40 datapoints of vLLM V1, SGLang or TensorRT-LLM, each with its source URL."""
    points = load_engine_logs(default_reference_dir())
    assert len(points) >= 40
    assert {p["engine"] for p in points} == {"vllm", "sglang", "trtllm"}
    assert all("https://" in p["source"] for p in points)


def test_kv_tokens_median_error_within_two_percent(engine_checks: list[EngineLogCheck]) -> None:
    """Median |KV tokens error| over the checked datapoints <= 2 %."""
    errors = kv_token_errors(engine_checks)
    assert len(errors) >= 10
    assert statistics.median(errors) <= KV_TOKENS_MEDIAN_TARGET_PCT


def test_kv_tokens_worst_error_within_five_percent(engine_checks: list[EngineLogCheck]) -> None:
    """No checked datapoint misses its logged KV tokens by more than 5 %."""
    worst = max(engine_checks, key=lambda c: abs(c.kv_tokens_error_pct or 0.0))
    assert abs(worst.kv_tokens_error_pct or 0.0) <= KV_TOKENS_WORST_TARGET_PCT, worst


def test_kv_token_gate_spans_vllm_v1_and_sglang(engine_checks: list[EngineLogCheck]) -> None:
    """The gated datapoints are not all one engine."""
    gated = {c.engine.split("-")[0] for c in engine_checks if c.kv_tokens_error_pct is not None}
    assert {"vllm", "sglang"} <= gated


def test_weights_within_one_percent_where_the_checkpoint_is_known(
    engine_checks: list[EngineLogCheck],
) -> None:
    """Weights per GPU within 1 % of "Model loading took" / SGLang's weight line, MXFP4
    kernel-layout padding included (gpt-oss on A100/H100)."""
    checked = [c for c in engine_checks if c.weights_error_pct is not None]
    assert len(checked) >= 10
    assert all(abs(c.weights_error_pct or 0.0) <= WEIGHTS_TARGET_PCT for c in checked), [
        (c.id, c.weights_error_pct) for c in checked
    ]


@pytest.mark.parametrize(
    ("datapoint", "reason"),
    [
        ("vllm-issue43308-gemma-4-31b-awq-a100-v0.21", "Gemma 4"),
        ("vllm-issue21348-qwen3-235b-a22b-fp8-4xh100-tp4", "connector"),
    ],
    ids=["gemma4", "lmcache"],
)
def test_unmodelled_datapoints_are_reported_with_the_reason(
    engine_checks: list[EngineLogCheck], datapoint: str, reason: str
) -> None:
    """A datapoint capplan cannot price says so and why; it is never dropped."""
    check = next(c for c in engine_checks if c.id == datapoint)
    assert check.status.startswith("not modelled")
    assert reason in check.status


def test_every_datapoint_is_checked_or_says_what_is_missing(
    engine_checks: list[EngineLogCheck],
) -> None:
    """Each status is 'checked', 'weights only: ...' or 'not modelled: ...'."""
    assert len(engine_checks) == len(load_engine_logs(default_reference_dir()))
    for check in engine_checks:
        assert check.status == "checked" or check.status.split(":")[0] in (
            "weights only",
            "allocator only",
            "not modelled",
        ), check


HYBRID_AND_MULTIMODAL_KV_TARGET_PCT = 5.0
"""Issue 16: KV/state capacity within 5 % of the logs of hybrid and multimodal models."""


def within(error_pct: float | None, target_pct: float) -> bool:
    """A known error no larger than the target."""
    return error_pct is not None and abs(error_pct) <= target_pct


@pytest.mark.parametrize(
    "datapoint",
    [
        "vllm-llmdplanner-llama4-scout-tp4-h100",
        "vllm-llmdplanner-mistral-small31-24b-w8a8-tp1-h100",
    ],
    ids=["llama4-scout-tp4-chunked-moe-vision", "mistral-small31-w8a8-pixtral"],
)
def test_hybrid_and_multimodal_logs_within_issue_16_targets(
    engine_checks: list[EngineLogCheck], datapoint: str
) -> None:
    """A modelled hybrid / multimodal log: weights (vision tower included) within 1 %, KV
    memory and KV tokens within 5 % (issue 16)."""
    check = next(c for c in engine_checks if c.id == datapoint)
    assert check.status == "checked", check
    weights, memory = check.weights_error_pct, check.kv_memory_error_pct
    tokens = check.kv_tokens_error_pct
    assert within(weights, WEIGHTS_TARGET_PCT), check
    assert within(memory, HYBRID_AND_MULTIMODAL_KV_TARGET_PCT), check
    assert within(tokens, HYBRID_AND_MULTIMODAL_KV_TARGET_PCT), check


@pytest.mark.parametrize(
    "datapoint",
    [
        "vllm-issue28228-kimi-linear-48b-awq-2x3090-tp2",
        "vllm-club3090-issue652-qwen3.6-35b-a3b-nvfp4-rtx5090",
        "vllm-club3090-issue487-qwen3.6-27b-autoround-int4-2x3090-tp2",
    ],
    ids=["kimi-linear-tp2-mla-kda", "qwen36-35b-a3b-0.24-align", "qwen36-27b-tp2-mtp3-align"],
)
def test_hybrid_allocator_lays_the_logged_kv_memory_out_as_the_log(
    engine_checks: list[EngineLogCheck], datapoint: str
) -> None:
    """Where only the KV memory is known (no weights line, unstated settings), the log's KV
    memory laid out by the hybrid allocator gives its tokens and concurrency within 5 %."""
    check = next(c for c in engine_checks if c.id == datapoint)
    assert check.status.startswith("allocator only"), check
    assert check.inputs_from_log == "KV memory from the log"
    tokens, concurrency = check.allocator_tokens_error_pct, check.max_concurrency_error_pct
    assert within(tokens, HYBRID_AND_MULTIMODAL_KV_TARGET_PCT), check
    assert within(concurrency, HYBRID_AND_MULTIMODAL_KV_TARGET_PCT), check


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (0.95, 0.95),
        ("not stated (default)", 0.9),
        ('log says "The current --gpu-memory-utilization=0.9764"', 0.9764),
        ("util not visible in retrieved excerpt", None),
    ],
    ids=["number", "default", "quoted", "unknown"],
)
def test_log_settings_are_read_as_stated(text: object, expected: float | None) -> None:
    """A stated fraction is used, "default" means the engine's, anything else is unknown."""
    assert utilization(text, load_engine_profiles().get("vllm-0.19.0")) == expected


@pytest.mark.parametrize(
    ("version", "profile"),
    [
        ("0.19.0 (V1 engine; from startup banner)", "vllm-0.19.0"),
        ('0.10.1 ("vLLM API server version 0.10.1")', "vllm-0.10.1"),
        ("vllm/vllm-openai:gptoss (pre-0.10.1 gpt-oss preview build)", "vllm-0.9.2"),
        ("0.29.1rc1.dev17+gd2d649e67", "vllm-0.24.0"),
    ],
    ids=["exact", "patch-line", "pre-release", "newer-than-all"],
)
def test_engine_log_picks_the_profile_of_its_version(version: str, profile: str) -> None:
    """x.y.z: the newest profile not newer; "pre-x.y.z": the newest older than it."""
    point = {"engine": "vllm", "engine_version": version, "source": ""}
    assert engine_profile(point, load_engine_profiles()).id == profile


@pytest.mark.parametrize(
    ("version", "source", "profile"),
    [
        (
            "not stated (collect_env shows PyTorch 2.9.0+cu128)",
            "log dated 11-06, 2025",
            "vllm-0.10.1",
        ),
        (
            "not stated (kv_cache_utils.py:1733)",
            "x (someone, logs dated 06-26, 2026)",
            "vllm-0.21.0",
        ),
        ("not stated", "x (someone, 2026-08-04)", "vllm-0.24.0"),
    ],
    ids=["torch-version-ignored", "logs-dated", "iso-date"],
)
def test_an_unstated_version_is_read_from_the_logs_date(
    version: str, source: str, profile: str
) -> None:
    """ "not stated": other version numbers in the text are ignored; the newest profile
    released by the log's date is used."""
    point = {"engine": "vllm", "engine_version": version, "source": source}
    assert engine_profile(point, load_engine_profiles()).id == profile


@pytest.mark.parametrize(
    ("excerpt", "stated", "caching", "tokens"),
    [
        (
            "{'enable_prefix_caching': True, 'speculative_config': {'method': 'mtp', "
            "'num_speculative_tokens': 3}}",
            None,
            True,
            3,
        ),
        ("vllm serve m --enable_prefix_caching --max_num_seqs 8", None, True, 0),
        ("{'enable_prefix_caching': False}", None, False, 0),
        ("{'speculative_config': {'method': 'mtp', 'num_specul...", 3, None, 3),
        ("no arguments retrieved", None, None, 0),
    ],
    ids=["args-line", "cli-flag", "off", "truncated-but-sourced", "unstated"],
)
def test_prefix_caching_and_speculative_tokens_as_the_log_states_them(
    excerpt: str, stated: int | None, caching: bool | None, tokens: int
) -> None:
    """Read from the log's arguments, or the datapoint's sourced field where truncated."""
    point = {"log_excerpt": excerpt, "num_speculative_tokens": stated}
    assert prefix_caching(point) is caching
    assert speculative_tokens(point) == tokens


def test_an_unreadable_architecture_config_is_reported_not_raised() -> None:
    """A datapoint whose cited config capplan cannot read stays 'not modelled', naming why."""
    point = next(
        p
        for p in load_engine_logs(default_reference_dir())
        if isinstance(p.get("architecture_config"), dict)
    )
    broken = {**point, "architecture_config": {"model_type": "kimi_linear"}}
    check = check_engine_log(broken, load_engine_profiles())
    assert check.status.startswith("not modelled")
    assert "architecture_config" in check.status
