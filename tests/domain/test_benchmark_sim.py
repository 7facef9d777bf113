"""The closed-loop benchmark replayed step by step (service/domain/benchmark_sim.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.benchmark_sim import (
    SimulationTooLong,
    request_lengths,
    simulate_closed_loop,
)
from service.domain.latency import Efficiency, Serving
from service.domain.step_time import StepCosts, step_costs, step_seconds
from tests.domain.reference import H100, arch, params

SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)


def costs(isl: int, osl: int, model: str = "llama3-8b") -> StepCosts:
    return step_costs(
        arch(model), params(model), Serving(gpu=H100), input_tokens=isl, output_tokens=osl
    )


def ms(costs_: StepCosts, decode_batch: int, prompt_tokens: int) -> float:
    step = step_seconds(costs_, SHEET, decode_batch=decode_batch, prompt_tokens=prompt_tokens)
    return step * 1e3


def test_one_client_sends_its_requests_one_after_another() -> None:
    """One client: each request is one prefill step alone, then OSL-1 decode steps of one."""
    step = costs(1000, 100)
    run = simulate_closed_loop(
        step, SHEET, clients=1, num_prompts=5, chunk_tokens=8192, max_batch=64
    )
    assert run.mean_ttft_ms == pytest.approx(ms(step, 0, 1000), rel=1e-12)
    assert run.mean_tpot_ms == pytest.approx(ms(step, 1, 0), rel=1e-12)
    assert run.duration_ms == pytest.approx(5 * (ms(step, 0, 1000) + 99 * ms(step, 1, 0)))


def test_simultaneous_clients_within_the_budget_share_one_prefill_step() -> None:
    """N clients, one wave, N*ISL <= budget: every TTFT is one step over all N prompts."""
    step = costs(1000, 50)
    run = simulate_closed_loop(
        step, SHEET, clients=8, num_prompts=8, chunk_tokens=8192, max_batch=64
    )
    assert run.mean_ttft_ms == pytest.approx(ms(step, 0, 8000), rel=1e-12)
    assert run.median_ttft_ms == pytest.approx(ms(step, 0, 8000), rel=1e-12)
    assert run.mean_tpot_ms == pytest.approx(ms(step, 8, 0), rel=1e-12)


def test_a_prompt_over_the_budget_is_chunked_over_steps() -> None:
    """One 10,000-token prompt in 4,096-token steps: three steps (4,096, 4,096, 1,808)."""
    step = costs(10_000, 10)
    run = simulate_closed_loop(
        step, SHEET, clients=1, num_prompts=1, chunk_tokens=4096, max_batch=8
    )
    expected = 2 * ms(step, 0, 4096) + ms(step, 0, 1808)
    assert run.mean_ttft_ms == pytest.approx(expected, rel=1e-12)


def test_without_chunking_prompts_over_the_rest_of_the_budget_wait() -> None:
    """TensorRT-LLM without chunked prefill: two 5,000-token prompts in 8,192-token steps
    take one step each (the second waits), where chunking splits the second over both."""
    step = costs(5000, 2)
    whole = simulate_closed_loop(
        step,
        SHEET,
        clients=2,
        num_prompts=2,
        chunk_tokens=8192,
        max_batch=8,
        chunked_prefill=False,
    )
    first = ms(step, 0, 5000)
    assert whole.mean_ttft_ms == pytest.approx((first + first + ms(step, 1, 5000)) / 2)


@pytest.mark.parametrize("mixed", [True, False], ids=["vllm-mixed", "sglang-apart"])
def test_a_second_prompt_shares_or_stalls_the_first_requests_step(mixed: bool) -> None:
    """Two clients, one prompt per step, OSL 3. Mixed (vLLM): step 2 carries A's decode and
    B's prompt. Apart (SGLang): step 2 is B's prompt alone, A stalls."""
    isl = 700
    step = costs(isl, 3)
    run = simulate_closed_loop(
        step,
        SHEET,
        clients=2,
        num_prompts=2,
        chunk_tokens=isl + 1,
        max_batch=8,
        chunked_prefill=False,
        mixed_prefill=mixed,
    )
    if mixed:  # A: 1 prefill, 2 (decode+B), 3 (A, B decode); B: 4 (decode)
        tpot_a = (ms(step, 1, isl) + ms(step, 2, 0)) / 2
        tpot_b = (ms(step, 2, 0) + ms(step, 1, 0)) / 2
        ttft_b = ms(step, 0, isl) + ms(step, 1, isl)
    else:  # A: 1 prefill, 2 B's prefill (stall), 3-4 both decode
        tpot_a = (ms(step, 0, isl) + 2 * ms(step, 2, 0)) / 2
        tpot_b = ms(step, 2, 0)
        ttft_b = 2 * ms(step, 0, isl)
    assert run.mean_tpot_ms == pytest.approx((tpot_a + tpot_b) / 2, rel=1e-12)
    assert run.mean_ttft_ms == pytest.approx((ms(step, 0, isl) + ttft_b) / 2, rel=1e-12)


def test_the_batch_cap_queues_clients_beyond_it() -> None:
    """More clients than slots: the rest wait a whole request's time for a slot."""
    step = costs(128, 100)
    capped = simulate_closed_loop(
        step, SHEET, clients=16, num_prompts=16, chunk_tokens=8192, max_batch=8
    )
    first = ms(step, 0, 8 * 128)
    assert capped.mean_ttft_ms > first + 99 * ms(step, 8, 0) / 2


