"""Byte units: GB is 10^9 bytes, GiB is 2^30 bytes; say which."""

from __future__ import annotations

GB = 10**9
GIB = 2**30


def format_bytes(count: float) -> str:
    """Human-readable bytes in decimal GB (how GPUs are sold), e.g. ``141.1 GB``."""
    if abs(count) >= GB:
        return f"{count / GB:.1f} GB"
    if abs(count) >= 10**6:
        return f"{count / 10**6:.1f} MB"
    return f"{int(count)} B"
