"""The knee of the curve is finite: the prompt-budget cap stays below the prompt path's jump.

`make fuzz` (bench/fuzz.py) found ``GET /v1/frontier.svg`` answering 500 for 1-token prompts:
the bisection for the prompt-budget cap returned a bracket midpoint past the batch where a
prompt piece rides every step, where ρ jumps to 1 and the M/D/1 wait is infinite.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.batching import at_concurrency, saturation_point
from service.domain.frontier import frontier
from service.domain.latency import Efficiency, Serving
from service.domain.step_time import StepCosts, step_costs
from tests.domain.reference import H100, arch, params

SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)
ONE_GPU = Serving(gpu=H100, tensor_parallel=1)


def costs(isl: int, osl: int) -> StepCosts:
    model = "llama3-8b"
    return step_costs(arch(model), params(model), ONE_GPU, input_tokens=isl, output_tokens=osl)


def test_one_token_prompts_have_a_finite_knee_and_frontier() -> None:
    """ISL = OSL = 1 with an 8192-token step (the fuzz case): finite knee, a whole curve."""
    knee = saturation_point(costs(1, 1), SHEET, chunk_tokens=8192, max_batch=1317)
    curve = frontier(costs(1, 1), SHEET, chunk_tokens=8192, max_batch=1317, gpus=1)

    assert math.isfinite(knee.concurrency)
    assert math.isfinite(knee.ttft_ms)
    assert curve.saturation_concurrency >= 1
    assert all(math.isfinite(point.ttft_ms) for point in curve.points)


@settings(max_examples=60, deadline=None)
@given(
    isl=st.integers(min_value=1, max_value=64),
    osl=st.integers(min_value=1, max_value=64),
    chunk=st.sampled_from([512, 2048, 8192, 16384]),
    max_batch=st.integers(min_value=1, max_value=4096),
)
def test_the_knee_is_finite_for_short_requests(
    isl: int, osl: int, chunk: int, max_batch: int
) -> None:
    """Short prompts and answers on a large step budget: the knee's users and TTFT are finite."""
    knee = saturation_point(costs(isl, osl), SHEET, chunk_tokens=chunk, max_batch=max_batch)

    assert math.isfinite(knee.concurrency)
    assert math.isfinite(knee.ttft_ms)


@settings(max_examples=60, deadline=None)
@given(
    isl=st.sampled_from([1, 2, 1000, 100_000, 1_000_000, 10_000_000]),
    osl=st.sampled_from([1, 2, 10, 1000]),
    chunk=st.sampled_from([512, 8192]),
    users=st.integers(min_value=1, max_value=256),
)
def test_prompt_bound_loads_still_complete_requests(
    isl: int, osl: int, chunk: int, users: int
) -> None:
    """Long prompts, short answers (POST /v1/latency's fuzz case): a positive completion rate."""
    state = at_concurrency(
        costs(isl, osl), SHEET, chunk_tokens=chunk, max_batch=1024, concurrency=users
    )

    assert state.arrival_rate_per_s > 0
    assert math.isfinite(state.ttft_ms)
