"""A scheduler that looks for new requests every P decode steps makes arrivals wait P/2 steps."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.batching import at_arrival_rate, at_concurrency
from service.domain.benchmark_sim import simulate_closed_loop
from service.domain.engine import EngineProfile
from service.domain.engines.profile import on_engine
from service.domain.latency import Serving
from service.domain.step_time import StepCosts, step_costs
from tests.domain.reference import H100, IDEAL, arch, params

STEP_TOKENS = 8192
MAX_BATCH = 256


def _costs(interval: int) -> StepCosts:
    serving = Serving(gpu=H100, admission_interval_steps=interval)
    return step_costs(
        arch("llama3-8b"), params("llama3-8b"), serving, input_tokens=1000, output_tokens=500
    )


@pytest.mark.parametrize("interval", [2, 10, 30], ids=["2", "10", "30"])
def test_an_arrival_waits_half_the_interval_in_decode_steps(interval: int) -> None:
    """At a fixed arrival rate (so a fixed decode batch) TTFT grows by (P − 1)/2 · TPOT."""
    every = at_arrival_rate(
        _costs(1), IDEAL, chunk_tokens=STEP_TOKENS, max_batch=MAX_BATCH, arrival_rate_per_s=5.0
    )
    polled = at_arrival_rate(
        _costs(interval),
        IDEAL,
        chunk_tokens=STEP_TOKENS,
        max_batch=MAX_BATCH,
        arrival_rate_per_s=5.0,
    )
    assert every.decode_batch >= 1
    assert polled.tpot_ms == every.tpot_ms
    expected_ms = (interval - 1) / 2 * every.tpot_ms
    assert polled.ttft_ms - every.ttft_ms == pytest.approx(expected_ms, rel=1e-9)


def test_one_user_finds_an_idle_scheduler_that_looks_at_once() -> None:
    """Alone, a request arrives at an idle scheduler: the interval adds nothing."""
    states = [
        at_concurrency(
            _costs(interval), IDEAL, chunk_tokens=STEP_TOKENS, max_batch=MAX_BATCH, concurrency=1
        )
        for interval in (1, 30)
    ]
    assert states[0].ttft_ms == states[1].ttft_ms


@pytest.mark.parametrize("users", [2, 16, 64], ids=["2", "16", "64"])
def test_a_longer_interval_lengthens_ttft_under_load(users: int) -> None:
    """With others decoding, looking every 30 steps costs TTFT, never TPOT."""
    every, polled = (
        at_concurrency(
            _costs(interval),
            IDEAL,
            chunk_tokens=STEP_TOKENS,
            max_batch=MAX_BATCH,
            concurrency=users,
        )
        for interval in (1, 30)
    )
    assert polled.ttft_ms > every.ttft_ms
    assert polled.tpot_ms <= every.tpot_ms


@pytest.mark.parametrize(
    ("settings", "interval"),
    [({}, 1), ({"scheduler_recv_interval": 30}, 30), ({"mem_fraction_static": 0.8}, 1)],
    ids=["unset", "recv-30", "other-knob"],
)
def test_the_engine_hand_off_takes_the_interval_from_the_knobs(
    settings: dict[str, object], interval: int
) -> None:
    """``on_engine`` sets the interval from ``scheduler_recv_interval``, else every step."""
    profile = msgspec.convert(
        {"name": "sglang", "version": "0.5.3", "kind": "sglang"}, EngineProfile
    )
    assert on_engine(Serving(gpu=H100), profile, settings).admission_interval_steps == interval


@pytest.mark.parametrize(("users", "longer"), [(1, False), (16, True)], ids=["alone", "16"])
def test_the_replayed_benchmark_waits_for_the_look_under_load(users: int, longer: bool) -> None:
    """The closed-loop replay holds arrivals until the scheduler looks: under load the mean
    TTFT grows, alone (an idle scheduler looks at once) it is unchanged."""
    every, polled = (
        simulate_closed_loop(
            _costs(interval),
            IDEAL,
            clients=users,
            num_prompts=10 * users,
            chunk_tokens=STEP_TOKENS,
            max_batch=MAX_BATCH,
            mixed_prefill=False,
            length_ratio=0.8,
        )
        for interval in (1, 30)
    )
    assert (polled.mean_ttft_ms > every.mean_ttft_ms) is longer
    assert polled.mean_ttft_ms >= every.mean_ttft_ms
