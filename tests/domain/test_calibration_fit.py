"""The calibration fit recovers the factors that generated its measurements."""

from __future__ import annotations

import itertools

import pytest

from service.domain.calibration import Observation, fit
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
