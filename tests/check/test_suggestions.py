"""When a deployment fails, the changes offered are real: each one, applied, passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.check.conftest import Run
from tests.check.test_cli_exit_codes import NO_FIT

LONG_CONTEXT: dict[str, Any] = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "l4",
    "max_model_len": 32768,
}
BUSY: dict[str, Any] = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "l4",
    "max_model_len": 8192,
    "max_num_seqs": 64,
    "require_full_concurrency": True,
}

SLOW: dict[str, Any] = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "l4",
    "max_model_len": 8192,
    "workload": {"input_tokens": 2000, "output_tokens": 500, "concurrency": 4},
    "slo": {"tpot_ms": 10},
}


@pytest.fixture
def offline(run_check: Callable[..., Run], catalog_dir: Path) -> Callable[..., Run]:
    def run(*args: str) -> Run:
        return run_check("--offline", "--catalog-dir", str(catalog_dir), *args)

    return run


def report_of(run: Callable[..., Run], path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(run("--format", "json", str(path)).out)
    return report


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(NO_FIT, id="weights-too-big"),
        pytest.param(LONG_CONTEXT, id="context-too-long"),
        pytest.param(BUSY, id="max-num-seqs-at-once"),
        pytest.param(SLOW, id="slo-missed"),
    ],
)
def test_every_suggestion_applied_passes(
    offline: Callable[..., Run], manifest: Callable[..., Path], fields: dict[str, Any]
) -> None:
    """Each suggested change, written into the manifest, turns the verdict to pass."""
    suggestions = report_of(offline, manifest(**fields))["suggestions"]
    assert suggestions
    for index, suggestion in enumerate(suggestions):
        changed = manifest(f"fixed-{index}.yaml", **{**fields, **suggestion["settings"]})
        assert offline(str(changed)).code == 0, suggestion["change"]


def test_weights_too_big_offers_more_gpus_or_a_bigger_one(
    offline: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """70B in bf16 on one L4: no configuration change helps, hardware does."""
    kinds = {s["kind"] for s in report_of(offline, manifest(**NO_FIT))["suggestions"]}
    assert kinds == {"tensor_parallel", "gpu"}


def test_context_too_long_offers_the_longest_context_that_fits(
    offline: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """The suggested max_model_len fits and one token more does not."""
    suggestions = report_of(offline, manifest(**LONG_CONTEXT))["suggestions"]
    longest = next(s for s in suggestions if s["kind"] == "max_model_len")["settings"]
    assert offline(str(manifest("at.yaml", **{**LONG_CONTEXT, **longest}))).code == 0
    beyond = {"max_model_len": longest["max_model_len"] + 1}
    assert offline(str(manifest("beyond.yaml", **{**LONG_CONTEXT, **beyond}))).code == 1


def test_configuration_changes_rank_before_hardware(
    offline: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """Free changes come first in the brief's order; hardware follows by added cost."""
    suggestions = report_of(offline, manifest(**LONG_CONTEXT))["suggestions"]
    kinds = [s["kind"] for s in suggestions]
    assert kinds[:3] == ["kv_cache_dtype", "max_model_len", "weight_dtype"]
    costs = [s["extra_cost_per_hour"] for s in suggestions[3:]]
    assert costs == sorted(costs)
    assert all(cost > 0 for cost in costs)


def test_concurrency_shortfall_offers_fewer_sequences(
    offline: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """When max_num_seqs do not fit at once, the number that does is offered."""
    report = report_of(offline, manifest(**BUSY))
    fewer = next(s for s in report["suggestions"] if s["kind"] == "max_num_seqs")
    assert fewer["settings"] == {"max_num_seqs": report["max_batch"]}
    assert fewer["fixes"] == "concurrency"
