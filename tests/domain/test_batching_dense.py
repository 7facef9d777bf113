"""The hoisted dense steady state gives the very floats of service.domain.batching."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.catalog_files import load_engine_profiles
from service.domain import capacity, planner
from service.domain.batching import (
    StepCosts,
    _point,
    at_concurrency,
    step_costs,
)
from service.domain.batching_dense import (
    dense_at_concurrency,
    is_dense,
    measures,
    steady_at_users,
)
from service.domain.kv_cache import layer_kv_specs
from service.domain.latency import Efficiency, PhaseTerms, Serving
from service.domain.modifiers import Modifiers
from service.domain.planner import Objective, SearchSpace, Slo, Workload, plan
from service.domain.serving import at_users
from tests.domain.reference import A10, A100_80, H100, H200, L4, arch, params

VLLM_V0 = load_engine_profiles().get("vllm-0.6.4")
SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)
PRICED = [
    msgspec.structs.replace(gpu, price_per_hour_usd=price)
    for gpu, price in ((H100, 2.5), (H200, 3.8), (A100_80, 1.6), (A10, None), (L4, 0.7))
]

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
        step_overhead_ms=draw(st.floats(min_value=0.01, max_value=10.0)),  # a step takes time
        layer_overhead_us=draw(st.floats(min_value=0.0, max_value=100.0)),
    )


@settings(max_examples=300, deadline=None)
@given(
    dense_costs(),
    efficiencies(),
    st.integers(1, 16_384),
    st.floats(min_value=0.0, max_value=4096.0),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_the_inlined_measure_is_points_in_system_count(
    costs: StepCosts, eff: Efficiency, chunk: int, batch: float, others: float
) -> None:
    """Any dense point: b + rate x TTFT exactly as batching's _point gives them."""
    point = _point(costs, eff, chunk, batch, others)
    expected = point.b + point.rate * point.ttft_s
    in_system, _ = measures(costs, eff, chunk, others)
    assert in_system(batch) == expected


@settings(max_examples=300, deadline=None)
@given(
    dense_costs(),
    efficiencies(),
    st.integers(1, 16_384),
    st.floats(min_value=0.0, max_value=4096.0),
)
def test_the_inlined_utilisation_is_points_budget_used(
    costs: StepCosts, eff: Efficiency, chunk: int, batch: float
) -> None:
    """Any dense point: the prompt path's utilisation exactly as batching's _point gives it."""
    _, utilisation = measures(costs, eff, chunk, 0.5)
    assert utilisation(batch) == _point(costs, eff, chunk, batch, 1.0).budget_used


@settings(max_examples=150, deadline=None)
@given(
    dense_costs(),
    efficiencies(),
    st.integers(1, 16_384),
    st.integers(1, 2048),
    st.integers(1, 4096),
)
def test_the_hoisted_steady_state_is_at_concurrency(
    costs: StepCosts, eff: Efficiency, chunk: int, max_batch: int, users: int
) -> None:
    """Any dense workload and load: the steady state equals at_concurrency's, field by field."""
    kwargs: dict[str, Any] = {"chunk_tokens": chunk, "max_batch": max_batch, "concurrency": users}
    assert dense_at_concurrency(costs, eff, **kwargs) == at_concurrency(costs, eff, **kwargs)


@pytest.mark.parametrize("model", ["llama3-8b", "llama2-13b", "qwen2-7b"])
def test_a_dense_model_takes_the_hoisted_path(model: str) -> None:
    """A dense catalog or inline model's costs are priced by the hoisted steps."""
    serving = Serving(gpu=H100, tensor_parallel=2)
    costs = step_costs(arch(model), params(model), serving, input_tokens=2000, output_tokens=300)
    assert is_dense(costs)


def test_an_moe_model_takes_the_reference_path() -> None:
    """Routed experts (Mixtral): steady_at_users is at_users itself."""
    serving = Serving(gpu=H100, tensor_parallel=2)
    costs = step_costs(
        arch("mixtral-8x7b"), params("mixtral-8x7b"), serving, input_tokens=2000, output_tokens=300
    )
    steady, burst_ms = steady_at_users(costs, SHEET, 8192, 64, 16)
    reference = at_users(costs, SHEET, 8192, 64, 16)
    assert not is_dense(costs)
    assert (steady, burst_ms) == (reference.steady, reference.burst_ttft_ms)
    with pytest.raises(ValueError, match="dense"):
        measures(costs, SHEET, 8192, 0.5)


def reference_steady(
    costs: StepCosts, eff: Efficiency, step_tokens: int, max_batch: int, users: int
) -> tuple[Any, float]:
    """The straightforward evaluation: serving.at_users over service.domain.batching."""
    timed = at_users(costs, eff, step_tokens, max_batch, users)
    return timed.steady, timed.burst_ttft_ms


SPECULATIVE = Modifiers(draft_tokens=4, acceptance_rate=0.7, prefix_cache_hit_rate=0.3)
QUESTIONS = {
    "dense": ("llama3-8b", Workload(input_tokens=2000, output_tokens=500, concurrency=16), {}),
    "moe": ("mixtral-8x7b", Workload(input_tokens=1000, output_tokens=200, concurrency=64), {}),
    "inline-config": ("llama2-13b", Workload(input_tokens=3000, output_tokens=300), {}),
    "constraints": (
        "llama3-70b",
        Workload(input_tokens=4000, output_tokens=800, concurrency=200),
        {
            "space": SearchSpace(
                weight_dtypes=("auto", "fp8"),
                kv_cache_dtypes=("auto", "fp8"),
                max_gpus=32,
                gpu_memory_utilization=0.85,
            )
        },
    ),
    "slo-latency": (
        "qwen2-7b",
        Workload(input_tokens=500, output_tokens=1500, concurrency=32),
        {"slo": Slo(ttft_ms=300, tpot_ms=25), "objective": Objective.LATENCY},
    ),
    "speculative-prefix": (
        "llama3-8b",
        Workload(input_tokens=8000, output_tokens=400, concurrency=24, modifiers=SPECULATIVE),
        {"space": SearchSpace(native_low_precision=True), "objective": Objective.THROUGHPUT},
    ),
}


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
def test_the_plan_is_the_straightforward_evaluation(
    question: tuple[str, Workload, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dense, MoE, inline config, priced GPUs, constraints, SLO, speculative decoding: the
    plan is the same, configuration for configuration, as with batching's own steady state
    and the KV layer specs computed afresh for every candidate."""
    model, workload, options = question

    def planned() -> planner.Plan:
        return plan(arch(model), params(model), PRICED, workload, profile=VLLM_V0, **options)

    fast = planned()
    monkeypatch.setattr(planner, "steady_at_users", reference_steady)
    monkeypatch.setattr(capacity, "_layer_specs", layer_kv_specs)
    straightforward = planned()
    assert fast.configurations
    assert msgspec.json.encode(fast) == msgspec.json.encode(straightforward)
