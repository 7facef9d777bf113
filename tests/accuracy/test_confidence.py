"""Provenance labels and back-test error bands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.calibration import Calibration, is_calibrated
from service.domain.confidence import (
    Provenance,
    Quantity,
    assess,
    band_from_ratios,
    provenance,
    quantile,
)

values = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False)
ratios = st.lists(st.floats(min_value=0.01, max_value=100.0), min_size=1, max_size=60)


@given(value=values, quantity=st.sampled_from(list(Quantity)), calibrated=st.booleans())
def test_the_band_contains_the_estimate(
    calibration: Calibration, value: float, quantity: Quantity, calibrated: bool
) -> None:
    assert calibration.bands is not None
    assessed = assess(value, quantity, calibrated=calibrated, bands=calibration.bands)
    assert assessed.low <= value <= assessed.high
    assert assessed.value == value


@given(sample=ratios, coverage=st.floats(min_value=0.0, max_value=1.0))
def test_bands_from_any_ratios_contain_one(sample: list[float], coverage: float) -> None:
    band = band_from_ratios(sample, coverage)
    assert band.low <= 1.0 <= band.high


def test_labels() -> None:
    assert provenance(Quantity.PARAMETERS, calibrated=False) is Provenance.EXACT
    assert provenance(Quantity.KV_CAPACITY, calibrated=False) is Provenance.ENGINE_MODEL
    assert provenance(Quantity.TPOT, calibrated=True) is Provenance.CALIBRATED
    assert provenance(Quantity.TPOT, calibrated=False) is Provenance.EXTRAPOLATED


def test_calibrated_gpus_are_the_ones_with_data(calibration: Calibration) -> None:
    assert is_calibrated(calibration, "h200-sxm")
    assert not is_calibrated(calibration, "l4")


def test_exact_answers_have_no_spread(calibration: Calibration) -> None:
    assert calibration.bands is not None
    exact = assess(8.03e9, Quantity.PARAMETERS, calibrated=False, bands=calibration.bands)
    assert (exact.low, exact.high) == (8.03e9, 8.03e9)


def test_a_tpot_band_reads_like_the_issue_example(calibration: Calibration) -> None:
    """A calibrated 21.4 ms TPOT comes with a range around it (e.g. 18-25 ms)."""
    assert calibration.bands is not None
    tpot = assess(21.4, Quantity.TPOT, calibrated=True, bands=calibration.bands)
    assert tpot.provenance is Provenance.CALIBRATED
    assert tpot.low < 21.4 < tpot.high
    assert tpot.low / 21.4 > 0.5
    assert tpot.high / 21.4 < 2


def test_quantile_interpolates_linearly() -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert quantile([5.0], 0.9) == 5.0
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)
