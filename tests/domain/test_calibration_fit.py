"""The calibration fit recovers the factors that generated its measurements."""

from __future__ import annotations

import itertools

import pytest

from service.domain.calibration import (
    Calibration,
    GpuFactors,
    Observation,
    _descend,
    efficiency_for,
    fit,
)
from service.domain.latency import Efficiency, PhaseTerms, phase_seconds

TRUTH = Efficiency(
    decode_mbu=0.8,
    prefill_mbu=0.8,
    decode_mfu=0.45,
    prefill_mfu=0.55,
    step_overhead_ms=0.3,
    layer_overhead_us=30.0,
    all_reduce_latency_us=20.0,
    link_efficiency=0.4,
)


def observations() -> list[Observation]:
    """Passes of every balance: weight-, compute-, KV- and link-bound, 1 to 8 GPUs deep."""
    found = []
    shapes = itertools.product((0.002, 0.02), (0.001, 0.03), (0.0, 0.01), (0, 1, 4))
    for i, (weights, matmuls, kv, tp_scale) in enumerate(shapes):
        terms = PhaseTerms(
            weight_read_s=weights,
            matmul_s=matmuls,
            kv_s=kv,
            attention_s=kv / 20,
            communication_s=0.001 * tp_scale,
            all_reduces=40 * min(tp_scale, 1) * (1 + i % 3),
            layers=32 + 16 * (i % 4),
        )
        for phase, mfu in (("decode", "decode_mfu"), ("prefill", "prefill_mfu")):

            def predict(eff: Efficiency, terms: PhaseTerms = terms, mfu: str = mfu) -> float:
                return phase_seconds(terms, eff, mfu=getattr(eff, mfu), mbu=eff.decode_mbu)

            found.append(
                Observation(id=f"{phase}-{i}", gpu="gpu", measured=predict(TRUTH), predict=predict)
            )
    return found


@pytest.mark.parametrize(
    "name",
    ["decode_mbu", "decode_mfu", "prefill_mfu", "all_reduce_latency_us", "link_efficiency"],
)
def test_the_fit_recovers_the_generating_factors(name: str) -> None:
    """Measurements priced with known factors are fitted back to those factors (±3 %)."""
    shared = fit(observations(), base=Efficiency(), shrinkage=1.0).shared
    assert getattr(shared, name) == pytest.approx(getattr(TRUTH, name), rel=0.03)


def test_the_descent_stops_at_the_first_sweep_that_moves_nothing() -> None:
    """Sweeps after one that moved nothing are not run: 1,000 allowed cost what 16 do."""
    counted: list[int] = []

    def bowl(x: list[float], calls: list[int]) -> float:
        calls.append(1)
        return (x[0] - 0.3) ** 2 + (x[1] + 0.2) ** 2 + 0.5 * x[0] * x[1]

    few = _descend(lambda x: bowl(x, []), [0.0, 0.0], [(-1.0, 1.0)] * 2, sweeps=16)
    many = _descend(lambda x: bowl(x, counted), [0.0, 0.0], [(-1.0, 1.0)] * 2, sweeps=1000)
    one_sweep: list[int] = []
    _descend(lambda x: bowl(x, one_sweep), [0.0, 0.0], [(-1.0, 1.0)] * 2, sweeps=1)
    assert many == few
    assert len(counted) <= 16 * len(one_sweep)


@pytest.mark.parametrize(
    ("gpu_id", "generation", "says"),
    [
        ("h100-sxm", "sm9", "this GPU's own factors"),
        ("unmeasured-gpu", "sm9", "factors of its generation (sm9), none measured on this GPU"),
        ("unmeasured-gpu", "sm1", "shared factors, none measured on this GPU"),
    ],
    ids=["own", "generation", "shared"],
)
def test_the_factors_say_whose_they_are(gpu_id: str, generation: str, says: str) -> None:
    """An uncalibrated GPU's source does not read as its own calibration."""
    factors = GpuFactors(decode_mbu=0.8, decode_mfu=0.5, prefill_mfu=0.7, points=())
    calibration = Calibration(
        shared=Efficiency(source="calibrated (fit, today)"),
        gpus={"h100-sxm": factors},
        generations={"sm9": factors},
        shrinkage=1.0,
    )
    source = efficiency_for(calibration, gpu_id, generation).source
    assert source.endswith(says)
