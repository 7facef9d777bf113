"""Routed activations through memory: the k copies of each token the MoE kernels move."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.moe import routed_activation_bytes
from tests.domain.reference import arch

# Hand arithmetic, L_moe · copies · (3·d + 6·I) · 2 B for one token:
# Mixtral-8x7B: 32 MoE layers, k = 2, d = 4,096, I = 14,336.
# Qwen3-30B-A3B: 48 MoE layers, k = 8, d = 2,048, I = 768.
CASES = [
    ("mixtral-8x7b", 1, False, 32 * 2 * (3 * 4096 + 6 * 14336) * 2),  # 12,582,912
    ("mixtral-8x7b", 2, False, 32 * 2 * (3 * 4096 + 6 * 7168) * 2),  # TP2: I/2 per GPU
    ("mixtral-8x7b", 2, True, 32 * 1 * (3 * 4096 + 6 * 14336) * 2),  # EP2: half the copies
    ("qwen3-30b-a3b", 1, False, 48 * 8 * (3 * 2048 + 6 * 768) * 2),  # 8,257,536
]


@pytest.mark.parametrize(
    ("model", "ranks", "expert_parallel", "expected"),
    CASES,
    ids=["mixtral-tp1", "mixtral-tp2", "mixtral-ep2", "qwen3-30b-tp1"],
)
def test_routed_activation_bytes_per_token(
    model: str, ranks: int, expert_parallel: bool, expected: int
) -> None:
    """One token: L_moe · k/(EP ranks) copies · (3·d + 6·I/(TP ranks)) · 2 B."""
    got = routed_activation_bytes(arch(model), 1, ranks, expert_parallel=expert_parallel)
    assert got == pytest.approx(expected)


def test_a_dense_model_moves_no_routed_copies() -> None:
    """No routed experts, no routed activation bytes."""
    assert routed_activation_bytes(arch("llama3-8b"), 4096, 1, expert_parallel=False) == 0


@given(tokens=st.integers(min_value=0, max_value=100_000), ranks=st.sampled_from([1, 2, 4, 8]))
def test_routed_activation_bytes_are_linear_in_tokens(tokens: int, ranks: int) -> None:
    """T tokens move T times one token's bytes (the copies do not share traffic)."""
    one = routed_activation_bytes(arch("qwen3-30b-a3b"), 1, ranks, expert_parallel=False)
    many = routed_activation_bytes(arch("qwen3-30b-a3b"), tokens, ranks, expert_parallel=False)
    assert many == pytest.approx(tokens * one)
