"""Refusals quote what was asked, cut short: an id of any length never makes a long message."""

from __future__ import annotations

import pytest

from service.planning.errors import GpuNotFound, ModelNotFound, NotInCatalog


@pytest.mark.parametrize("refusal", [ModelNotFound, GpuNotFound], ids=["model", "gpu"])
def test_an_overlong_unknown_id_is_quoted_cut_short(refusal: type[NotInCatalog]) -> None:
    """A 100,000-character id is quoted as 200 of them and how many there were."""
    detail = refusal("x" * 100_000).detail  # type: ignore[call-arg]
    assert "x" * 200 + "… (100,000 characters)" in detail
    assert len(detail) < 1_000


def test_the_innermost_field_names_an_unknown_id() -> None:
    """An adapter naming the field does not overwrite a field named closer to the id."""
    refusal = GpuNotFound("nope")
    refusal.locate("constraints.gpus[1]")
    refusal.locate("constraints")
    assert (refusal.field, refusal.source) == ("constraints.gpus[1]", "body")
