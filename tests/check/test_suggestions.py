"""When a deployment fails, the changes offered are real: each one, applied, passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.gate.suggest import KIND_ORDER
from service.gate.text import money
from tests.check.conftest import Run
from tests.check.test_cli_exit_codes import NO_FIT

HARDWARE = {"tensor_parallel", "gpu"}
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
    assert kinds
    assert kinds <= HARDWARE


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
    """Free changes come first in the documented order; hardware follows by added cost,
    even when a hardware change saves money."""
    suggestions = report_of(offline, manifest(**LONG_CONTEXT))["suggestions"]
    free = [s["kind"] for s in suggestions if s["kind"] not in HARDWARE]
    hardware = [s for s in suggestions if s["kind"] in HARDWARE]
    assert [s["kind"] for s in suggestions] == free + [s["kind"] for s in hardware]
    assert free == sorted(free, key=KIND_ORDER.index)
    assert all(s["extra_cost_per_hour"] == 0 for s in suggestions[: len(free)])
    costs = [s["extra_cost_per_hour"] for s in hardware]
    assert costs == sorted(costs)


def test_concurrency_shortfall_offers_fewer_sequences(
    offline: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """When max_num_seqs do not fit at once, the number that does is offered."""
    report = report_of(offline, manifest(**BUSY))
    fewer = next(s for s in report["suggestions"] if s["kind"] == "max_num_seqs")
    assert fewer["settings"] == {"max_num_seqs": report["max_batch"]}
    assert fewer["fixes"] == "concurrency"


def _vendors(catalog_dir: Path) -> dict[str, str]:
    gpus = yaml.safe_load((catalog_dir / "gpus.yaml").read_text(encoding="utf-8"))["gpus"]
    return {gpu["id"]: gpu.get("vendor", "nvidia") for gpu in gpus}


def _suggested_gpus(offline: Callable[..., Run], path: Path, *flags: str) -> set[str]:
    report = json.loads(offline("--format", "json", *flags, str(path)).out)
    return {s["settings"]["gpu"] for s in report["suggestions"] if "gpu" in s["settings"]}


def test_other_gpus_are_of_the_same_vendor_by_default(
    offline: Callable[..., Run], manifest: Callable[..., Path], catalog_dir: Path
) -> None:
    """A team on NVIDIA is offered NVIDIA GPUs unless it allows others."""
    vendors = _vendors(catalog_dir)
    offered = _suggested_gpus(offline, manifest(**NO_FIT))
    assert offered
    assert {vendors[gpu] for gpu in offered} == {vendors[NO_FIT["gpu"]]}


def test_allow_gpus_limits_the_gpus_offered(
    offline: Callable[..., Run], manifest: Callable[..., Path], catalog_dir: Path
) -> None:
    """``--allow-gpus`` is the whole list a fix may move to, of any vendor."""
    others = sorted(gpu for gpu, vendor in _vendors(catalog_dir).items() if vendor != "nvidia")
    offered = _suggested_gpus(offline, manifest(**NO_FIT), "--allow-gpus", ",".join(others))
    assert offered
    assert offered <= set(others)


def test_deny_gpus_excludes_gpus(
    offline: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """A denied GPU is never offered; the next permitted one is."""
    path = manifest(**NO_FIT)
    first = _suggested_gpus(offline, path)
    offered = _suggested_gpus(offline, path, "--deny-gpus", ",".join(first))
    assert not offered & first


@pytest.mark.parametrize(
    ("dollars", "text"),
    [
        pytest.param(1.3, "+$1.30/h", id="added"),
        pytest.param(-4.4, "-$4.40/h", id="saved"),
        pytest.param(None, "price unknown", id="unknown"),
    ],
)
def test_costs_carry_their_sign(dollars: float | None, text: str) -> None:
    """An added cost reads ``+$``, a saving ``-$``, never ``+$-``."""
    assert money(dollars) == text
