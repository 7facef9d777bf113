"""Continuous batching: saturated throughput and queueing invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.saturation import (
    ContinuousBatching,
    prefill_chunk_tokens,
    queueing,
    saturated_throughput,
    steady_state_batch,
)

ENGINE = ContinuousBatching(name="test")
rates = st.floats(min_value=0.0, max_value=1e4, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)
ttfts = st.floats(min_value=0.0, max_value=1e5, allow_nan=False)


@given(arrival=rates, service=positive, ttft=ttfts)
def test_queueing_never_shortens_ttft(arrival: float, service: float, ttft: float) -> None:
    assert queueing(arrival, service, ttft).ttft_ms >= ttft


@given(arrival=rates, service=positive, ttft=ttfts)
def test_saturated_exactly_when_arrivals_reach_the_service_rate(
    arrival: float, service: float, ttft: float
) -> None:
    result = queueing(arrival, service, ttft)
    assert result.saturated == (arrival >= service)
    assert math.isinf(result.ttft_ms) == result.saturated
    assert result.utilisation == pytest.approx(arrival / service)


@given(low=rates, high=rates, service=positive)
def test_wait_grows_with_load(low: float, high: float, service: float) -> None:
    low, high = sorted((low, high))
    assert queueing(low, service, 0).queue_wait_ms <= queueing(high, service, 0).queue_wait_ms


def test_m_d_1_wait_at_half_load() -> None:
    """Pollaczek–Khinchine, deterministic service S = 1/μ: W = ρS/(2(1−ρ)); at μ = 10/s and
    ρ = 0.5 that is 0.5 · 100 ms / 1 = 50 ms."""
    assert queueing(5.0, 10.0, 20.0).queue_wait_ms == pytest.approx(50.0)
    assert queueing(5.0, 10.0, 20.0).ttft_ms == pytest.approx(70.0)


def test_negative_or_zero_rates_are_rejected() -> None:
    with pytest.raises(ValueError, match="rate"):
        queueing(-1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="rate"):
        queueing(1.0, 0.0, 0.0)


def test_saturated_throughput_formula() -> None:
    """B·OSL / (OSL·t_step + B·t_prefill): 64 slots, 100 tokens, 20 ms steps, 50 ms prefill:
    6400 / (2 + 3.2) s = 1230.8 tokens/s."""
    assert saturated_throughput(64, 100, 0.020, 0.050) == pytest.approx(6400 / 5.2)
    assert saturated_throughput(0, 100, 0.020, 0.050) == 0.0


@given(
    step=st.floats(min_value=1e-4, max_value=1.0),
    prefill=st.floats(min_value=0.0, max_value=1.0),
    batch=st.integers(min_value=1, max_value=4096),
    osl=st.integers(min_value=1, max_value=8192),
)
def test_throughput_is_bounded_by_the_decode_rate(
    step: float, prefill: float, batch: int, osl: int
) -> None:
    """Prefill work can only lower throughput below B / t_step."""
    assert saturated_throughput(batch, osl, step, prefill) <= batch / step * (1 + 1e-12)


@given(
    kv=st.floats(min_value=0, max_value=1e8),
    isl=st.integers(min_value=1, max_value=32768),
    osl=st.integers(min_value=1, max_value=32768),
)
def test_steady_state_batch_fits_the_cache_and_the_cap(kv: float, isl: int, osl: int) -> None:
    batch = steady_state_batch(kv, isl, osl, ENGINE)
    assert 0 <= batch <= ENGINE.max_batch_size
    assert batch * (isl + osl) <= kv


@given(
    batch=st.integers(min_value=0, max_value=4096),
    isl=st.integers(min_value=1, max_value=32768),
    osl=st.integers(min_value=1, max_value=32768),
)
def test_prefill_chunk_is_clamped(batch: int, isl: int, osl: int) -> None:
    chunk = prefill_chunk_tokens(batch, isl, osl, ENGINE)
    assert ENGINE.min_chunk_tokens <= chunk <= ENGINE.max_chunk_tokens
