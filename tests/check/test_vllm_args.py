"""Reading a ``vllm serve`` argument list as manifest fields."""

from __future__ import annotations

from typing import Any

import pytest

from service.gate.target import InputError
from service.gate.vllm_args import human_int, manifest_fields, parse_vllm_serve


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["vllm", "serve", "meta-llama/Llama-3.1-8B", "--max-model-len", "8192"],
            {"model": "meta-llama/Llama-3.1-8B", "max_model_len": 8192},
            id="positional-model",
        ),
        pytest.param(
            ["--model", "org/m", "--tensor-parallel-size", "4", "--pipeline-parallel-size", "2"],
            {"model": "org/m", "tensor_parallel": 4, "pipeline_parallel": 2},
            id="model-flag-without-program",
        ),
        pytest.param(
            ["serve", "org/m", "-tp", "2", "-pp", "1", "-q", "awq"],
            {"model": "org/m", "tensor_parallel": 2, "pipeline_parallel": 1, "quantization": "awq"},
            id="short-flags",
        ),
        pytest.param(
            ["vllm", "serve", "org/m", "--max-model-len=32k", "--max-num-seqs=64"],
            {"model": "org/m", "max_model_len": 32000, "max_num_seqs": 64},
            id="equals-form",
        ),
        pytest.param(
            ["vllm", "serve", "org/m", "--gpu-memory-utilization", "0.95", "--dtype", "half"],
            {"model": "org/m", "gpu_memory_utilization": 0.95, "dtype": "half"},
            id="utilization-and-dtype",
        ),
        pytest.param(
            ["vllm", "serve", "org/m", "--kv-cache-dtype", "fp8_e4m3"],
            {"model": "org/m", "kv_cache_dtype": "fp8_e4m3"},
            id="kv-cache-dtype",
        ),
        pytest.param(
            ["python", "-m", "vllm.entrypoints.openai.api_server", "--model", "org/m"],
            {"model": "org/m"},
            id="python-module-entry-point",
        ),
    ],
)
def test_known_flags_become_fields(argv: list[str], expected: dict[str, Any]) -> None:
    """Each memory-relevant flag sets its manifest field."""
    assert parse_vllm_serve(argv).fields == expected


def test_unknown_flags_are_skipped_and_listed() -> None:
    """Flags with no effect on memory are skipped, with their values, and reported."""
    argv = ["vllm", "serve", "--trust-remote-code", "org/m", "--port", "8000"]
    argv += ["--disable-log-stats", "--served-model-name=m", "--max-model-len", "4096"]
    command = parse_vllm_serve(argv)
    assert command.fields == {"model": "org/m", "max_model_len": 4096}
    assert command.ignored == (
        "--trust-remote-code",
        "--port 8000",
        "--disable-log-stats",
        "--served-model-name=m",
    )


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        pytest.param(["org/m", "--max-model-len", "lots"], "--max-model-len", id="max-model-len"),
        pytest.param(["org/m", "-tp", "two"], "-tp", id="tensor-parallel"),
        pytest.param(
            ["org/m", "--gpu-memory-utilization", "high"],
            "--gpu-memory-utilization",
            id="utilization",
        ),
        pytest.param(["org/m", "--max-num-seqs"], "--max-num-seqs", id="missing-value"),
    ],
)
def test_bad_value_of_a_known_flag_names_the_flag(argv: list[str], flag: str) -> None:
    """A value a known flag cannot take is an input error on that flag."""
    with pytest.raises(InputError) as caught:
        parse_vllm_serve(argv)
    assert caught.value.field == flag


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param("8192", 8192, id="plain"),
        pytest.param("32k", 32_000, id="decimal-k"),
        pytest.param("32K", 32_768, id="binary-K"),
        pytest.param("1.5k", 1_500, id="fraction"),
        pytest.param("1m", 1_000_000, id="decimal-m"),
    ],
)
def test_max_model_len_reads_vllm_suffixes(text: str, tokens: int) -> None:
    """``k`` is 1,000 and ``K`` is 1,024, as in vLLM's human-readable integers."""
    assert human_int(text) == tokens


def test_data_parallel_replicas_add_gpus() -> None:
    """``-dp 2`` with ``-tp 4`` means 8 GPUs in all."""
    command = parse_vllm_serve(["org/m", "-tp", "4", "-dp", "2"])
    assert manifest_fields(command, "h100-sxm", None)["gpu_count"] == 8


def test_gpu_count_flag_wins_over_data_parallel() -> None:
    """An explicit ``--gpu-count`` is taken as given."""
    command = parse_vllm_serve(["org/m", "-tp", "4", "-dp", "2"])
    assert manifest_fields(command, "h100-sxm", 4)["gpu_count"] == 4
