"""SGLang's KV pool, as ``ModelRunner.profile_max_num_token`` sizes it.

``python/sglang/srt/model_executor/model_runner.py`` (0.4.x; ``profile_available_bytes``
in 0.5.x keeps the arithmetic)::

    rest  = free_after_load − free_before_load · (1 − mem_fraction_static)
    max_total_num_tokens = rest // cell_size          (page size 1 token)
    cell_size = kv_heads_per_gpu · head_dim · layers · 2 · element   (MLA: latent · layers)

``free_before_load`` is the smallest free memory over the ranks after the distributed
init, so ``rest = free_before · mem_fraction_static − weights``: the fraction covers
weights and KV pool, the rest is left for activations and CUDA graphs. The default
fraction comes from ``ServerArgs.__post_init__`` (``python/sglang/srt/server_args.py``):
by TP degree in 0.4.x (0.88 / 0.87 / 0.85 / 0.81 / 0.79), by GPU memory in 0.5.x
(``(gpu_mem − reserved) / gpu_mem``). The radix cache shares this one pool.

Without ``--max-running-requests`` the running requests are capped by the request table
sized from that pool (:func:`default_max_running_requests`, the profile's
``running_requests`` rule).
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.deployment import Deployment, MemoryBudget
from service.domain.engines.profile import EngineProfile, RunningRequestsRule

MIB = 2**20
"""SGLang reads GPU memory in MiB (``get_nvgpu_memory_capacity``)."""


def default_mem_fraction_static(
    profile: EngineProfile, gpu_memory_bytes: int, tensor_parallel: int, pipeline_parallel: int
) -> float:
    """The first rule of the profile matching this GPU and parallelism (module doc)."""
    gpu_mib = gpu_memory_bytes / MIB
    for rule in profile.mem_fraction_static:
        if rule.reserved_mib is not None:
            if rule.below_gpu_mib is None or gpu_mib < rule.below_gpu_mib:
                parallel = tensor_parallel * pipeline_parallel
                reserved = rule.reserved_mib + rule.reserved_mib_per_gpu * parallel
                return round((gpu_mib - reserved) / gpu_mib, 3)
        elif tensor_parallel >= rule.min_tensor_parallel and rule.fraction is not None:
            return rule.fraction
    return profile.gpu_memory_utilization


def default_max_running_requests(
    rule: RunningRequestsRule, pool_tokens: int, context_len: int
) -> int:
    """``min(tokens // tokens_per_request, clamp(int(tokens / context_len · r), lo, hi) + extra)``
    (:class:`~service.domain.engines.profile.RunningRequestsRule`) for a pool of
    ``pool_tokens`` (``max_total_num_tokens``) and the server's ``context_len``.

    Llama-3.1-8B on an H100 (0.5.x, ~440 K tokens, context 131,072): 2,048.
    """
    estimated = int(pool_tokens / max(context_len, 1) * rule.requests_per_context)
    table = min(max(estimated, rule.min_requests), rule.max_requests) + rule.extra_slots
    return max(min(pool_tokens // rule.tokens_per_request, table), 0)


def pool_bytes(free_before_load_bytes: int, weights_bytes: int, mem_fraction_static: float) -> int:
    """``free_after_load − free_before · (1 − f)`` with ``free_after = free_before − weights``."""
    return int(free_before_load_bytes * mem_fraction_static) - weights_bytes


def memory_budget(
    arch: Architecture, weights_bytes: int, deployment: Deployment, profile: EngineProfile
) -> MemoryBudget:
    """Free before loading = total − CUDA context (and NCCL under TP), from the profile."""
    del arch
    tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
    context = profile.non_torch_bytes + (profile.nccl_bytes if tp > 1 else 0)
    free_before = deployment.gpu_memory_bytes - context
    fraction = deployment.mem_fraction_static or default_mem_fraction_static(
        profile, deployment.gpu_memory_bytes, tp, pp
    )
    kv = pool_bytes(free_before, weights_bytes, fraction)
    return MemoryBudget(
        total=deployment.gpu_memory_bytes,
        usable=int(free_before * fraction),
        weights=weights_bytes,
        activation=0,
        non_torch=context,
        cudagraph=0,
        kv_cache=kv,
    )
