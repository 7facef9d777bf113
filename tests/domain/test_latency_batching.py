"""Continuous batching with chunked prefill: steady-state TTFT and TPOT, and burst TTFT."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.batching import (
    Limit,
    at_arrival_rate,
    at_concurrency,
)
from service.domain.burst import _ceil_sum, burst_mean_ttft_seconds, burst_ttft_seconds
from service.domain.latency import (
    Efficiency,
    Serving,
    decode_terms,
    phase_seconds,
    prefill_terms,
)
from service.domain.precision import Precision
from service.domain.step_time import StepCosts, step_costs, step_seconds
from tests.domain.reference import H100, IDEAL, arch, params

LLAMA3_8B_H100 = Serving(gpu=H100)
LLAMA3_70B_FP8_TP8 = Serving(
    gpu=H100, tensor_parallel=8, weight_precision=Precision.FP8, kv_precision=Precision.FP8
)
SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)


def costs(model: str, serving: Serving, isl: int, osl: int) -> StepCosts:
    return step_costs(arch(model), params(model), serving, input_tokens=isl, output_tokens=osl)


@pytest.mark.parametrize(
    ("model", "batch"),
    [("llama3-8b", 1), ("llama3-8b", 64), ("mixtral-8x7b", 16)],
    ids=["8b-b1", "8b-b64", "mixtral-b16"],
)
def test_a_step_without_prompt_tokens_is_a_decode_step(model: str, batch: int) -> None:
    """No prompt tokens in the step: exactly the roofline decode step at the mean context."""
    serving = Serving(gpu=H100, tensor_parallel=2)
    step = costs(model, serving, 1000, 200)
    terms = decode_terms(arch(model), params(model), serving, batch=batch, context=1100)
    expected = phase_seconds(terms, SHEET, mfu=SHEET.decode_mfu, mbu=SHEET.decode_mbu)
    got = step_seconds(step, SHEET, decode_batch=batch, prompt_tokens=0)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("model", ["llama3-8b", "mixtral-8x7b"], ids=["dense", "moe"])
def test_a_step_of_one_whole_prompt_is_its_prefill(model: str) -> None:
    """No decodes and the whole prompt in the step: exactly the roofline prefill pass."""
    step = costs(model, LLAMA3_8B_H100, 3000, 100)
    terms = prefill_terms(arch(model), params(model), LLAMA3_8B_H100, prompts=1, tokens=3000)
    expected = phase_seconds(terms, SHEET, mfu=SHEET.prefill_mfu, mbu=SHEET.prefill_mbu)
    got = step_seconds(step, SHEET, decode_batch=0, prompt_tokens=3000)
    assert got == pytest.approx(expected, rel=1e-12)


def test_one_user_alone_waits_only_for_its_own_prefill() -> None:
    """Llama-3-8B, 4,096-token prompt on an H100 at 100 % of peak: 65.9 TFLOP / 989 TF =
    66.6 ms (sheet §3.5), the whole TTFT when the chunk holds the prompt and nobody else
    is served."""
    state = at_concurrency(
        costs("llama3-8b", LLAMA3_8B_H100, 4096, 256),
        IDEAL,
        chunk_tokens=8192,
        max_batch=256,
        concurrency=1,
    )
    assert state.ttft_ms == pytest.approx(66.6, abs=0.05)
    assert state.queue_wait_ms == 0


def test_steady_state_ttft_is_one_prefill_not_the_whole_batch() -> None:
    """Issue 12's case: Llama-3.1-70B fp8 on 8xH100, 32 users, 4,000-token prompts. A
    request that finds 31 others decoding waits about one prefill (a few hundred ms), not
    the prefill of all 32 prompts (the burst, over 3 s)."""
    step = costs("llama3-70b", LLAMA3_70B_FP8_TP8, 4000, 256)
    state = at_concurrency(step, SHEET, chunk_tokens=2048, max_batch=256, concurrency=32)
    burst = burst_ttft_seconds(step, SHEET, prompts=32, chunk_tokens=2048, max_batch=4096) * 1e3
    alone = at_concurrency(step, SHEET, chunk_tokens=2048, max_batch=256, concurrency=1)
    assert alone.ttft_ms < state.ttft_ms < 1000
    assert burst > 3000


def test_tpot_includes_the_prompt_chunks_interleaved_into_decode_steps() -> None:
    """At 32 users with 4,000-token prompts and 256-token answers, a decode step also
    carries others' prompt chunks: TPOT is longer than a pure decode step at that batch."""
    step = costs("llama3-70b", LLAMA3_70B_FP8_TP8, 4000, 256)
    state = at_concurrency(step, SHEET, chunk_tokens=2048, max_batch=256, concurrency=32)
    pure = step_seconds(step, SHEET, decode_batch=state.decode_batch, prompt_tokens=0) * 1e3
    assert state.prompt_tokens_per_step > 0
    assert state.tpot_ms > pure


