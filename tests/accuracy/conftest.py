"""Accuracy specs: the models against the vendored public reference measurements.

The reference data lives in ``catalog/reference/`` (as for ``tests/domain``); a missing file
fails the run, never skips. The held-out back-test
is computed once per session by the same code ``capplan validate`` uses.
"""

from __future__ import annotations

import pytest

from service.domain.calibration import Calibration
from service.validation.evaluate import Validation, validate
from service.validation.reference import (
    ReferenceData,
    ReferenceMissing,
    load_calibration,
    load_reference,
)


def reference_or_fail() -> ReferenceData:
    try:
        return load_reference()
    except ReferenceMissing as exc:
        pytest.fail(f"{exc}: tests/accuracy reads catalog/reference/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``memory_point`` over vllm_memory.json, ids = datapoint ids."""
    if "memory_point" in metafunc.fixturenames:
        points = reference_or_fail().vllm_memory
        metafunc.parametrize("memory_point", points, ids=[p["id"] for p in points])


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    return reference_or_fail()


@pytest.fixture(scope="session")
def calibration() -> Calibration:
    return load_calibration()


@pytest.fixture(scope="session")
def validation(reference: ReferenceData, calibration: Calibration) -> Validation:
    return validate(reference, calibration)
