"""catalog/calibration.yaml is what bench/calibrate.py produces today (it cannot go stale)."""

from __future__ import annotations

import pytest

from service.domain.calibration import (
    FACTORS,
    OVERHEADS,
    Calibration,
    calibration_document,
    calibration_from_document,
    efficiency_for,
    fit,
    gpu_generation,
)
from service.validation.evaluate import (
    SHRINKAGE,
    START,
    Validation,
    build_cases,
    error_bands,
    observations,
)
from service.validation.reference import ReferenceData

REL = 2e-3


@pytest.fixture(scope="module")
def fresh(reference: ReferenceData) -> Calibration:
    return fit(observations(build_cases(reference)), base=START, shrinkage=SHRINKAGE)


def test_shared_factors_match_a_fresh_fit(calibration: Calibration, fresh: Calibration) -> None:
    for name in (*FACTORS, *OVERHEADS):
        stored, refit = getattr(calibration.shared, name), getattr(fresh.shared, name)
        assert stored == pytest.approx(refit, rel=REL, abs=1e-3), name


def test_per_gpu_factors_match_a_fresh_fit(calibration: Calibration, fresh: Calibration) -> None:
    assert calibration.gpus.keys() == fresh.gpus.keys()
    for gpu, stored in calibration.gpus.items():
        refit = fresh.gpus[gpu]
        assert stored.points == refit.points, gpu
        for name in FACTORS:
            assert getattr(stored, name) == pytest.approx(getattr(refit, name), rel=REL), (
                gpu,
                name,
            )


def test_generation_factors_match_a_fresh_fit(calibration: Calibration, fresh: Calibration) -> None:
    """The borrowed groups (CUDA majors, and other vendors as a whole) are today's fit."""
    assert calibration.generations.keys() == fresh.generations.keys()
    for name, stored in calibration.generations.items():
        assert stored.points == fresh.generations[name].points, name


def test_an_unmeasured_amd_gpu_borrows_the_amd_factors(calibration: Calibration) -> None:
    """MI325X has no measurement: it is priced with the AMD group's factors (MI300X's ROCm
    runs), not with the shared ones the NVIDIA rows dominate."""
    assert "mi325x" not in calibration.gpus
    amd = calibration.generations["amd"]
    borrowed = efficiency_for(calibration, "mi325x", gpu_generation(None, "amd"))
    assert (borrowed.decode_mbu, borrowed.decode_mfu, borrowed.prefill_mfu) == (
        amd.decode_mbu,
        amd.decode_mfu,
        amd.prefill_mfu,
    )
    assert all(point.startswith(("amd-rocm-perf:", "oci-")) for point in amd.points)


def test_the_file_lists_every_measurement_used(
    calibration: Calibration, fresh: Calibration
) -> None:
    assert calibration.data == fresh.data
    assert calibration.script == "bench/calibrate.py"
    assert calibration.fitted_on


def test_error_bands_match_the_back_test(
    calibration: Calibration, validation: Validation, reference: ReferenceData
) -> None:
    """The bands in the file are the held-out ratios this code computes now (the session's
    back-test already holds both held-out predictions of every case)."""
    cases = build_cases(reference)
    model_out = {r.case.id: r.model_out for r in validation.results}
    gpu_out = {r.case.id: r.gpu_out for r in validation.results}
    bands = error_bands(cases, validation.kv, model_out, gpu_out)
    assert calibration.bands is not None
    for stored_table, fresh_table in (
        (calibration.bands.calibrated, bands.calibrated),
        (calibration.bands.extrapolated, bands.extrapolated),
    ):
        assert stored_table.keys() == fresh_table.keys()
        for group, band in stored_table.items():
            assert band.low == pytest.approx(fresh_table[group].low, abs=2e-3), group
            assert band.high == pytest.approx(fresh_table[group].high, abs=2e-3), group


def test_document_round_trip(calibration: Calibration) -> None:
    """Writing and reading the file's form gives the same calibration."""
    assert calibration_from_document(calibration_document(calibration)) == calibration
