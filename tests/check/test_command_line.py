"""Reading real serving command lines: the engine, its own flags, wrappers and config files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.gate.command_line import parse_command
from service.gate.target import InputError
from service.gate.vllm_args import manifest_fields
from tests.check.conftest import Run


def parse(argv: list[str], base_dir: Path = Path()) -> Any:
    return parse_command(argv, base_dir=base_dir)


@pytest.mark.parametrize(
    ("argv", "engine"),
    [
        pytest.param(["vllm", "serve", "org/m"], "vllm", id="vllm-serve"),
        pytest.param(
            ["python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "org/m"],
            "vllm",
            id="vllm-module",
        ),
        pytest.param(
            ["/usr/bin/python3.12", "-m", "sglang.launch_server", "--model-path", "org/m"],
            "sglang",
            id="sglang-module",
        ),
        pytest.param(["sglang", "serve", "--model-path", "org/m"], "sglang", id="sglang-serve"),
        pytest.param(["trtllm-serve", "org/m"], "trtllm", id="trtllm-serve"),
        pytest.param(["trtllm-serve", "serve", "org/m"], "trtllm", id="trtllm-serve-serve"),
        pytest.param(["--model", "org/m"], "vllm", id="bare-vllm-flags"),
    ],
)
def test_engine_is_inferred_from_the_program(argv: list[str], engine: str) -> None:
    """Each engine's launch command names that engine."""
    assert parse(argv).engine == engine


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["python", "-m", "sglang.launch_server", "--model-path", "org/m", "--tp", "4",
             "--context-length", "32768", "--max-running-requests", "64",
             "--kv-cache-dtype", "fp8_e5m2"],
            {"model": "org/m", "tensor_parallel": 4, "max_model_len": 32768,
             "max_num_seqs": 64, "kv_cache_dtype": "fp8_e5m2"},
            id="sglang",
        ),
        pytest.param(
            ["trtllm-serve", "org/m", "--tp_size", "2", "--max_seq_len", "8192",
             "--max_batch_size", "16"],
            {"model": "org/m", "tensor_parallel": 2, "max_model_len": 8192, "max_num_seqs": 16},
            id="trtllm",
        ),
        pytest.param(
            ["vllm", "serve", "org/m", "--max_model_len", "4096", "--tensor_parallel_size=2"],
            {"model": "org/m", "max_model_len": 4096, "tensor_parallel": 2},
            id="vllm-underscores",
        ),
    ],
)  # fmt: skip
def test_each_engine_reads_its_own_flags(argv: list[str], expected: dict[str, Any]) -> None:
    """SGLang's and TensorRT-LLM's spellings set the same deployment fields as vLLM's."""
    assert parse(argv).fields == expected


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        pytest.param(
            ["vllm", "serve", "org/m", "--max-num-batched-tokens", "16k", "--enforce-eager",
             "--kv-cache-memory-bytes", "8G", "--cpu-offload-gb", "4", "--block-size", "32"],
            {"max_num_batched_tokens": 16_000, "enforce_eager": True,
             "kv_cache_memory_bytes": 8 * 1024**3, "cpu_offload_gb": 4.0,
             "block_size_tokens": 32},
            id="vllm",
        ),
        pytest.param(
            ["vllm", "serve", "org/m", "--no-enable-prefix-caching"],
            {"enable_prefix_caching": False},
            id="vllm-negated-switch",
        ),
        pytest.param(
            ["python", "-m", "sglang.launch_server", "--model-path", "org/m",
             "--mem-fraction-static", "0.8", "--chunked-prefill-size", "4096",
             "--scheduler-recv-interval", "30"],
            {"mem_fraction_static": 0.8, "max_num_batched_tokens": 4096,
             "scheduler_recv_interval": 30},
            id="sglang",
        ),
        pytest.param(
            ["python", "-m", "sglang.launch_server", "--model-path", "org/m",
             "--chunked-prefill-size", "-1"],
            {"max_num_batched_tokens": 16384},
            id="sglang-unchunked",
        ),
        pytest.param(
            ["trtllm-serve", "org/m", "--kv_cache_free_gpu_memory_fraction", "0.85"],
            {"kv_cache_free_gpu_mem_fraction": 0.85},
            id="trtllm",
        ),
    ],
)  # fmt: skip
def test_engine_knobs_are_read_as_options(argv: list[str], options: dict[str, Any]) -> None:
    """Flags that only an engine's memory model uses are kept for it, by the engine's name."""
    assert parse(argv).options == options


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        pytest.param(["vllm", "serve", "org/m", "--tp", "2"], "--tp", id="sglang-flag-in-vllm"),
        pytest.param(
            ["vllm", "serve", "org/m", "--mem-fraction-static", "0.8"],
            "--mem-fraction-static",
            id="sglang-memory-flag-in-vllm",
        ),
        pytest.param(
            ["python", "-m", "sglang.launch_server", "--model-path", "org/m",
             "--gpu-memory-utilization", "0.9"],
            "--gpu-memory-utilization",
            id="vllm-flag-in-sglang",
        ),
        pytest.param(["trtllm-serve", "org/m", "--tp-size", "2"], "--tp-size",
                     id="sglang-spelling-in-trtllm"),
    ],
)  # fmt: skip
def test_another_engines_flag_is_an_error_naming_it(argv: list[str], flag: str) -> None:
    """The engine would refuse a flag it does not have, so the gate does too (exit 2)."""
    with pytest.raises(InputError) as caught:
        parse(argv)
    assert caught.value.field == flag


