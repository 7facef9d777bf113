"""Multi-GPU arithmetic: valid tensor-parallel degrees and all-reduce time."""

from __future__ import annotations

from service.domain.architecture import Architecture


def all_reduce_seconds(
    message_bytes: float, ranks: int, link_bytes_per_s: float, latency_s: float
) -> float:
    """Ring all-reduce: ``α + 2(n−1)/n · S / B_link`` (NCCL tests ``doc/PERFORMANCE.md``).

    Zero on one rank. Megatron-style TP runs two of these per layer in the forward pass
    (Megatron-LM §3), with ``S = tokens · d · 2`` bytes.
    """
    if ranks <= 1:
        return 0.0
    return latency_s + 2 * (ranks - 1) / ranks * message_bytes / link_bytes_per_s


def valid_tensor_parallel_degrees(arch: Architecture, max_degree: int) -> list[int]:
    """Powers of two up to ``max_degree`` that divide the attention heads (vLLM's rule)."""
    degrees = []
    degree = 1
    while degree <= max_degree:
        if arch.num_attention_heads % degree == 0:
            degrees.append(degree)
        degree *= 2
    return degrees
