"""Held-out accuracy on published measurements, per family (the code `capplan validate` runs).

The goal is ``TARGET_PCT`` (15 %) median |error| per family, leave-one-GPU-out and
leave-one-model-out alike. Where the model does not reach it yet, the gate is a ceiling at
the figure reached (rounded up), so that accuracy can only improve; `capplan validate`
prints both against the goal.
"""

from __future__ import annotations

import math

import pytest

from service.validation.evaluate import PUBLISHED, TARGET_PCT, Family, Summary, Validation
from service.validation.reference import ReferenceData

CEILING_PCT: dict[Family, float] = {
    Family.MAX_THROUGHPUT: 15.0,
    Family.E2E_LATENCY: 15.0,
    Family.TTFT_AT_CONCURRENCY: 37.0,
    Family.TPOT_AT_CONCURRENCY: 16.0,
}
"""Regression ceilings, held-out median |error| in %: the goal where it is met, else the
figure reached on 2026-12-03 rounded up (docs/validation.md). Two families meet the goal
since every tensor-core rate is priced at the chip's measured share of its datasheet peak
(``achievable_tflops_bf16``, stas00/ml-engineering's MAMF table: 51 % on an MI300X, 80 % on
an H100) and each matmul's weight read and math meet at a rounded knee
(``roofline_seconds``): max-throughput 10.4 % with the GPU held out / 9.9 % with the model
held out over 88 rows (51 of them TensorRT-LLM rows of a newer doc that are never fitted),
end-to-end 14.1 / 9.4 % (MI300X held out up to 36 % fast).
TTFT: 36.1 / 34.6 % over 145 rows (41.2 / 39.7 % before SGLang's --scheduler-recv-interval
was priced: a busy scheduler looks for arrivals every P decode steps, P = 10 or 30 in
InferenceX's DeepSeek-R1 recipes on B200/B300, so an arrival waits P/2 steps; 34 TTFT rows
state it). SGLang's eager prompt steps take at least their host's
launch time (service/domain/host_launch.py, figures from sglang#12160 and sfllm#46 in
catalog/engines.yaml): on the 105 rows held before, 49.5 / 49.4 % became 28.8 / 29.8 %
(19.1 / 19.3 % on the 36 rows older than the 2025-26 SGLang and vLLM sweeps). Forty TTFT rows
collected afterwards by the same fixed rules (the SGLang cookbook's Qwen3-Coder-Next on 2xB200
and DeepSeek-V3.1 on 8xMI300X, InferenceX DeepSeek-R1 on 8xMI325X and 8xB200 with SGLang and
TensorRT-LLM's PyTorch backend) are priced 30-85 % fast, most of them. TPOT: 15.3 / 14.7 %
over 132 rows (14.8 / 12.2 % over 92 before the floor, so a ceiling of 16 %, not the goal):
the floor lengthens the prompt steps that stall SGLang's decodes, on rows whose DeepSeek-R1
decode steps at 16-64 users were already priced 20-60 % slow. Far-off clusters: DeepSeek-R1
at 8-64 users on SGLang on H200 and 8xB200 (TTFT -30 to -68 %), 7-8k-token prompts on
8xB200/B300 (-38 to -53 %), Llama 3.1 70B with long prompts on 8xA100
(+43 to +618 %),
DeepSeek-R1 AWQ TPOT on 8xH100 (-43 to -56 %) and gpt-oss-120b on MI300X (+75 to +159 %:
its grouped GEMMs at two rows per expert are priced by tile waste at the MI300X's low
measured matmul rate). The gate is on the answers' own figures: the steady state, and for a
client that averages over its stated num_prompts the first wave's burst beside it
(cases.benchmark_mean_ttft_ms); the closed-loop replay of the same rows
(service/domain/benchmark_sim.py) is reported beside it and not gated."""

GOAL_MET: frozenset[Family] = frozenset({Family.MAX_THROUGHPUT, Family.E2E_LATENCY})
"""Families whose held-out medians reach the goal: what README and docs/validation.md may
claim. Every other published family is stated as not met."""


def summary(validation: Validation, family: Family) -> Summary:
    (found,) = [s for s in validation.summaries if s.family is family]
    return found


@pytest.mark.parametrize("family", list(CEILING_PCT), ids=[f.name.lower() for f in CEILING_PCT])
def test_held_out_median_error_stays_within_its_ceiling(
    validation: Validation, family: Family
) -> None:
    """Leave-one-GPU-out and leave-one-model-out medians of a published family <= ceiling."""
    found = summary(validation, family)
    assert found.published
    assert found.gpu_out_median <= CEILING_PCT[family], found
    assert found.model_out_median <= CEILING_PCT[family], found


@pytest.mark.parametrize("family", list(CEILING_PCT), ids=[f.name.lower() for f in CEILING_PCT])
def test_goal_is_claimed_exactly_where_it_is_reached(
    validation: Validation, family: Family
) -> None:
    """A family is listed as meeting the goal iff both held-out medians are <= the goal (a
    family that improves past it, or falls behind, must change the claim)."""
    found = summary(validation, family)
    assert (found.held_out_median <= TARGET_PCT) == (family in GOAL_MET), found


def test_ceilings_never_loosen_the_goal() -> None:
    """No ceiling is below the goal (a met goal is gated at the goal itself)."""
    assert all(ceiling >= TARGET_PCT for ceiling in CEILING_PCT.values())


def test_gated_families_hold_published_rows_only(validation: Validation) -> None:
    """Our own H200 runs are reported in families of their own and never gated."""
    for result in validation.results:
        gated = result.case.metric.value in {"saturated_throughput", "e2e_latency"} or (
            result.case.concurrency > 0
        )
        assert gated == (result.case.dataset == PUBLISHED), result.case.id


def test_serving_sweeps_are_never_in_the_fit(validation: Validation) -> None:
    """TTFT/TPOT-at-concurrency rows are predictions only: absent from the calibration."""
    sweeps = {r.case.id for r in validation.results if r.case.concurrency > 0}
    assert sweeps
    assert not sweeps & set(validation.calibration.data)


def test_rows_marked_out_of_the_fit_are_never_in_it(
    validation: Validation, reference: ReferenceData
) -> None:
    """A latency.json row with "fit": false is predicted but absent from the calibration."""
    marked = {str(p["id"]) for p in reference.latency if p.get("fit") is False}
    assert marked
    assert not marked & set(validation.calibration.data)
    assert marked <= {r.case.id for r in validation.results}


def test_every_measurement_is_predicted(validation: Validation, reference: ReferenceData) -> None:
    """Every latency.json row and every H200 reference record is a case, exactly once, with
    finite, positive in-sample and held-out predictions."""
    published = [r.case.id for r in validation.results if r.case.dataset == PUBLISHED]
    assert sorted(published) == sorted(str(point["id"]) for point in reference.latency)
    assert len(validation.results) == len(reference.latency) + len(reference.roofline)
    for result in validation.results:
        for value in (result.in_sample, result.gpu_out, result.model_out):
            assert math.isfinite(value)
            assert value > 0


def test_every_serving_sweep_is_also_replayed(validation: Validation) -> None:
    """Serving sweeps carry finite, positive held-out replays; no other case has one."""
    for result in validation.results:
        replays = (result.replay_gpu_out, result.replay_model_out)
        if result.case.concurrency > 0:
            assert all(v is not None and math.isfinite(v) and v > 0 for v in replays)
        else:
            assert replays == (None, None), result.case.id
