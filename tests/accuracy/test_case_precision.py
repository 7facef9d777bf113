"""A reference row's precision text as (weights, KV cache) precisions (cases module doc)."""

from __future__ import annotations

import pytest

from service.domain.precision import Precision
from service.validation.cases import _precision

CASES: list[tuple[str, Precision, Precision]] = [
    ("FP8", Precision.FP8, Precision.FP8),
    ("FP4", Precision.FP4, Precision.FP8),
    ("MXFP4", Precision.MXFP4, Precision.FP16),
    ("MXFP4 (FP8 KV cache)", Precision.MXFP4, Precision.FP8),
    ("MXFP4 (bf16 KV cache)", Precision.MXFP4, Precision.BF16),
    ("FP8 (bf16 KV cache)", Precision.FP8, Precision.BF16),
    ("INT4 (AWQ, bf16 KV cache)", Precision.INT4, Precision.BF16),
    ("BF16", Precision.BF16, Precision.BF16),
    ("not stated (likely fp16/bf16)", Precision.FP16, Precision.FP16),
]


@pytest.mark.parametrize(("text", "weights", "kv"), CASES, ids=[c[0] for c in CASES])
def test_precision_text_gives_weights_and_kv(text: str, weights: Precision, kv: Precision) -> None:
    assert _precision(text) == (weights, kv)
