"""Mixture-of-experts as it runs: expert GEMM work, tokens per expert, grouped-GEMM efficiency.

Per token an MoE layer multiplies by ``k`` of its ``E`` routed experts, so the routed matmul
parameters per token are ``N_routed · k/E`` (``N_routed``: every expert of every MoE layer).
A step over ``T`` tokens gives each expert ``n = T·k/E`` tokens on average (uniform routing),
and a grouped GEMM over ``n`` rows reaches a fraction of its large-GEMM throughput that falls
as ``n`` shrinks (few rows per expert: launch and tile waste dominate)::

    g(n) = n / (n + min(n½, m))   (n½ fitted: catalog/calibration.yaml moe_half_tokens)

so the experts' FLOPs run at ``MFU · g(n)``. ``n½ = 0`` means ideal grouped GEMMs. The
waste is rows padded up to the kernel's M tile, so it is at most one tile per expert,
``m`` = :data:`MAX_TILE_ROWS`: a one-row expert GEMM never costs more than a tile's FLOPs,
and at decode the experts stay bound by their weight read (a fitted ``n½`` above ``m``
describes no kernel, and would price one-row expert GEMMs at hundreds of rows). Which
experts a step reads is :func:`service.domain.latency.experts_touched`.

**Expert parallelism** (vLLM ``--enable-expert-parallel``, EP degree = the TP group's ``N``
GPUs): each GPU holds ``E/N`` whole experts instead of a 1/N slice of every expert (same
bytes per GPU). An MoE layer then swaps its MLP all-reduce for two all-to-alls (dispatch the
tokens to their experts' GPUs, combine the results), each GPU sending the ``(N − 1)/N`` of
its ``T/N`` tokens' ``k`` hidden vectors that live elsewhere::

    t_all_to_all = T/N · k · d · 2 B · (N − 1)/N / B_link        per all-to-all, per GPU

vLLM places ``⌊E/N⌋`` experts on each rank and the ``E mod N`` left over on the first ranks
(``determine_expert_map``), so the busiest GPU holds ``⌈E/N⌉`` experts: ``(⌈E/N⌉ − E/N)``
experts' bytes more than the even split (:func:`parallel_extra_weight_bytes`). With
**attention data parallelism** every GPU also holds the whole attention weights, ``(1 − 1/N)``
of them more than TP. EP needs an MoE model and at most ``E`` ranks
(:func:`expert_parallel_problem`).
"""

from __future__ import annotations

import math

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


MAX_TILE_ROWS = 128.0
"""Largest M tile (token rows) of the grouped-GEMM kernels engines run for experts: vLLM's
fused_moe pads each expert's rows to a multiple of ``BLOCK_SIZE_M`` (``moe_align_block_size``;
defaults 16 when the tokens are at most the experts, else 64, ``get_default_config`` in
https://github.com/vllm-project/vllm/blob/000d1458098ebf47491dad470d164d443ab18a9c/vllm/model_executor/layers/fused_moe/fused_moe.py);
TensorRT-LLM's Blackwell MoE kernels use 128-row tiles, and ``tile128x8`` with the output
transposed at few tokens (``trtllmGenKernels/gemmGatedAct/.../KernelMetaInfo.h``)."""


def grouped_gemm_efficiency(tokens_per_expert: float, half_tokens: float) -> float:
    """``g(n) = n / (n + min(n½, m))`` (module doc); 1 when ``n½`` is 0."""
    if half_tokens <= 0:
        return 1.0
    if tokens_per_expert <= 0:
        return 0.0
    return tokens_per_expert / (tokens_per_expert + min(half_tokens, MAX_TILE_ROWS))


ROUTED_ACTIVATION_BYTES = 2
"""Bytes per element of the tokens' hidden states and intermediates inside an MoE layer
(bf16/fp16 activations; FP8/FP4 kernels quantise them on the way in, after this traffic)."""


def routing_bytes_per_token(
    arch: Architecture, tensor_parallel: int, expert_parallel: bool
) -> float:
    """Activation bytes one token moves through the routed experts of every MoE layer, on one
    GPU. Each of its ``k`` (token, expert) pairs writes and reads its permuted hidden state and
    its down projection's output (``2d``) and the gate/up output and the activated
    intermediate (``2I + I``): vLLM ``fused_experts_impl``'s three intermediate caches,
    TensorRT-LLM's permute / grouped-GEMM / finalize buffers::

        bytes = L_moe · k · (2d + 3I/t) · 2 B · 2        TP: every GPU runs every pair, I/t wide
        bytes = L_moe · k · (2d + 3I) · 2 B · 2 / t      EP: a GPU runs 1/t of the pairs, whole

    Memory traffic at the HBM bandwidth: at a few active parameters per token (Qwen3-30B-A3B,
    d = 2048, I = 768, k = 8) it rivals the expert GEMMs' own time in a long prefill.
    """
    if arch.moe is None:
        return 0.0
    t = max(tensor_parallel, 1)
    k, d, width = arch.moe.experts_per_token, arch.hidden_size, arch.moe.expert_intermediate_size
    per_pair = (2 * d + 3 * width) / t if expert_parallel else 2 * d + 3 * width / t
    return moe_layer_count(arch) * k * per_pair * ROUTED_ACTIVATION_BYTES * 2


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


def expert_parallel_problem(arch: Architecture, ranks: int) -> str | None:
    """Why experts cannot be spread whole over ``ranks`` GPUs, or None."""
    if arch.moe is None:
        return "expert parallelism needs a mixture-of-experts model; this one is dense"
    if ranks > arch.moe.num_experts:
        return (
            f"expert parallelism over {ranks} GPUs needs at least one expert each; the model "
            f"has {arch.moe.num_experts} experts"
        )
    return None


def experts_per_gpu(arch: Architecture, ranks: int) -> int:
    """Whole experts on the busiest GPU: ``⌈E/N⌉`` (0 for a dense model)."""
    if arch.moe is None:
        return 0
    return math.ceil(arch.moe.num_experts / max(ranks, 1))


def parallel_extra_weight_bytes(
    arch: Architecture,
    params: ParameterCount,
    *,
    bytes_per_element: float,
    tensor_parallel: int,
    pipeline_parallel: int,
    expert_parallel: bool,
    attention_data_parallel: bool,
) -> float:
    """Weight bytes per GPU beyond the even TP split (module doc): the uneven experts of EP
    and the replicated attention of attention DP, over ``pipeline_parallel`` stages."""
    n = tensor_parallel
    if n <= 1:
        return 0.0
    extra = 0.0
    if expert_parallel and arch.moe is not None:
        per_expert = params.breakdown.routed_experts / arch.moe.num_experts
        extra += (experts_per_gpu(arch, n) - arch.moe.num_experts / n) * per_expert
    if attention_data_parallel:
        extra += params.breakdown.attention * (1 - 1 / n)
    return extra * bytes_per_element / pipeline_parallel
