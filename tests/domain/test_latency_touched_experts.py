"""Rows per expert GEMM that runs: the grouped-GEMM efficiency is taken over the experts a
step touches (service.domain.latency.rows_per_touched_expert)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.latency import experts_touched, rows_per_touched_expert


@given(
    experts=st.integers(min_value=2, max_value=512),
    share=st.floats(min_value=0.0, max_value=1.0),
    tokens=st.floats(min_value=1.0, max_value=1e6),
)
def test_every_expert_that_runs_multiplies_at_least_one_row(
    experts: int, share: float, tokens: float
) -> None:
    """Rows per touched expert >= 1 and >= the average over all experts, T·k/E."""
    k = max(1, round(share * experts))
    rows = rows_per_touched_expert(experts, k, tokens)
    assert rows >= 1.0 - 1e-9
    assert rows >= tokens * k / experts - 1e-9


def test_one_token_fills_one_row_of_each_of_its_experts() -> None:
    """A single token touches exactly its k experts with one row each."""
    assert rows_per_touched_expert(256, 8, 1) == pytest.approx(1.0)


def test_a_large_step_spreads_its_rows_over_every_expert() -> None:
    """Once every expert is touched the rows are the plain average T·k/E."""
    assert experts_touched(128, 4, 100_000) == pytest.approx(128)
    assert rows_per_touched_expert(128, 4, 100_000) == pytest.approx(100_000 * 4 / 128)


def test_no_tokens_no_rows() -> None:
    """An empty step runs no expert GEMM."""
    assert rows_per_touched_expert(64, 2, 0) == 0.0
