"""File contents the fake Hub serves: plain bytes, or safetensors files built from shapes.

A safetensors file is ``u64 little-endian header length + JSON header + tensor data``. The
data is all zeros and never materialised, so tests can describe real model shapes.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

DTYPE_BYTES: Mapping[str, int] = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U64": 8,
    "U32": 4,
    "U16": 2,
    "U8": 1,
    "BOOL": 1,
}

DTYPE_BITS: Mapping[str, int] = {
    **{dtype: 8 * size for dtype, size in DTYPE_BYTES.items()},
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}
"""Bits per element; sub-byte dtypes (safetensors 0.6 ``F4``, ``F6_*``) pack densely."""

Tensors = Mapping[str, tuple[str, Sequence[int]]]
"""Tensor name -> (safetensors dtype, shape)."""


class Blob(Protocol):
    """A file's size, ETag and byte ranges."""

    @property
    def size(self) -> int: ...

    @property
    def etag(self) -> str: ...

    def read(self, start: int, stop: int) -> bytes:
        """Bytes ``[start, stop)``, clipped to the file."""
        ...


@dataclass(frozen=True)
class BytesBlob:
    """A small file held in memory (``config.json``, an index)."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def read(self, start: int, stop: int) -> bytes:
        return self.data[start:stop]


@dataclass(frozen=True)
class SafetensorsBlob:
    """A safetensors file whose tensor data is zeros, produced on demand."""

    tensors: Tensors
    prefix: bytes = field(init=False)
    data_size: int = field(init=False)

    def __post_init__(self) -> None:
        header, data_size = safetensors_header(self.tensors)
        object.__setattr__(self, "prefix", struct.pack("<Q", len(header)) + header)
        object.__setattr__(self, "data_size", data_size)

    @property
    def size(self) -> int:
        return len(self.prefix) + self.data_size

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.prefix).hexdigest()

    def read(self, start: int, stop: int) -> bytes:
        stop = min(stop, self.size)
        head = self.prefix[start:stop]
        zeros = max(0, stop - max(start, len(self.prefix)))
        return head + bytes(zeros)


def safetensors_header(tensors: Tensors) -> tuple[bytes, int]:
    """The JSON header (space-padded to 8 bytes, as safetensors writes it) and the data size."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        nbytes = math.ceil(math.prod(shape) * DTYPE_BITS[dtype] / 8)
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    return raw + b" " * (-len(raw) % 8), offset


def parameter_counts(tensors: Tensors) -> dict[str, int]:
    """Elements per dtype, as the Hub reports them in ``safetensors.parameters``."""
    counts: dict[str, int] = {}
    for dtype, shape in tensors.values():
        counts[dtype] = counts.get(dtype, 0) + math.prod(shape)
    return counts
