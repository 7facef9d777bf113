"""An eager prompt step takes at least its host's launch time; a decode step does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.host_launch import EagerPrefill, eager_floor_seconds
from service.domain.latency import Bound, Serving
from service.domain.moe import moe_layer_count
from service.domain.step_time import StepCosts, step_costs, step_phase, step_seconds
from tests.domain.reference import H100, IDEAL, arch, params

EAGER = EagerPrefill(dense_layer_us=500.0, moe_layer_us=1_500.0)


@pytest.mark.parametrize(
    ("model", "dense_layers", "moe_layers"),
    [("llama3-8b", 32, 0), ("qwen3-30b-a3b", 0, 48), ("deepseek-v2-lite", 1, 26)],
    ids=["dense", "all-moe", "first-layer-dense"],
)
def test_floor_counts_each_layer_at_its_kind(
    model: str, dense_layers: int, moe_layers: int
) -> None:
    """The floor is dense layers × dense µs + MoE layers × MoE µs."""
    assert moe_layer_count(arch(model)) == moe_layers
    expected_s = (dense_layers * 500.0 + moe_layers * 1_500.0) * 1e-6
    assert eager_floor_seconds(arch(model), EAGER) == pytest.approx(expected_s)


def _costs(model: str, eager: EagerPrefill, input_tokens: int = 64) -> StepCosts:
    serving = Serving(gpu=H100, eager_prefill=eager)
    return step_costs(
        arch(model), params(model), serving, input_tokens=input_tokens, output_tokens=64
    )


def test_a_short_eager_prompt_step_takes_the_host_floor() -> None:
    """One 64-token prompt on an H100 computes in far less than 32 × 500 µs."""
    step_s = step_seconds(_costs("llama3-8b", EAGER), IDEAL, decode_batch=0.0, prompt_tokens=64)
    assert step_s == pytest.approx(32 * 500e-6)


def test_a_decode_step_is_graphed_and_never_floored() -> None:
    """A step without prompt tokens costs its GPU time whatever the engine's host figure."""
    eager = step_seconds(_costs("llama3-8b", EAGER), IDEAL, decode_batch=8.0, prompt_tokens=0.0)
    plain = _costs("llama3-8b", EagerPrefill())
    none = step_seconds(plain, IDEAL, decode_batch=8.0, prompt_tokens=0.0)
    assert eager == none < 32 * 500e-6


def test_a_long_prompt_outlasts_the_host() -> None:
    """Once the GPU's work is longer than the host's launches the floor changes nothing."""
    long = _costs("llama3-8b", EAGER, input_tokens=32_768)
    none = _costs("llama3-8b", EagerPrefill(), input_tokens=32_768)
    eager_s = step_seconds(long, IDEAL, decode_batch=0.0, prompt_tokens=32_768)
    assert eager_s == step_seconds(none, IDEAL, decode_batch=0.0, prompt_tokens=32_768)
    assert eager_s > 32 * 500e-6


def test_a_floored_step_is_bound_by_the_host() -> None:
    """The phase names the host as its bound and counts the wait as overhead."""
    phase = step_phase(_costs("llama3-8b", EAGER), IDEAL, decode_batch=0.0, prompt_tokens=64)
    assert phase.bound is Bound.HOST
    assert phase.ms == pytest.approx(16.0)
    assert phase.overhead_ms + phase.compute_ms + phase.memory_ms >= phase.ms


@settings(max_examples=50, deadline=None)
@given(
    tokens=st.integers(1, 65_536),
    decodes=st.integers(0, 256),
    dense_us=st.floats(0.0, 3_000.0),
    moe_us=st.floats(0.0, 3_000.0),
)
def test_the_floor_never_shortens_a_step(
    tokens: int, decodes: int, dense_us: float, moe_us: float
) -> None:
    """With a floor a step is the larger of its GPU time and the floor, never shorter."""
    eager = EagerPrefill(dense_layer_us=dense_us, moe_layer_us=moe_us)
    floored = _costs("qwen3-30b-a3b", eager, input_tokens=tokens)
    plain = _costs("qwen3-30b-a3b", EagerPrefill(), input_tokens=tokens)
    with_floor = step_seconds(floored, IDEAL, decode_batch=decodes, prompt_tokens=tokens)
    without = step_seconds(plain, IDEAL, decode_batch=decodes, prompt_tokens=tokens)
    assert with_floor == pytest.approx(max(without, 48 * moe_us * 1e-6))
