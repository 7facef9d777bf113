"""/plan sized to a request rate: replicas until each one's share runs below saturation."""

from __future__ import annotations

import pytest

from service.domain.batching import saturation_point
from service.domain.latency import Efficiency, Serving
from service.domain.planner import Plan, SearchSpace, Slo, Workload
from service.domain.serving import step_token_budget
from service.domain.step_time import step_costs
from tests.domain.reference import H100, arch, params
from tests.domain.test_planner import VLLM_V0, plan_for

SHAPE = {"input_tokens": 2000, "output_tokens": 300}


def rate_plan(rate: float, slo: Slo | None = None, max_gpus: int = 16) -> Plan:
    workload = Workload(**SHAPE, requests_per_s=rate)
    return plan_for(
        "llama3-8b", [H100], workload=workload, slo=slo, space=SearchSpace(max_gpus=max_gpus)
    )


def test_a_higher_rate_never_needs_fewer_replicas() -> None:
    """For each layout, replicas are non-decreasing in the request rate."""
    by_layout: dict[int, list[int]] = {}
    for rate in (1, 5, 20, 60):
        for c in rate_plan(rate).configurations:
            by_layout.setdefault(c.tensor_parallel, []).append(c.replicas)
    for tp, replicas in by_layout.items():
        assert replicas == sorted(replicas), tp


@pytest.mark.parametrize("rate", [2.0, 30.0], ids=["light", "heavy"])
def test_each_replica_serves_its_share_below_saturation(rate: float) -> None:
    """Share of the rate per replica < what one replica completes at saturation; the plan
    delivers rate x output tokens per second."""
    for c in rate_plan(rate).configurations:
        serving = Serving(gpu=H100, tensor_parallel=c.tensor_parallel)
        costs = step_costs(arch("llama3-8b"), params("llama3-8b"), serving, **SHAPE)
        knee = saturation_point(
            costs,
            Efficiency(),
            chunk_tokens=step_token_budget(VLLM_V0, SHAPE["input_tokens"], H100),
            max_batch=c.max_batch,
        )
        assert rate / c.replicas < knee.arrival_rate_per_s
        assert c.output_tokens_per_s == pytest.approx(rate * SHAPE["output_tokens"])


def test_the_slo_adds_replicas_beyond_saturation_alone() -> None:
    """A tight TTFT target needs at least as many replicas as merely keeping up does."""
    loose = {c.tensor_parallel: c.replicas for c in rate_plan(30).configurations}
    tight = rate_plan(30, slo=Slo(ttft_ms=60))
    for c in tight.configurations:
        assert c.replicas >= loose[c.tensor_parallel]
        if c.meets_slo:
            assert c.ttft_ms <= 60


def test_a_rate_no_layout_can_serve_is_rejected_with_the_reason() -> None:
    """10,000 requests/s on at most 2 H100s: no configuration; rejections name the rate."""
    result = rate_plan(10_000, max_gpus=2)
    assert not result.configurations
    assert any("10000 requests/s" in r.reason for r in result.rejected)