def test_foreign_flag_error_suggests_the_engines_spelling() -> None:
    """``--tp`` given to vLLM points at ``-tp``/``--tensor-parallel-size``."""
    with pytest.raises(InputError) as caught:
        parse(["vllm", "serve", "org/m", "--tp", "2"])
    assert "did you mean" in caught.value.message


def test_leading_environment_words_are_named_not_taken_as_the_model() -> None:
    """``VLLM_USE_V1=1 vllm serve M`` serves M and says the variable is not modelled."""
    command = parse(["VLLM_USE_V1=1", "HF_HOME=/x", "vllm", "serve", "org/m"])
    assert (command.fields["model"], command.warnings) == (
        "org/m",
        ("environment VLLM_USE_V1=1: not modelled", "environment HF_HOME=/x: not modelled"),
    )


def test_shell_wrapper_runs_the_engine_segment() -> None:
    """``sh -c "pip install x && exec vllm serve M ..."`` reads the vllm segment."""
    script = "pip install foo && exec vllm serve org/m --max-model-len 2048"
    assert parse(["/bin/sh", "-c", script]).fields == {"model": "org/m", "max_model_len": 2048}


def test_config_file_flags_are_read_and_the_command_line_wins(tmp_path: Path) -> None:
    """``--config serve.yaml`` supplies flags; the same flag on the command line overrides it."""
    config = "model: org/m\ntensor-parallel-size: 4\nmax-model-len: 8192\nenforce-eager: true\n"
    (tmp_path / "serve.yaml").write_text(config, encoding="utf-8")
    command = parse(
        ["vllm", "serve", "--config", "serve.yaml", "--max-model-len", "4096"], tmp_path
    )
    assert (command.fields, command.options) == (
        {"model": "org/m", "tensor_parallel": 4, "max_model_len": 4096},
        {"enforce_eager": True},
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(None, "cannot read", id="missing"),
        pytest.param("- a\n- b\n", "expected a YAML mapping", id="not-a-mapping"),
        pytest.param("a: [\n", "is not YAML", id="not-yaml"),
    ],
)
def test_unreadable_config_file_is_an_error_on_config(
    tmp_path: Path, content: str | None, fragment: str
) -> None:
    """A config file that cannot be read names ``--config`` and what was expected."""
    if content is not None:
        (tmp_path / "serve.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse(["vllm", "serve", "org/m", "--config", "serve.yaml"], tmp_path)
    assert (caught.value.field, fragment in caught.value.message) == ("--config", True)


def test_data_parallel_adds_replicas_not_tensor_parallelism() -> None:
    """``--data-parallel-size 4`` alone is four one-GPU replicas, not TP 4."""
    fields = manifest_fields(parse(["vllm", "serve", "org/m", "-dp", "4"]), "h100-sxm", None)
    assert (fields["tensor_parallel"], fields["gpu_count"]) == (1, 4)


def test_flags_that_change_memory_but_are_not_modelled_are_warned() -> None:
    """``--speculative-config`` is never dropped silently."""
    command = parse(["vllm", "serve", "org/m", "--speculative-config", "{}"])
    assert command.warnings == (
        "--speculative-config {}: changes memory or speed; capplan does not model it",
    )


def test_unknown_flags_are_warned_with_their_value() -> None:
    """A flag in no engine's table is read as nothing and named in a warning."""
    command = parse(["vllm", "serve", "org/m", "--frobnicate", "3"])
    assert command.warnings == ("--frobnicate 3: not a vllm serve flag capplan knows; not read",)


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        pytest.param(["text-generation-launcher", "--model-id", "m"], "(command)", id="tgi"),
        pytest.param(["python", "-m", "http.server"], "(command)", id="other-module"),
        pytest.param(["vllm", "serve", "--max-model-len", "8"], "MODEL (or --model)",
                     id="no-model"),
        pytest.param(["python", "-m", "sglang.launch_server", "org/m"], "org/m",
                     id="sglang-positional"),
        pytest.param(["vllm", "serve", "org/m", "other/m"], "other/m", id="two-models"),
    ],
)  # fmt: skip
def test_unreadable_command_lines_are_errors(argv: list[str], field: str) -> None:
    """What cannot be read as a serving command names the word and what was expected."""
    with pytest.raises(InputError) as caught:
        parse(argv)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("argv", "engine"),
    [
        pytest.param(["python", "-m", "sglang.launch_server", "--model-path",
                      "meta-llama/Llama-3.1-8B", "--context-length", "8192"],
                     "sglang", id="sglang"),
        pytest.param(["trtllm-serve", "meta-llama/Llama-3.1-8B", "--max_seq_len", "8192"],
                     "trtllm", id="trtllm"),
        pytest.param(["vllm", "serve", "meta-llama/Llama-3.1-8B", "--max-model-len", "8192"],
                     "vllm", id="vllm"),
    ],
)  # fmt: skip
def test_the_commands_engine_answers(
    run_check: Callable[..., Run], backend_args: list[str], argv: list[str], engine: str
) -> None:
    """The engine a command runs is the engine whose memory model the report used."""
    result = run_check(*backend_args, "--format", "json", "--gpu", "h100-sxm", "--", *argv)
    assert json.loads(result.out)["engine"].split()[0] == engine


