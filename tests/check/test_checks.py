"""The checks beyond "does it start": concurrency at max_num_seqs, and the latency SLO."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.check.conftest import Run

L4_8B: dict[str, Any] = {"model": "meta-llama/Llama-3.1-8B", "gpu": "l4", "max_model_len": 8192}
H100_8B: dict[str, Any] = {**L4_8B, "gpu": "h100-sxm"}
WORKLOAD = {"input_tokens": 2000, "output_tokens": 500, "concurrency": 4}


def checks(run: Callable[..., Run], args: list[str], path: Path) -> tuple[int, dict[str, str]]:
    """Exit code and ``{check name: status}`` of a JSON run."""
    result = run(*args, "--format", "json", str(path))
    report = json.loads(result.out)
    return result.code, {c["name"]: c["status"] for c in report["checks"]}


def test_max_num_seqs_beyond_memory_only_warns(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """vLLM queues what does not fit at once, so the gate passes with a warning."""
    path = manifest(**L4_8B, max_num_seqs=64)
    assert checks(run_check, backend_args, path) == (0, {"fits": "pass", "concurrency": "warn"})


def test_required_full_concurrency_fails(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """With ``require_full_concurrency`` the same shortfall fails the gate."""
    path = manifest(**L4_8B, max_num_seqs=64, require_full_concurrency=True)
    assert checks(run_check, backend_args, path) == (1, {"fits": "pass", "concurrency": "fail"})


def test_max_num_seqs_that_fit_pass(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """As many sequences as memory holds at once pass, even when all are required."""
    held = json.loads(run_check(*backend_args, "--format", "json", str(manifest(**L4_8B))).out)
    path = manifest(**L4_8B, max_num_seqs=held["max_batch"], require_full_concurrency=True)
    assert checks(run_check, backend_args, path) == (0, {"fits": "pass", "concurrency": "pass"})


def test_max_num_seqs_above_the_engines_default_that_fit_pass(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """--max-num-seqs 2048 on an H100 (vLLM's default there: 1024) runs 2048 of Llama-3.2-1B's
    512-token sequences at once: the engine's default cap is not the manifest's."""
    small = {"model": "meta-llama/Llama-3.2-1B", "gpu": "h100-sxm", "max_model_len": 512}
    path = manifest(**small, max_num_seqs=2048, require_full_concurrency=True)
    assert checks(run_check, backend_args, path) == (0, {"fits": "pass", "concurrency": "pass"})


def test_slo_met_passes(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """An H100 serves 4 x (2000 in, 500 out) of an 8B model within 1 s TTFT, 30 ms TPOT."""
    path = manifest(**H100_8B, workload=WORKLOAD, slo={"ttft_ms": 1000, "tpot_ms": 30})
    assert checks(run_check, backend_args, path) == (0, {"fits": "pass", "slo": "pass"})


def test_slo_missed_fails_and_offers_setups_that_meet_it(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """A 10 ms TPOT is out of an L4's reach; the planned alternatives meet it."""
    path = manifest(**L4_8B, workload=WORKLOAD, slo={"tpot_ms": 10})
    result = run_check(*backend_args, "--format", "json", str(path))
    report = json.loads(result.out)
    assert result.code == 1
    assert report["latency"]["tpot_ms"] > 10
    alternatives = [s for s in report["suggestions"] if s["fixes"] == "slo"]
    assert alternatives
    assert all("TPOT" in s["outcome"] and s["settings"]["gpu"] for s in alternatives)


def test_workload_longer_than_max_model_len_fails(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """Sequences the engine would reject cannot meet any SLO."""
    long = {"input_tokens": 8000, "output_tokens": 500, "concurrency": 1}
    path = manifest(**H100_8B, workload=long, slo={"ttft_ms": 10_000})
    assert checks(run_check, backend_args, path) == (1, {"fits": "pass", "slo": "fail"})


def test_slo_is_skipped_when_it_does_not_fit(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """Latency of a deployment that cannot start is not judged."""
    path = manifest(**{**L4_8B, "max_model_len": 131072}, workload=WORKLOAD, slo={"ttft_ms": 1e6})
    assert checks(run_check, backend_args, path) == (1, {"fits": "fail", "slo": "skip"})


def test_burst_slo_judges_the_burst_ttft(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> None:
    """A TTFT target between the steady and burst TTFTs passes, and fails with ``burst``."""
    unjudged = run_check(
        *backend_args, "--format", "json", str(manifest(**H100_8B, workload=WORKLOAD))
    )
    latency = json.loads(unjudged.out)["latency"]
    assert latency["burst_ttft_ms"] > latency["ttft_ms"]
    target = (latency["ttft_ms"] + latency["burst_ttft_ms"]) / 2
    steady = manifest("steady.yaml", **H100_8B, workload=WORKLOAD, slo={"ttft_ms": target})
    slo = {"ttft_ms": target, "burst": True}
    burst = manifest("burst.yaml", **H100_8B, workload=WORKLOAD, slo=slo)
    assert checks(run_check, backend_args, steady) == (0, {"fits": "pass", "slo": "pass"})
    assert checks(run_check, backend_args, burst) == (1, {"fits": "pass", "slo": "fail"})
