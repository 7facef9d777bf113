"""A scheduler step with one kind of token is the roofline pass of latency.phase_seconds.

batching computes a deployment's step constants once (its per-configuration invariants) and
prices every step of the steady state from them; these check that arithmetic against the
independent pass formula of :mod:`service.domain.latency` for any dense costs and
efficiencies (the catalog models, MoE included, are checked in test_latency_batching).
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.batching import at_concurrency
from service.domain.latency import Efficiency, PhaseTerms, phase_seconds, phase_time
from service.domain.step_time import StepCosts, step_phase, step_seconds

seconds = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
fractions = st.floats(min_value=0.05, max_value=1.0)


@st.composite
def phase_terms(draw: st.DrawFn) -> PhaseTerms:
    return PhaseTerms(
        weight_read_s=draw(seconds),
        matmul_s=draw(seconds),
        kv_s=draw(seconds),
        attention_s=draw(seconds),
        communication_s=draw(seconds),
        all_reduces=draw(st.integers(0, 200)),
        layers=draw(st.integers(0, 200)),
        routing_s=draw(seconds),
    )


@st.composite
def dense_costs(draw: st.DrawFn) -> StepCosts:
    return StepCosts(
        decode=draw(phase_terms()),
        prompt=draw(phase_terms()),
        input_tokens=draw(st.integers(1, 200_000)),
        output_tokens=draw(st.integers(1, 20_000)),
        dense_weight_read_s=draw(seconds),
        verify_tokens=draw(st.integers(1, 8)),
        tokens_per_step=draw(st.floats(min_value=1.0, max_value=8.0)),
    )


@st.composite
def efficiencies(draw: st.DrawFn) -> Efficiency:
    return Efficiency(
        prefill_mfu=draw(fractions),
        prefill_mbu=draw(fractions),
        decode_mbu=draw(fractions),
        decode_mfu=draw(fractions),
        step_overhead_ms=draw(st.floats(min_value=0.01, max_value=10.0)),
        layer_overhead_us=draw(st.floats(min_value=0.0, max_value=100.0)),
        all_reduce_latency_us=draw(st.floats(min_value=0.0, max_value=50.0)),
        link_efficiency=draw(fractions),
    )


def fixed_counts(costs: StepCosts) -> dict[str, int]:
    """A step's all-reduces and layers: those of the larger pass, once per step."""
    d, p = costs.decode, costs.prompt
    return {
        "all_reduces": max(d.all_reduces, p.all_reduces),
        "layers": max(d.layers, p.layers),
    }


def decode_pass(costs: StepCosts, batch: float) -> PhaseTerms:
    """b sequences, v tokens each: one pass over b·v tokens, the weights read once."""
    d, run = costs.decode, batch * costs.verify_tokens
    return PhaseTerms(
        weight_read_s=costs.dense_weight_read_s,
        matmul_s=run * d.matmul_s,
        kv_s=batch * d.kv_s,
        attention_s=run * d.attention_s,
        communication_s=run * d.communication_s,
        routing_s=run * d.routing_s,
        **fixed_counts(costs),
    )


@settings(max_examples=300, deadline=None)
@given(dense_costs(), efficiencies(), st.floats(min_value=0.0, max_value=4096.0))
def test_a_decode_only_step_is_the_batchs_decode_pass(
    costs: StepCosts, eff: Efficiency, batch: float
) -> None:
    """b sequences, v tokens each, no prompt: the decode pass over b·v tokens (weights once)."""
    expected = phase_seconds(decode_pass(costs, batch), eff, mfu=eff.decode_mfu, mbu=eff.decode_mbu)
    got = step_seconds(costs, eff, decode_batch=batch, prompt_tokens=0)
    assert got == pytest.approx(expected, rel=1e-12)


@settings(max_examples=300, deadline=None)
@given(dense_costs(), efficiencies(), st.floats(min_value=0.0, max_value=4096.0))
def test_a_decode_only_step_phase_is_the_decode_pass_split(
    costs: StepCosts, eff: Efficiency, batch: float
) -> None:
    """step_phase of b decodes: the decode pass's time and parts (latency.phase_time)."""
    expected = phase_time(decode_pass(costs, batch), eff, mfu=eff.decode_mfu, mbu=eff.decode_mbu)
    got = step_phase(costs, eff, decode_batch=batch, prompt_tokens=0.0)
    times = ("ms", "compute_ms", "memory_ms", "communication_ms", "overhead_ms")
    assert [getattr(got, key) for key in times] == pytest.approx(
        [getattr(expected, key) for key in times], rel=1e-12, abs=1e-12
    )


@settings(max_examples=300, deadline=None)
@given(
    dense_costs(),
    efficiencies(),
    st.floats(min_value=0.0, max_value=4096.0),
    st.floats(min_value=0.0, max_value=1e6),
)
def test_a_step_phase_is_the_steps_time_at_most_its_parts(
    costs: StepCosts, eff: Efficiency, batch: float, prompt_tokens: float
) -> None:
    """Any step: ms is step_seconds, no more than compute + memory + communication + overhead."""
    phase = step_phase(costs, eff, decode_batch=batch, prompt_tokens=prompt_tokens)
    step = step_seconds(costs, eff, decode_batch=batch, prompt_tokens=prompt_tokens)
    parts = phase.compute_ms + phase.memory_ms + phase.communication_ms + phase.overhead_ms
    assert phase.ms == step * 1e3
    assert phase.ms <= parts * (1 + 1e-12)


@settings(max_examples=300, deadline=None)
@given(dense_costs(), efficiencies(), st.floats(min_value=0.0, max_value=1.0))
def test_a_prompt_only_step_is_its_share_of_the_prefill_pass(
    costs: StepCosts, eff: Efficiency, fraction: float
) -> None:
    """p prompt tokens, no decodes: p/ISL of the prompt pass (weights once, at one MBU)."""
    eff = msgspec.structs.replace(eff, prefill_mbu=eff.decode_mbu)
    p, tokens = costs.prompt, fraction * costs.input_tokens
    share = tokens / costs.input_tokens
    prompt_pass = PhaseTerms(
        weight_read_s=costs.dense_weight_read_s,
        matmul_s=share * p.matmul_s,
        kv_s=share * p.kv_s,
        attention_s=share * p.attention_s,
        communication_s=share * p.communication_s,
        routing_s=share * p.routing_s,
        **fixed_counts(costs),
    )
    expected = phase_seconds(prompt_pass, eff, mfu=eff.prefill_mfu, mbu=eff.prefill_mbu)
    got = step_seconds(costs, eff, decode_batch=0.0, prompt_tokens=tokens)
    assert got == pytest.approx(expected, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(dense_costs(), dense_costs(), efficiencies(), st.integers(1, 16_384), st.integers(1, 512))
def test_a_steady_state_depends_only_on_its_own_configuration(
    first: StepCosts, second: StepCosts, eff: Efficiency, chunk: int, users: int
) -> None:
    """Pricing another configuration in between leaves a configuration's answer unchanged."""
    kwargs = {"chunk_tokens": chunk, "max_batch": 256, "concurrency": users}
    alone = at_concurrency(first, eff, **kwargs)
    at_concurrency(second, eff, **kwargs)
    assert at_concurrency(first, eff, **kwargs) == alone