@pytest.mark.parametrize("clients", [1, 4, 16], ids=["c1", "c4", "c16"])
def test_throughput_is_all_output_tokens_over_the_run(clients: int) -> None:
    """Output tok/s = num_prompts x OSL / the time until the last request ends."""
    run = simulate_closed_loop(
        costs(300, 40), SHEET, clients=clients, num_prompts=50, chunk_tokens=2048, max_batch=32
    )
    assert run.output_tokens == 50 * 40
    assert run.output_tokens_per_s == pytest.approx(2000 / (run.duration_ms / 1e3))


def test_work_past_the_bound_is_refused() -> None:
    """A run needing more scheduler iterations than allowed raises, never runs on."""
    with pytest.raises(SimulationTooLong):
        simulate_closed_loop(
            costs(4096, 4),
            SHEET,
            clients=1,
            num_prompts=1000,
            chunk_tokens=512,
            max_batch=4,
            max_events=100,
        )


@settings(max_examples=40, deadline=None)
@given(
    isl=st.integers(1, 3000),
    osl=st.integers(1, 200),
    clients=st.integers(1, 40),
    per_client=st.integers(1, 4),
    chunk=st.integers(256, 8192),
    max_batch=st.integers(1, 64),
    chunked=st.booleans(),
    mixed=st.booleans(),
    ratio=st.sampled_from([1.0, 0.8, 0.3]),
)
def test_every_request_ends_and_times_are_ordered(
    isl: int,
    osl: int,
    clients: int,
    per_client: int,
    chunk: int,
    max_batch: int,
    chunked: bool,
    mixed: bool,
    ratio: float,
) -> None:
    """Any closed loop ends: every request's tokens produced, TTFT at least one lone prefill
    of the shortest prompt's first chunk, e2e >= TTFT, the run no shorter than a request."""
    step = costs(isl, osl)
    prompts = clients * per_client
    run = simulate_closed_loop(
        step,
        SHEET,
        clients=clients,
        num_prompts=prompts,
        chunk_tokens=chunk,
        max_batch=max_batch,
        chunked_prefill=chunked,
        mixed_prefill=mixed,
        length_ratio=ratio,
    )
    lengths = [request_lengths(k, isl, osl, ratio) for k in range(1, prompts + 1)]
    assert run.output_tokens == sum(out for _, out in lengths)
    shortest = min(*(prompt for prompt, _ in lengths), chunk)
    assert run.mean_ttft_ms >= ms(step, 0, shortest) * (1 - 1e-9)
    assert run.mean_e2e_ms >= run.mean_ttft_ms
    assert run.duration_ms >= run.mean_e2e_ms * (1 - 1e-9)
    assert run.median_ttft_ms <= run.duration_ms * (1 + 1e-9)


@settings(max_examples=30, deadline=None)
@given(
    isl=st.integers(16, 4000),
    clients=st.integers(1, 48),
    chunk=st.integers(512, 8192),
)
def test_one_wave_ttft_never_falls_with_more_clients(isl: int, clients: int, chunk: int) -> None:
    """One wave of N simultaneous prompts: one more client never lowers the mean TTFT
    (the newcomer is served last, and nobody earlier is served later than before)."""
    step = costs(isl, 16)

    def ttft(n: int) -> float:
        return simulate_closed_loop(
            step, SHEET, clients=n, num_prompts=n, chunk_tokens=chunk, max_batch=64
        ).mean_ttft_ms

    assert ttft(clients + 1) >= ttft(clients) * (1 - 1e-9)


def test_bad_sizes_are_refused() -> None:
    """Zero clients, prompts, budget or batch is a ValueError."""
    with pytest.raises(ValueError, match="must be >= 1"):
        simulate_closed_loop(
            costs(10, 10), SHEET, clients=0, num_prompts=1, chunk_tokens=8, max_batch=1
        )


@pytest.mark.parametrize(
    ("ratio", "low"), [(1.0, 1024), (0.8, 819), (0.5, 512)], ids=["fixed", "r0.8", "r0.5"]
)
def test_spread_lengths_cover_the_clients_range(ratio: float, low: int) -> None:
    """--random-range-ratio r: lengths in [floor(r*L), L], both ends reached over 1,000
    requests, their mean near the range's middle."""
    lengths = [request_lengths(k, 1024, 1024, ratio) for k in range(1, 1001)]
    for side in (0, 1):
        values = [pair[side] for pair in lengths]
        assert min(values) == low
        assert max(values) == 1024
        assert sum(values) / len(values) == pytest.approx((low + 1024) / 2, abs=2)


def test_spread_lengths_produce_their_own_tokens() -> None:
    """With spread lengths every request's own OSL is produced, no more."""
    step = costs(512, 200)
    run = simulate_closed_loop(
        step,
        SHEET,
        clients=8,
        num_prompts=40,
        chunk_tokens=2048,
        max_batch=32,
        length_ratio=0.8,
    )
    expected = sum(request_lengths(k, 512, 200, 0.8)[1] for k in range(1, 41))
    assert run.output_tokens == expected


def test_a_ratio_outside_zero_to_one_is_refused() -> None:
    """length_ratio must lie in [0, 1] (0 is sglang.bench_serving's default: lengths from 1 up)."""
    with pytest.raises(ValueError, match="length_ratio"):
        simulate_closed_loop(
            costs(10, 10),
            SHEET,
            clients=1,
            num_prompts=1,
            chunk_tokens=8,
            max_batch=1,
            length_ratio=1.5,
        )


def test_a_ratio_of_zero_spreads_lengths_from_one_token() -> None:
    """Ratio 0 (sglang.bench_serving's default) draws lengths from 1 token up to L."""
    lengths = [request_lengths(k, 1000, 1000, 0.0) for k in range(1, 401)]
    assert min(i for i, _ in lengths) < 20
    assert 450 < sum(i for i, _ in lengths) / len(lengths) < 550
