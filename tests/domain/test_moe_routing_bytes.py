"""The activation bytes a token routes through an MoE layer's experts."""

from __future__ import annotations

import pytest

from service.domain.moe import routing_bytes_per_token
from tests.domain.reference import arch


@pytest.mark.parametrize(
    ("model", "tp", "ep", "expected"),
    [
        # 48 MoE layers x 8 experts x (2*2048 + 3*768) elements x 2 B x 2 (written, read)
        ("qwen3-30b-a3b", 1, False, 48 * 8 * (2 * 2048 + 3 * 768) * 4),
        # TP2: each GPU runs every pair at half the intermediate width
        ("qwen3-30b-a3b", 2, False, 48 * 8 * (2 * 2048 + 3 * 384) * 4),
        # EP2: each GPU runs half the pairs on whole experts
        ("qwen3-30b-a3b", 2, True, 48 * 8 * (2 * 2048 + 3 * 768) * 4 / 2),
        ("llama3-8b", 1, False, 0),
    ],
    ids=["qwen3-moe-tp1", "qwen3-moe-tp2", "qwen3-moe-ep2", "dense"],
)
def test_routing_bytes_per_token(model: str, tp: int, ep: bool, expected: float) -> None:
    """L_moe · k · (2d + 3I/t) · 2 B · 2 under TP; the pairs split over the GPUs under EP."""
    assert routing_bytes_per_token(arch(model), tp, ep) == pytest.approx(expected, rel=1e-12)
