"""The slash command's text grammar, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from service.slack.grammar import Help, ParseError, Query, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "plan llama-3.1-70b on h100 x2 ctx 32k batch 16",
            {"action": "plan", "model": "llama-3.1-70b", "gpu": "h100", "gpu_count": 2,
             "context": 32768, "batch": 16},
            id="issue-example",
        ),
        pytest.param(
            "fit Llama 3.1 8B on 2x h100-sxm ctx 8k",
            {"action": "fit", "model": "Llama 3.1 8B", "gpu": "h100-sxm", "gpu_count": 2,
             "context": 8192},
            id="model-of-several-words",
        ),
        pytest.param(
            "latency qwen3-8b on l4 batch 4 in 1k out 256 ttft 2s tpot 50ms",
            {"action": "latency", "model": "qwen3-8b", "gpu": "l4", "batch": 4,
             "input_tokens": 1024, "output_tokens": 256, "ttft_ms": 2000.0, "tpot_ms": 50.0},
            id="latency-with-slo",
        ),
        pytest.param(
            "PLAN Llama-3.1-70B fp8 kv fp8 on h100x4",
            {"action": "plan", "model": "Llama-3.1-70B", "weight_dtype": "fp8",
             "kv_cache_dtype": "fp8", "gpu": "h100", "gpu_count": 4},
            id="dtypes-and-glued-count",
        ),
        pytest.param(
            "fits llama on 4 gpus context 128K",
            {"action": "fit", "model": "llama", "gpu_count": 4, "context": 131072},
            id="count-in-words",
        ),
        pytest.param(
            "fit llama on mi300x",
            {"action": "fit", "model": "llama", "gpu": "mi300x"},
            id="gpu-ending-in-x",
        ),
        pytest.param(
            "plan llama on h100 ×8 tp 8",
            {"action": "plan", "model": "llama", "gpu": "h100", "gpu_count": 8},
            id="times-sign",
        ),
        pytest.param(
            "plan gemma-2-9b in 1,500 out 200 concurrency 32",
            {"action": "plan", "model": "gemma-2-9b", "input_tokens": 1500,
             "output_tokens": 200, "batch": 32},
            id="separators-in-numbers",
        ),
        pytest.param(
            "plan llama-3.1-8b burst ttft 500ms concurrency 8",
            {"action": "plan", "model": "llama-3.1-8b", "burst": True, "ttft_ms": 500.0,
             "batch": 8},
            id="burst-ttft-slo",
        ),
    ],
)  # fmt: skip
def test_commands_are_read_into_queries(text: str, expected: dict[str, Any]) -> None:
    """Each phrasing becomes the query it means; options come in any order."""
    assert parse(text) == Query(**expected)


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("help", None, id="help"),
        pytest.param("?", None, id="question-mark"),
        pytest.param("deploy llama to prod", "deploy", id="unknown-action"),
    ],
)
def test_help_and_unknown_actions(text: str, unknown: str | None) -> None:
    """No action, or one we do not have, asks for the help text."""
    assert parse(text) == Help(unknown=unknown)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("fit", "needs a model", id="no-model"),
        pytest.param("fit on h100", "needs a model", id="option-instead-of-model"),
        pytest.param("fit llama ctx lots", "not a token count", id="bad-number"),
        pytest.param("fit llama ctx", "needs a value", id="missing-value"),
        pytest.param("fit llama on h100 x99", "between 1 and 64", id="too-many-gpus"),
        pytest.param("fit llama kv int2", "not one of", id="bad-kv-dtype"),
        pytest.param("latency llama ttft soon", "not a time", id="bad-time"),
        pytest.param("plan llama on h100 please", "don't understand 'please'", id="stray-word"),
    ],
)
def test_unreadable_options_say_why(text: str, message: str) -> None:
    """An option that cannot be read is a ParseError naming the problem."""
    with pytest.raises(ParseError, match=message):
        parse(text)
