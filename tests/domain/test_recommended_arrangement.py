"""Which arrangement a configuration recommends (``serving``), and ranking by its figures.

Synthetic configurations: one aggregated layout whose disaggregated pools beat it (or not),
so each test isolates the rule it names.
"""

from __future__ import annotations

import msgspec

from service.contract.schemas import ConfigurationConfidence, PlannedConfiguration, PlanResponse
from service.domain.confidence import Assessed, Provenance
from service.domain.disaggregation import Disaggregated, judged_against
from service.domain.planner import Configuration, Objective, rank, with_aggregated_verdict
from service.planning.lean import lean_plan
from tests.domain.test_planner import configuration

PRICE = 3.0  # USD per GPU-hour
TOKENS_PER_S = 1000.0


def per_million(gpus: int) -> float:
    """$/Mtok of ``gpus`` GPUs at :data:`PRICE` delivering :data:`TOKENS_PER_S`."""
    return PRICE * gpus / (TOKENS_PER_S * 3600) * 1e6


def pools(gpus: int, *, meets: bool = True) -> Disaggregated:
    return Disaggregated(
        prefill_instances=gpus - 1,
        decode_instances=1,
        gpu_count=gpus,
        ttft_ms=1.0,
        tpot_ms=1.0,
        e2e_ms=10.0,
        kv_transfer_ms=0.1,
        decode_batch=1.0,
        output_tokens_per_s=TOKENS_PER_S,
        cost_per_hour=PRICE * gpus,
        cost_per_million_output_tokens=per_million(gpus),
        meets_slo=meets,
    )


def aggregated(name: str, gpus: int, *, meets: bool = True) -> Configuration:
    """``gpus`` GPUs served aggregated, priced at :data:`PRICE`."""
    plain = configuration(
        name, cost=per_million(gpus), e2e=10.0, tps=TOKENS_PER_S, slo=meets, gpus=gpus
    )
    return msgspec.structs.replace(plain, cost_per_hour=PRICE * gpus)


def with_pools(c: Configuration, split: Disaggregated) -> Configuration:
    """``c`` carrying ``split``, judged and recommended as the planner does."""
    return with_aggregated_verdict(msgspec.structs.replace(c, disaggregated=split), c.meets_slo)


def planned(c: Configuration) -> PlannedConfiguration:
    guess = Assessed(
        value=1.0, provenance=Provenance.EXACT, low=1.0, high=1.0, coverage=1.0, basis=""
    )
    confidence = ConfigurationConfidence(ttft_ms=guess, tpot_ms=guess, output_tokens_per_s=guess)
    return PlannedConfiguration(
        **msgspec.structs.asdict(c), calibrated=False, confidence=confidence
    )


def test_fewer_gpus_in_the_pools_recommend_disaggregated_serving() -> None:
    """Pools meeting the SLO on 3 GPUs against 4 aggregated: serving is disaggregated."""
    c = with_pools(aggregated("split", 4), pools(3))
    assert c.disaggregated is not None
    assert c.disaggregated.beats_aggregated
    assert c.serving == "disaggregated"


def test_pools_that_do_not_beat_aggregated_leave_it_recommended() -> None:
    """Pools needing 5 GPUs against 4 aggregated: serving stays aggregated."""
    c = with_pools(aggregated("together", 4), pools(5))
    assert c.disaggregated is not None
    assert not c.disaggregated.beats_aggregated
    assert c.serving == "aggregated"


def test_rank_orders_a_disaggregated_configuration_by_its_pools() -> None:
    """Objective cost: 4 GPUs aggregated but 2 in its pools ranks before 3 GPUs aggregated."""
    split = with_pools(aggregated("split", 4), pools(2))
    together = aggregated("together", 3)
    assert [c.gpu for c in rank([together, split], Objective.COST)] == ["split", "together"]


def test_rank_takes_the_slo_verdict_of_the_recommended_pools() -> None:
    """Aggregated misses the SLO, its pools meet it on more GPUs: ranked among those meeting."""
    rescued = with_pools(aggregated("rescued", 2, meets=False), pools(6))
    cheap = aggregated("cheap-miss", 1, meets=False)
    pricey = aggregated("pricey", 8)
    order = rank([cheap, pricey, rescued], Objective.COST)
    assert [c.gpu for c in order] == ["rescued", "pricey", "cheap-miss"]


def test_pools_are_judged_again_when_the_aggregated_verdict_changes() -> None:
    """Queueing turns the aggregated verdict false: pools on more GPUs that meet it now beat it."""
    c = with_pools(aggregated("queued", 2), pools(3))
    assert c.serving == "aggregated"
    assert with_aggregated_verdict(c, meets_slo=False).serving == "disaggregated"


def test_pruning_compares_the_recommended_arrangements() -> None:
    """A 3-GPU aggregated setup does not prune one recommending 2 GPUs of pools (4 aggregated);
    the pools, cheaper on the same latency, prune it instead."""
    split = planned(with_pools(aggregated("split", 4), pools(2)))
    together = planned(aggregated("together", 3))
    response = PlanResponse(
        model="m", objective="cost", configurations=[together, split], rejected=[]
    )
    kept = lean_plan(response, limit=10, include_rejected="counts").configurations
    assert [c.gpu for c in kept] == ["split"]


def test_judged_against_needs_the_pools_to_meet_the_slo() -> None:
    """Pools missing the SLO never beat aggregated serving, even on fewer GPUs."""
    assert not judged_against(pools(1, meets=False), 8, aggregated_meets_slo=False).beats_aggregated