def test_closed_loop_obeys_littles_law() -> None:
    """Users = sequences decoding + requests started per second x time to first token."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 2000, 500)
    state = at_concurrency(step, SHEET, chunk_tokens=2048, max_batch=256, concurrency=40)
    in_prefill = state.arrival_rate_per_s * state.ttft_ms / 1e3
    assert state.decode_batch + in_prefill == pytest.approx(40, rel=1e-6)
    assert state.output_tokens_per_s == pytest.approx(state.arrival_rate_per_s * 500)


def test_users_beyond_the_batch_slots_queue_for_one() -> None:
    """With 8 slots and 64 users the batch stays at 8 and the TTFT holds the wait for a
    slot: each user's cycle is 64 / completed requests per second."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 500)
    state = at_concurrency(step, SHEET, chunk_tokens=2048, max_batch=8, concurrency=64)
    assert state.saturated
    assert state.limit is Limit.BATCH
    assert state.decode_batch == 8
    assert state.e2e_ms / 1e3 == pytest.approx(64 / state.arrival_rate_per_s, rel=1e-9)


def test_an_arrival_rate_above_capacity_saturates() -> None:
    """Requests arriving faster than the replica completes them: no steady state."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 500)
    capacity = at_concurrency(step, SHEET, chunk_tokens=2048, max_batch=8, concurrency=64)
    state = at_arrival_rate(
        step, SHEET, chunk_tokens=2048, max_batch=8, arrival_rate_per_s=capacity.arrival_rate_per_s
    )
    assert state.saturated
    assert state.ttft_ms == float("inf")


def test_a_light_arrival_rate_is_served_at_that_rate() -> None:
    """Below capacity the replica starts requests exactly as fast as they arrive."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 500)
    state = at_arrival_rate(step, SHEET, chunk_tokens=2048, max_batch=256, arrival_rate_per_s=2)
    assert not state.saturated
    assert state.arrival_rate_per_s == pytest.approx(2, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{"concurrency": 0}, {"concurrency": 4, "max_batch": 0}, {"concurrency": 4, "chunk_tokens": 0}],
    ids=["no-users", "no-slots", "no-chunk"],
)
def test_nonsense_loads_are_refused(kwargs: dict[str, int]) -> None:
    """Zero users, slots or chunk tokens raise ValueError."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 100)
    args = {"chunk_tokens": 2048, "max_batch": 64} | kwargs
    with pytest.raises(ValueError, match=">= 1"):
        at_concurrency(step, SHEET, **args)


@settings(max_examples=40, deadline=None)
@given(
    isl=st.integers(16, 16_000),
    osl=st.integers(2, 4000),
    users=st.integers(1, 300),
    chunk=st.sampled_from([512, 2048, 8192]),
)
def test_more_users_never_make_anything_faster(isl: int, osl: int, users: int, chunk: int) -> None:
    """Adding a user never lowers TTFT or TPOT, and never lowers the throughput."""
    step = costs("llama3-8b", LLAMA3_8B_H100, isl, osl)
    fewer, more = (
        at_concurrency(step, SHEET, chunk_tokens=chunk, max_batch=128, concurrency=c)
        for c in (users, users + 1)
    )
    assert more.ttft_ms >= fewer.ttft_ms * (1 - 1e-6)
    assert more.tpot_ms >= fewer.tpot_ms * (1 - 1e-6)
    assert more.output_tokens_per_s >= fewer.output_tokens_per_s * (1 - 1e-6)


BURSTS = [(1, 2048), (4, 8192), (32, 2048), (7, 3000)]


@pytest.mark.parametrize(("prompts", "budget"), BURSTS, ids=[f"{p}x-{b}" for p, b in BURSTS])
def test_a_bursts_mean_first_token_is_at_most_its_last(prompts: int, budget: int) -> None:
    """The mean first-token time of a burst lies between one step and the last prompt's."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 200)
    mean = burst_mean_ttft_seconds(
        step, SHEET, prompts=prompts, chunk_tokens=budget, max_batch=4096
    )
    last = burst_ttft_seconds(step, SHEET, prompts=prompts, chunk_tokens=budget, max_batch=4096)
    assert mean <= last * (1 + 1e-12)
    assert mean >= last / max(1, -(-prompts * 1000 // budget)) * (1 - 1e-12)


def test_a_burst_within_one_step_gives_every_prompt_the_same_first_token() -> None:
    """Prompts that fit one step all get their first token after it: mean equals last."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 200)
    mean = burst_mean_ttft_seconds(step, SHEET, prompts=8, chunk_tokens=8192, max_batch=4096)
    assert mean == burst_ttft_seconds(step, SHEET, prompts=8, chunk_tokens=8192, max_batch=4096)


def test_a_long_burst_averages_about_half_its_last_first_token() -> None:
    """32 prompts over 16 steps finish in order: the mean is about half of the last one's."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 200)
    mean = burst_mean_ttft_seconds(step, SHEET, prompts=32, chunk_tokens=2000, max_batch=4096)
    last = burst_ttft_seconds(step, SHEET, prompts=32, chunk_tokens=2000, max_batch=4096)
    assert mean / last == pytest.approx(17 / 32, rel=0.02)


def test_a_burst_past_the_batch_ceiling_comes_in_waves() -> None:
    """Twice the ceiling: the second wave waits for the first to prefill, decode and leave."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 200)
    one_wave = burst_ttft_seconds(step, SHEET, prompts=16, chunk_tokens=8192, max_batch=16)
    two_waves = burst_ttft_seconds(step, SHEET, prompts=32, chunk_tokens=8192, max_batch=16)
    decode_s = 199 * step_seconds(step, SHEET, decode_batch=16, prompt_tokens=0)
    assert two_waves == pytest.approx(2 * one_wave + decode_s, rel=1e-12)


def test_a_burst_within_the_ceiling_ignores_it() -> None:
    """A ceiling above the burst changes nothing."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 1000, 200)
    low = burst_ttft_seconds(step, SHEET, prompts=32, chunk_tokens=2048, max_batch=32)
    high = burst_ttft_seconds(step, SHEET, prompts=32, chunk_tokens=2048, max_batch=4096)
    assert low == high


@settings(max_examples=60, deadline=None)
@given(prompts=st.integers(1, 300), ceiling=st.integers(1, 64), budget=st.integers(256, 16384))
def test_a_bursts_mean_never_exceeds_its_last_and_grows_with_it(
    prompts: int, ceiling: int, budget: int
) -> None:
    """Mean ≤ last, and one more prompt never makes the last first token earlier."""
    step = costs("llama3-8b", LLAMA3_8B_H100, 700, 50)
    now = burst_mean_ttft_seconds(
        step, SHEET, prompts=prompts, chunk_tokens=budget, max_batch=ceiling
    )
    last = burst_ttft_seconds(step, SHEET, prompts=prompts, chunk_tokens=budget, max_batch=ceiling)
    more = burst_ttft_seconds(
        step, SHEET, prompts=prompts + 1, chunk_tokens=budget, max_batch=ceiling
    )
    assert now <= last * (1 + 1e-12)
    assert more >= last * (1 - 1e-12)


@given(n=st.integers(1, 500), k=st.integers(1, 500))
def test_the_ceiling_sum_has_its_closed_form(n: int, k: int) -> None:
    """Σ ⌈i·k/n⌉ over i = 1..n, in closed form, equals the sum itself."""
    assert _ceil_sum(n, k) == sum(-(-i * k // n) for i in range(1, n + 1))