def test_engine_flag_overrides_the_command(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """``--engine sglang`` checks a vllm command line with SGLang's memory model."""
    argv = ["vllm", "serve", "meta-llama/Llama-3.1-8B", "--max-model-len", "8192"]
    flags = ["--format", "json", "--engine", "sglang", "--gpu", "h100-sxm"]
    result = run_check(*backend_args, *flags, "--", *argv)
    assert json.loads(result.out)["engine"].split()[0] == "sglang"


def test_unknown_engine_exits_2(run_check: Callable[..., Run], backend_args: list[str]) -> None:
    """An engine the catalog does not have is input the gate cannot check."""
    argv = ["vllm", "serve", "meta-llama/Llama-3.1-8B", "--max-model-len", "8192"]
    result = run_check(*backend_args, "--engine", "tgi", "--gpu", "h100-sxm", "--", *argv)
    assert (result.code, "tgi" in result.err) == (2, True)


@pytest.mark.parametrize(
    ("word", "flag", "meant"),
    [
        pytest.param("--max-modle-len", "--max-modle-len", "--max-model-len", id="transposed"),
        pytest.param("--max_modle_len", "--max-modle-len", "--max-model-len", id="underscores"),
        pytest.param("--gpu-memory-utilisation", "--gpu-memory-utilisation",
                     "--gpu-memory-utilization", id="british-spelling"),
        pytest.param("--enable-prefix-cache", "--enable-prefix-cache", "--enable-prefix-caching",
                     id="switch"),
        pytest.param("--mamba-cahce-dtype", "--mamba-cahce-dtype", "--mamba-cache-dtype",
                     id="flag-capplan-does-not-read"),
    ],
)  # fmt: skip
def test_a_misspelt_vllm_flag_is_an_error_naming_the_flag_it_resembles(
    word: str, flag: str, meant: str
) -> None:
    """vLLM refuses an unknown flag, so a typo of a real one is exit 2, never a warning."""
    with pytest.raises(InputError) as caught:
        parse(["vllm", "serve", "org/m", word, "4096"])
    assert (caught.value.field, caught.value.message) == (
        flag,
        f"vllm serve has no such flag and would refuse to start; did you mean {meant}?",
    )


def test_a_misspelt_flag_exits_2(run_check: Callable[..., Run], backend_args: list[str]) -> None:
    """``--max-modle-len 4096`` is not checked at the model's full context and passed."""
    argv = ["vllm", "serve", "meta-llama/Llama-3.1-8B", "--max-modle-len", "4096"]
    result = run_check(*backend_args, "--gpu", "h100-sxm", "--", *argv)
    assert (
        result.code,
        "command line: --max-modle-len: vllm serve has no such flag" in result.err,
    ) == (2, True)


@pytest.mark.parametrize(
    "words",
    [
        pytest.param(["--max-long-partial-prefills", "2"], id="near-max-num-partial-prefills"),
        pytest.param(["--data-parallel-rank", "0"], id="near-data-parallel-start-rank"),
        pytest.param(["--mamba-cache-dtype", "float32"], id="near-kv-cache-dtype"),
        pytest.param(["--device", "cuda"], id="also-an-sglang-flag"),
        pytest.param(["--no-enable-lora"], id="negated-switch"),
        pytest.param(["--compilation-config.level", "3"], id="json-flag-key"),
        pytest.param(["--max-model", "4096"], id="abbreviation"),
        pytest.param(["--frobnicate", "3"], id="like-no-flag"),
    ],
)
def test_real_or_unlike_flags_are_not_taken_for_typos(words: list[str]) -> None:
    """vLLM flags capplan does not read, abbreviations argparse accepts and flags like none
    stay warnings: only a near miss of a real flag is an error."""
    command = parse(["vllm", "serve", "org/m", *words])
    assert len(command.warnings) == 1


def test_a_flag_capplan_does_not_read_is_warned_as_vllms() -> None:
    """``--mamba-cache-dtype`` is vLLM's own, so the warning does not call it unknown."""
    command = parse(["vllm", "serve", "org/m", "--mamba-cache-dtype", "float32"])
    assert command.warnings == (
        "--mamba-cache-dtype float32: a vllm serve flag capplan does not read",
    )


def test_sglang_misspellings_stay_warnings() -> None:
    """Without SGLang's whole flag list a real flag could look like a typo, so none is one."""
    argv = ["python", "-m", "sglang.launch_server", "--model-path", "org/m"]
    command = parse([*argv, "--context-lenght", "8192"])
    assert command.warnings == (
        "--context-lenght 8192: not a python -m sglang.launch_server flag capplan knows; not read",
    )
