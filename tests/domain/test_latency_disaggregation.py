"""Disaggregated prefill/decode: pools sized to a rate and targets, the KV hand-off priced."""

from __future__ import annotations

import math

import pytest

from service.domain.disaggregation import Disaggregated, disaggregate
from service.domain.latency import Efficiency, Serving
from service.domain.planner import Configuration, SearchSpace, Slo, Workload
from service.domain.step_time import StepCosts, step_costs, step_seconds
from tests.domain.reference import H100, arch, params
from tests.domain.test_planner import plan_for

SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)
MODEL = "llama3-8b"
H100_PRICE = H100.price_per_hour_usd or 0.0


def costs() -> StepCosts:
    serving = Serving(gpu=H100)
    return step_costs(arch(MODEL), params(MODEL), serving, input_tokens=3000, output_tokens=300)


def test_pools_meet_their_targets() -> None:
    """Both targets met at 10 requests/s; the GPUs are the two pools' instances."""
    pools = disaggregate(
        costs(), SHEET, requests_per_s=10.0, chunk_tokens=8192, max_batch=256,
        kv_transfer_s=0.001, gpus_per_instance=1, ttft_target_ms=400.0, tpot_target_ms=15.0,
    )  # fmt: skip
    assert pools is not None
    assert pools.meets_slo
    assert pools.ttft_ms <= 400
    assert pools.tpot_ms <= 15
    assert pools.gpu_count == pools.prefill_instances + pools.decode_instances


def test_decode_steps_carry_no_prompt_chunks() -> None:
    """The decode pool's TPOT is a pure decode step at its batch."""
    pools = disaggregate(
        costs(), SHEET, requests_per_s=10.0, chunk_tokens=8192, max_batch=256,
        kv_transfer_s=0.0, gpus_per_instance=1,
    )  # fmt: skip
    assert pools is not None
    pure = step_seconds(costs(), SHEET, decode_batch=pools.decode_batch, prompt_tokens=0)
    assert pools.tpot_ms == pytest.approx(pure * 1e3)


def test_the_kv_hand_off_adds_to_the_time_to_first_token() -> None:
    """A 50 ms transfer adds 50 ms to TTFT and nothing to TPOT."""

    def pools(transfer_s: float) -> Disaggregated:
        found = disaggregate(
            costs(), SHEET, requests_per_s=5.0, chunk_tokens=8192, max_batch=256,
            kv_transfer_s=transfer_s, gpus_per_instance=1,
        )  # fmt: skip
        assert found is not None
        return found

    near, far = pools(0.0), pools(0.05)
    assert far.ttft_ms - near.ttft_ms == pytest.approx(50.0)
    assert far.tpot_ms == near.tpot_ms


def test_the_plan_offers_pools_only_when_asked_for_a_rate() -> None:
    """constraints.disaggregated with requests_per_s: configurations carry their pools (when
    they fit the GPU limit) and whether they beat them; without the flag, none does."""
    workload = Workload(input_tokens=3000, output_tokens=300, requests_per_s=10.0)
    slo = Slo(ttft_ms=500, tpot_ms=20)
    asked = plan_for(
        MODEL, [H100], workload=workload, slo=slo, space=SearchSpace(disaggregated=True)
    )
    plain = plan_for(MODEL, [H100], workload=workload, slo=slo)
    assert any(c.disaggregated is not None for c in asked.configurations)
    assert all(c.disaggregated is None for c in plain.configurations)
    for c in asked.configurations:
        pools = c.disaggregated
        if pools is not None and pools.beats_aggregated:
            assert pools.gpu_count < c.gpu_count or not c.meets_slo


def test_pools_are_priced_like_an_aggregated_configuration() -> None:
    """$/h = price x the pools' GPUs; $/Mtok = $/h over rate x output tokens x 3600, x 10^6."""
    pools = disaggregate(
        costs(), SHEET, requests_per_s=10.0, chunk_tokens=8192, max_batch=256,
        kv_transfer_s=0.001, gpus_per_instance=2, price_per_gpu_hour_usd=3.0,
    )  # fmt: skip
    assert pools is not None
    assert pools.output_tokens_per_s == pytest.approx(10.0 * 300)
    assert pools.cost_per_hour == pytest.approx(3.0 * pools.gpu_count)
    assert pools.cost_per_million_output_tokens == pytest.approx(
        3.0 * pools.gpu_count / (10.0 * 300 * 3600) * 1e6
    )


def test_the_pools_end_to_end_time_is_ttft_plus_the_decode_steps() -> None:
    """e2e = TTFT + (300 - 1) x TPOT, as for aggregated serving."""
    pools = disaggregate(
        costs(), SHEET, requests_per_s=10.0, chunk_tokens=8192, max_batch=256,
        kv_transfer_s=0.001, gpus_per_instance=1,
    )  # fmt: skip
    assert pools is not None
    assert pools.e2e_ms == pytest.approx(pools.ttft_ms + 299 * pools.tpot_ms)


def rate_plan(input_tokens: int, output_tokens: int, rate: float, slo: Slo) -> list[Configuration]:
    """Llama-3-8B on H100s (up to 32) at ``rate`` requests/s, with disaggregated pools."""
    workload = Workload(input_tokens=input_tokens, output_tokens=output_tokens, requests_per_s=rate)
    space = SearchSpace(disaggregated=True, max_gpus=32)
    return list(plan_for(MODEL, [H100], workload=workload, slo=slo, space=space).configurations)


def test_a_plan_disaggregation_beats_ranks_by_the_pools() -> None:
    """8k in / 1k out at 20 requests/s, TPOT 15 ms: pools beat aggregated serving on some
    layouts, which say serving: disaggregated and rank by the pools' $/Mtok (not by the
    aggregated $/Mtok, whose order differs)."""
    found = rate_plan(8000, 1000, 20.0, Slo(tpot_ms=15))
    split = [c for c in found if c.serving == "disaggregated"]
    assert split
    for c in found:
        beats = c.disaggregated is not None and c.disaggregated.beats_aggregated
        assert c.serving == ("disaggregated" if beats else "aggregated")
    for c in split:
        assert c.disaggregated is not None
        assert c.served().gpu_count == c.disaggregated.gpu_count < c.gpu_count
        assert c.served().cost_per_hour == pytest.approx(H100_PRICE * c.disaggregated.gpu_count)
    served = [c.served().cost_per_million_output_tokens or math.inf for c in found]
    assert all(c.served().meets_slo for c in found)
    assert served == sorted(served)
    top_level = [c.cost_per_million_output_tokens or math.inf for c in found]
    assert top_level != sorted(top_level)


def test_a_plan_disaggregation_does_not_beat_stays_aggregated() -> None:
    """1k in / 200 out at 10 requests/s: every layout's pools need more GPUs, so every
    configuration says serving: aggregated and ranks by its top-level figures."""
    found = rate_plan(1000, 200, 10.0, Slo(ttft_ms=800, tpot_ms=30))
    assert any(c.disaggregated is not None for c in found)
    assert all(c.serving == "aggregated" for c in found)
    assert all(c.served().gpu_count == c.gpu_count for c in found)
    top_level = [c.cost_per_million_output_tokens or math.inf for c in found]
    assert top_level == sorted(top_level)
