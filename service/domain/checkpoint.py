"""Exact bytes of a checkpoint from its safetensors headers, by storage dtype.

Each safetensors tensor has a dtype and a shape; its bytes are ``ceil(numel · bits / 8)``
(safetensors ``Dtype::bitsize``: F4 is 4 bits, F6 6, the F8 family 8...). Tensors the
serving engine does not load are left out: layers past ``num_hidden_layers`` and ``mtp``
modules (DeepSeek-V3's multi-token-prediction layer 61, Qwen3-Next's ``mtp.*``: vLLM loads
them only for speculative decoding) and rotary ``inv_freq`` buffers (vLLM's ``load_weights``
skips them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import msgspec

SAFETENSORS_DTYPE_BITS: Mapping[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}
"""Bits per element of each safetensors dtype (safetensors ``Dtype``, 0.6)."""

_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
_SKIPPED = re.compile(r"(?:^|\.)mtp\.|rotary_emb\.inv_freq$")


class CheckpointTensor(msgspec.Struct, frozen=True, kw_only=True):
    """One tensor of a safetensors header."""

    name: str
    dtype: str
    shape: tuple[int, ...]


class UnknownTensorDtype(ValueError):
    """A safetensors dtype capplan has no width for."""

    def __init__(self, dtype: str) -> None:
        super().__init__(f"unknown safetensors dtype {dtype!r}")
        self.dtype = dtype


def tensor_bytes(tensor: CheckpointTensor) -> int:
    """``ceil(numel · bits / 8)``; :class:`UnknownTensorDtype` for an unknown dtype."""
    bits = SAFETENSORS_DTYPE_BITS.get(tensor.dtype.upper())
    if bits is None:
        raise UnknownTensorDtype(tensor.dtype)
    return math.ceil(math.prod(tensor.shape) * bits / 8)


def is_served(name: str, num_layers: int) -> bool:
    """Whether the engine loads tensor ``name`` of a model with ``num_layers`` decoder layers."""
    if _SKIPPED.search(name):
        return False
    layer = _LAYER.search(name)
    return layer is None or int(layer.group(1)) < num_layers


def checkpoint_bytes_by_dtype(
    tensors: Iterable[CheckpointTensor], num_layers: int
) -> dict[str, int]:
    """Bytes of the served tensors, summed per safetensors dtype."""
    totals: dict[str, int] = {}
    for tensor in tensors:
        if is_served(tensor.name, num_layers):
            totals[tensor.dtype] = totals.get(tensor.dtype, 0) + tensor_bytes(tensor)
    return totals
