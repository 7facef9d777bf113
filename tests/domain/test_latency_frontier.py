"""The frontier: concurrency 1 … saturation, per-user and per-GPU rates, the SLO's best point."""

from __future__ import annotations

import pytest

from service.domain.batching import saturation_point
from service.domain.frontier import concurrency_grid, frontier
from service.domain.latency import Efficiency, Serving
from service.domain.step_time import StepCosts, step_costs
from tests.domain.reference import H100, arch, params

SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)
TP2 = Serving(gpu=H100, tensor_parallel=2)


def costs(isl: int = 2000, osl: int = 400) -> StepCosts:
    model = "llama3-8b"
    return step_costs(arch(model), params(model), TP2, input_tokens=isl, output_tokens=osl)


@pytest.mark.parametrize(
    ("saturation", "expected"),
    [(1, [1]), (5, [1, 2, 3, 4, 5]), (20, [1, 2, 3, 4, 6, 8, 12, 16, 20])],
    ids=["one", "five", "twenty"],
)
def test_grid_steps_by_about_root_two_and_ends_at_saturation(
    saturation: int, expected: list[int]
) -> None:
    """1, 2, 3, 4, 6, 8, 12, 16, … then the saturation concurrency itself."""
    assert concurrency_grid(saturation) == expected


def test_the_last_point_is_the_saturation_point() -> None:
    """The curve ends where the replica saturates; its throughput is the maximum."""
    curve = frontier(costs(), SHEET, chunk_tokens=2048, max_batch=64, gpus=2)
    knee = saturation_point(costs(), SHEET, chunk_tokens=2048, max_batch=64)
    assert curve.points[-1].concurrency == curve.saturation_concurrency
    assert curve.max_output_tokens_per_s == pytest.approx(knee.output_tokens_per_s, rel=1e-6)


def test_rates_per_user_and_per_gpu_are_what_they_say() -> None:
    """Per user = 1000 / TPOT; per GPU = total / (tp · pp)."""
    for point in frontier(costs(), SHEET, chunk_tokens=2048, max_batch=64, gpus=2).points:
        assert point.output_tokens_per_s_per_user == pytest.approx(1e3 / point.tpot_ms)
        assert point.output_tokens_per_s_per_gpu == pytest.approx(point.output_tokens_per_s / 2)


def test_the_best_point_within_the_slo_is_the_busiest_that_meets_it() -> None:
    """A TPOT target splits the curve; the best point is the highest throughput meeting it."""
    plain = frontier(costs(), SHEET, chunk_tokens=2048, max_batch=64, gpus=2)
    target = plain.points[len(plain.points) // 2].tpot_ms
    judged = frontier(costs(), SHEET, chunk_tokens=2048, max_batch=64, gpus=2, slo_tpot_ms=target)
    meeting = [p for p in judged.points if p.meets_slo]
    assert judged.best_meeting_slo is not None
    assert judged.best_meeting_slo == max(meeting, key=lambda p: p.output_tokens_per_s)
    assert all(p.meets_slo is None for p in plain.points)
