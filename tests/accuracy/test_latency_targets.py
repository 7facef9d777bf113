"""The calibrated latency model meets its held-out targets (same code as the report)."""

from __future__ import annotations

import math

import pytest

from service.validation.evaluate import TARGETS, Validation


@pytest.mark.parametrize("group", sorted(TARGETS))
def test_held_out_median_error_meets_the_target(validation: Validation, group: str) -> None:
    """Median absolute error of leave-one-out predictions over every measurement in the
    group: <= 15 % for decode time per token, <= 25 % for saturated throughput."""
    (summary,) = [s for s in validation.summaries if s.group == group and s.dataset == "all"]
    assert summary.held_out_median <= TARGETS[group], summary


def test_every_measurement_is_predicted(validation: Validation) -> None:
    """All 41 latency.json rows and every H200 reference record get finite, positive
    in-sample and held-out predictions."""
    assert sum(r.case.dataset == "latency.json" for r in validation.results) == 41
    for result in validation.results:
        for value in (result.in_sample, result.held_out):
            assert math.isfinite(value)
            assert value > 0


def test_in_sample_fits_at_least_as_well_as_held_out(validation: Validation) -> None:
    """Leaving a point out can only cost accuracy on average (a sanity check of the
    leave-one-out machinery)."""
    for summary in validation.summaries:
        assert summary.in_sample_mean <= summary.held_out_mean + 1.0, summary
