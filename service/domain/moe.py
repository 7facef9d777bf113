"""Mixture-of-experts as it runs: expert GEMM work, tokens per expert, grouped-GEMM efficiency.

Per token an MoE layer multiplies by ``k`` of its ``E`` routed experts, so the routed matmul
parameters per token are ``N_routed · k/E`` (``N_routed``: every expert of every MoE layer).
A step over ``T`` tokens gives each expert ``n = T·k/E`` tokens on average (uniform routing),
and a grouped GEMM over ``n`` rows reaches a fraction of its large-GEMM throughput that falls
as ``n`` shrinks (few rows per expert: launch and tile waste dominate)::

    g(n) = n / (n + n½)           (n½ fitted: catalog/calibration.yaml moe_half_tokens)

so the experts' FLOPs run at ``MFU · g(n)``. ``n½ = 0`` means ideal grouped GEMMs. Which
experts a step reads is :func:`service.domain.latency.experts_touched`.

**Expert parallelism** (vLLM ``--enable-expert-parallel``, EP degree = the TP group's ``N``
GPUs): each GPU holds ``E/N`` whole experts instead of a 1/N slice of every expert (same
bytes per GPU). An MoE layer then swaps its MLP all-reduce for two all-to-alls (dispatch the
tokens to their experts' GPUs, combine the results), each GPU sending the ``(N − 1)/N`` of
its ``T/N`` tokens' ``k`` hidden vectors that live elsewhere::

    t_all_to_all = T/N · k · d · 2 B · (N − 1)/N / B_link        per all-to-all, per GPU
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.parameters import ParameterCount


def routed_parameters_per_token(arch: Architecture, params: ParameterCount) -> float:
    """Routed-expert weights one token multiplies by: ``N_routed · k/E`` (0 for dense)."""
    if arch.moe is None:
        return 0.0
    return params.breakdown.routed_experts * arch.moe.experts_per_token / arch.moe.num_experts


def tokens_per_expert(arch: Architecture, tokens: float) -> float:
    """Average rows of each expert's GEMM in a step over ``tokens`` tokens: ``T·k/E``."""
    if arch.moe is None:
        return 0.0
    return tokens * arch.moe.experts_per_token / arch.moe.num_experts


def grouped_gemm_efficiency(tokens_per_expert: float, half_tokens: float) -> float:
    """``g(n) = n / (n + n½)`` (module doc); 1 when ``n½`` is 0."""
    if half_tokens <= 0:
        return 1.0
    if tokens_per_expert <= 0:
        return 0.0
    return tokens_per_expert / (tokens_per_expert + half_tokens)


def moe_layer_count(arch: Architecture) -> int:
    """Layers with routed experts."""
    return len(arch.moe.moe_layers) if arch.moe is not None else 0


def all_to_all_seconds(
    arch: Architecture, tokens: float, ranks: int, link_bytes_per_s: float
) -> float:
    """One dispatch or combine all-to-all of a step over ``tokens`` tokens (module doc)."""
    if arch.moe is None or ranks <= 1:
        return 0.0
    sent = tokens / ranks * arch.moe.experts_per_token * arch.hidden_size * 2
    return sent * (ranks - 1) / ranks / link_bytes_per_s
