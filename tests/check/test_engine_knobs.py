"""The gate passes each engine's memory flags to that engine's memory model."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.check.conftest import Run

MODEL = "meta-llama/Llama-3.1-8B"
SGLANG = ["python", "-m", "sglang.launch_server", "--model-path", MODEL, "--context-length", "8192"]
TRTLLM = ["trtllm-serve", MODEL, "--max_seq_len", "8192"]
VLLM = ["vllm", "serve", MODEL, "--max-model-len", "8192"]


def _report(run_check: Callable[..., Run], backend_args: list[str], argv: list[str]) -> Any:
    result = run_check(*backend_args, "--format", "json", "--gpu", "h100-sxm", "--", *argv)
    assert result.code in (0, 1), result.err + result.out
    return json.loads(result.out)


def _unused(report: dict[str, Any]) -> list[str]:
    return [w for w in report.get("warnings", []) if "does not use" in w]


@pytest.mark.parametrize("fraction", [0.5, 0.8], ids=["0.5", "0.8"])
def test_sglang_mem_fraction_static_reaches_the_pool(
    run_check: Callable[..., Run], backend_args: list[str], fraction: float
) -> None:
    """--mem-fraction-static: weights + pool = that share of the memory free before loading."""
    argv = [*SGLANG, "--mem-fraction-static", str(fraction)]
    report = _report(run_check, backend_args, argv)
    memory = report["memory"]
    assert memory["usable"] == int((memory["total"] - memory["non_torch"]) * fraction)
    assert _unused(report) == []


def test_trtllm_fraction_and_token_budget_reach_the_budget(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """--kv_cache_free_gpu_memory_fraction and --max_num_tokens are TensorRT-LLM's knobs."""
    small = _report(run_check, backend_args, [*TRTLLM, "--max_num_tokens", "4096"])
    argv = [*TRTLLM, "--max_num_tokens", "32768", "--kv_cache_free_gpu_memory_fraction", "0.5"]
    large = _report(run_check, backend_args, argv)
    m = large["memory"]
    assert m["activation"] > small["memory"]["activation"]
    assert m["kv_cache"] == int((m["total"] - m["non_torch"] - m["weights"] - m["activation"]) / 2)
    assert _unused(large) == []


def test_vllm_kv_cache_memory_bytes_and_eager_reach_the_budget(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """--kv-cache-memory-bytes sets the KV cache; --enforce-eager drops the graph estimate."""
    argv = [*VLLM, "--kv-cache-memory-bytes", "4G", "--enforce-eager", "--block-size", "32"]
    report = _report(run_check, backend_args, argv)
    assert report["memory"]["kv_cache"] == 4 * 1024**3
    assert report["memory"]["cudagraph"] == 0
    assert _unused(report) == []


def test_sglang_recv_interval_is_used_not_warned_about(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """--scheduler-recv-interval reaches the question (its latency knob), so no warning."""
    report = _report(run_check, backend_args, [*SGLANG, "--scheduler-recv-interval", "30"])
    assert _unused(report) == []


def test_sglang_chunked_prefill_size_is_used_not_warned_about(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """--chunked-prefill-size is SGLang's step budget (max_num_batched_tokens): no warning."""
    report = _report(run_check, backend_args, [*SGLANG, "--chunked-prefill-size", "4096"])
    assert _unused(report) == []
