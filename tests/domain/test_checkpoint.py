"""Exact checkpoint bytes from safetensors headers: widths, served tensors, sums by dtype."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.checkpoint import (
    SAFETENSORS_DTYPE_BITS,
    CheckpointTensor,
    UnknownTensorDtype,
    checkpoint_bytes_by_dtype,
    is_served,
    tensor_bytes,
)


def tensor(name: str, dtype: str, *shape: int) -> CheckpointTensor:
    return CheckpointTensor(name=name, dtype=dtype, shape=shape)


@pytest.mark.parametrize(
    ("dtype", "shape", "expected"),
    [
        ("BF16", (4096, 4096), 33_554_432),  # 2 B each
        ("F8_E4M3", (18432, 7168), 132_120_576),  # 1 B each
        ("F32", (129, 56), 28_896),  # DeepSeek-V3 weight_scale_inv tiles, 4 B each
        ("U8", (32, 5760, 90, 16), 265_420_800),  # gpt-oss-20b gate_up blocks: packed bytes
        ("F4", (4096, 4096), 8_388_608),  # 4 bits each
        ("F6_E2M3", (32, 32), 768),  # 6 bits each
        ("I64", (2,), 16),  # compressed-tensors weight_shape
    ],
    ids=["bf16", "fp8", "fp32-scales", "mxfp4-blocks", "f4", "f6", "i64"],
)
def test_tensor_bytes_by_dtype_width(dtype: str, shape: tuple[int, ...], expected: int) -> None:
    """bytes = ceil(numel · bits / 8) with safetensors' width for the dtype."""
    assert tensor_bytes(tensor("t", dtype, *shape)) == expected


def test_an_unknown_dtype_is_an_error() -> None:
    """A dtype without a known width is not guessed."""
    with pytest.raises(UnknownTensorDtype):
        tensor_bytes(tensor("t", "Q4_K", 32))


@pytest.mark.parametrize(
    ("name", "served"),
    [
        ("model.layers.60.mlp.experts.0.down_proj.weight", True),
        ("model.layers.61.eh_proj.weight", False),
        ("model.layers.61.mlp.experts.0.down_proj.weight", False),
        ("mtp.layers.0.mlp.gate.weight", False),
        ("model.layers.0.self_attn.rotary_emb.inv_freq", False),
        ("lm_head.weight", True),
        ("model.embed_tokens.weight", True),
    ],
    ids=["last-layer", "mtp-layer", "mtp-expert", "qwen3-next-mtp", "inv-freq", "lm-head", "embed"],
)
def test_only_tensors_the_engine_loads_count(name: str, served: bool) -> None:
    """With 61 decoder layers (DeepSeek-V3), layer 61 is the MTP module vLLM skips."""
    assert is_served(name, 61) is served


def test_bytes_are_summed_per_dtype_without_the_mtp_layer() -> None:
    """Two bf16 tensors and an fp8 one; the MTP layer's tensor is left out."""
    tensors = [
        tensor("model.embed_tokens.weight", "BF16", 1000, 64),
        tensor("model.layers.0.self_attn.q_proj.weight", "F8_E4M3", 64, 64),
        tensor("model.layers.0.self_attn.q_proj.weight_scale_inv", "F32", 1, 1),
        tensor("model.norm.weight", "BF16", 64),
        tensor("model.layers.1.eh_proj.weight", "BF16", 64, 128),
    ]
    assert checkpoint_bytes_by_dtype(tensors, 1) == {
        "BF16": 2 * 64_000 + 2 * 64,
        "F8_E4M3": 4096,
        "F32": 4,
    }


@given(
    dtype=st.sampled_from(sorted(SAFETENSORS_DTYPE_BITS)),
    shape=st.lists(st.integers(min_value=1, max_value=512), min_size=1, max_size=3),
)
def test_bytes_grow_with_the_width(dtype: str, shape: list[int]) -> None:
    """A tensor never costs less than its packed width: bytes · 8 >= numel · bits."""
    numel = 1
    for size in shape:
        numel *= size
    assert tensor_bytes(tensor("t", dtype, *shape)) * 8 >= numel * SAFETENSORS_DTYPE_BITS[dtype]
