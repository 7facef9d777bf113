"""An offline throughput benchmark's schedule, priced afterwards (offline_schedule)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.benchmark_sim import simulate_closed_loop
from service.domain.offline_benchmark import offline_schedule, schedule_seconds
from tests.domain.test_benchmark_sim import SHEET, costs


@settings(max_examples=40, deadline=None)
@given(
    isl=st.integers(1, 3000),
    osl=st.integers(1, 300),
    requests=st.integers(1, 400),
    chunk=st.integers(16, 8192),
    batch=st.integers(1, 256),
    resolution=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_every_prompt_token_and_decode_is_scheduled_once(
    isl: int, osl: int, requests: int, chunk: int, batch: int, resolution: float
) -> None:
    """Σ count·prompt tokens = requests·ISL, Σ count·decodes = requests·(OSL − 1), merged or not."""
    schedule = offline_schedule(
        input_tokens=isl,
        output_tokens=osl,
        requests=requests,
        chunk_tokens=chunk,
        max_batch=batch,
        resolution=resolution,
    )
    prompt = sum(s.count * s.prompt_tokens for s in schedule)
    decodes = sum(s.count * s.decode_batch for s in schedule)
    assert prompt == pytest.approx(requests * isl, rel=1e-9)
    assert decodes == pytest.approx(requests * (osl - 1), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("isl", "osl", "requests", "chunk", "batch"),
    [(1000, 200, 300, 4096, 64), (128, 128, 1000, 2048, 256), (5000, 50, 40, 2048, 16)],
    ids=["prompt-ramp", "short-many-waves", "chunked-long-prompts"],
)
def test_the_schedule_priced_equals_the_offline_run_replayed(
    isl: int, osl: int, requests: int, chunk: int, batch: int
) -> None:
    """All requests queued at once: the schedule's time is the replayed benchmark's duration."""
    step = costs(isl, osl)
    run = simulate_closed_loop(
        step, SHEET, clients=requests, num_prompts=requests, chunk_tokens=chunk, max_batch=batch
    )
    schedule = offline_schedule(
        input_tokens=isl, output_tokens=osl, requests=requests, chunk_tokens=chunk, max_batch=batch
    )
    assert schedule_seconds(schedule, step, SHEET) * 1e3 == pytest.approx(run.duration_ms, rel=1e-9)


@pytest.mark.parametrize("model", ["llama3-8b", "mixtral-8x7b"], ids=["dense", "moe"])
def test_merged_steps_price_within_a_tenth_of_a_percent(model: str) -> None:
    """Steps merged in 2x bins cost within 0.1 % of the step-by-step schedule."""
    step = costs(1024, 512, model)
    shape = {"input_tokens": 1024, "output_tokens": 512, "requests": 700, "chunk_tokens": 3072}
    exact = offline_schedule(**shape, max_batch=300)
    merged = offline_schedule(**shape, max_batch=300, resolution=1.0)
    assert len(merged) < len(exact)
    assert schedule_seconds(merged, step, SHEET) == pytest.approx(
        schedule_seconds(exact, step, SHEET), rel=1e-3
    )


def test_a_last_partial_wave_costs_more_than_its_share() -> None:
    """One request past a full wave adds a whole decode stretch: throughput falls."""
    step = costs(512, 256)

    def tokens_per_s(requests: int) -> float:
        schedule = offline_schedule(
            input_tokens=512, output_tokens=256, requests=requests, chunk_tokens=8192, max_batch=64
        )
        return requests * 256 / schedule_seconds(schedule, step, SHEET)

    assert tokens_per_s(65) < 0.75 * tokens_per_s(64)
