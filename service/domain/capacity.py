"""How many sequences fit: the engine's KV budget, laid out by its allocator, against a context.

vLLM (V0 and V1) closed form, with V1's hybrid allocator (``vllm/v1/core/kv_cache_utils.py``;
one group for uniform models)::

    num_blocks      = floor(kv_budget / (group_size · page_bytes))
    blocks_per_seq  = Σ_groups blocks(group, context)       (sliding: window + 1 block)
    max_batch       = floor(num_blocks / blocks_per_seq)

SGLang pages one token at a time over every layer (``max_total_num_tokens``);
TensorRT-LLM in blocks of ``tokens_per_block`` over every layer. The budget per engine kind
comes from :mod:`service.domain.engines`; the byte formulas from
:mod:`service.domain.kv_cache`. Under attention data parallelism each of the ``t`` GPUs
lays out a cache of its own at TP 1 (every KV head, MLA's whole latent) for its own
sequences: the group holds ``t`` times one rank's batch (and ``max_num_seqs``), one sequence
at most what one rank holds.

Every engine also caps the sequences running at once (:func:`sequence_cap`): the request's
``max_num_seqs`` or, without one, the engine's default for this GPU (vLLM V1's
``batch_defaults`` row, vLLM V0's ``max_num_seqs``, TensorRT-LLM's ``--max_batch_size``,
SGLang's request table from the token pool). ``max_batch`` is the lower of the two, and
``binding_constraint`` says ``max_num_seqs`` when the cap is the lower.
"""

from __future__ import annotations

import enum
import functools

import msgspec

from service.domain.architecture import Architecture
from service.domain.deployment import Deployment, MemoryBudget
from service.domain.engines import sglang, trtllm, vllm_v1
from service.domain.engines.profile import EngineProfile
from service.domain.engines.vllm_v0 import activation_peak_bytes, batched_tokens, non_torch_bytes
from service.domain.kv_cache import (
    KvCacheGroup,
    LayerKvSpec,
    allocator_tokens,
    blocks_per_sequence,
    cache_ranks,
    group_blocks_per_sequence,
    group_page_bytes,
    hybrid_kv_groups,
    layer_groups,
    layer_kv_specs,
    pipeline_stages,
    token_pool_bytes_per_token,
)
from service.domain.precision import Precision
from service.domain.units import format_bytes

__all__ = [
    "BindingConstraint",
    "Capacity",
    "Deployment",
    "KvLayout",
    "MemoryBudget",
    "capacity",
    "kv_layout",
    "max_context_for_batch",
    "memory_budget",
    "sequence_cap",
    "sequence_kv_bytes",
]


class BindingConstraint(enum.StrEnum):
    """What limits the answer."""

    KV_CACHE = "kv_cache_memory"
    WEIGHTS = "weights_exceed_memory"
    MODEL_CONTEXT = "model_max_context"
    MAX_NUM_SEQS = "max_num_seqs"
    MAX_MODEL_LEN = "max_model_len"


class Capacity(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to "how many at once" for one deployment and context.

    ``kv_cache_pool_bytes`` is what the allocator can hand out (whole blocks); under vLLM
    V1's hybrid allocator a block is one group's page, so ``kv_cache_blocks`` times every
    layer's page overcounts: use the pool and ``kv_cache_bytes_per_sequence``.
    """

    fits: bool
    max_batch: int
    kv_cache_tokens: int
    kv_cache_blocks: int
    max_context_for_batch_1: int
    memory: MemoryBudget
    binding_constraint: BindingConstraint
    reasons: tuple[str, ...]
    kv_cache_bytes_per_sequence: int = 0
    kv_cache_pool_bytes: int = 0


class KvLayout(msgspec.Struct, frozen=True, kw_only=True):
    """How one engine pages the KV cache of the busiest GPU.

    ``shared_pool`` (vLLM V1): a block id is one group's page across ``group_size`` layers,
    and every group draws from one pool. Otherwise (vLLM V0, SGLang, TensorRT-LLM) a block
    spans every layer. ``batched_tokens`` is the prefill chunk a sliding window also holds.
    """

    groups: tuple[KvCacheGroup, ...]
    block_bytes: int
    batched_tokens: int
    shared_pool: bool

    def num_blocks(self, kv_budget_bytes: int) -> int:
        return max(kv_budget_bytes, 0) // self.block_bytes

    def tokens(self, num_blocks: int) -> int:
        if self.shared_pool:
            return allocator_tokens(num_blocks, self.groups)
        return num_blocks * self.groups[0].block_tokens

    def sequence_bytes(self, context_tokens: int) -> int:
        """Pages one sequence of ``context_tokens`` holds."""
        if self.shared_pool:
            return (
                blocks_per_sequence(self.groups, context_tokens, self.batched_tokens)
                * self.block_bytes
            )
        return sum(
            group_blocks_per_sequence(g, context_tokens, self.batched_tokens)
            * g.num_layers
            * g.block_tokens
            * g.spec.bytes_per_token
            for g in self.groups
        )


def memory_budget(
    arch: Architecture,
    weights_per_gpu_bytes: int,
    deployment: Deployment,
    profile: EngineProfile,
    max_model_len: int,
) -> MemoryBudget:
    """The engine's per-GPU split; ``kv_cache`` may be negative (nothing fits)."""
    if profile.kind == "vllm-v1":
        return vllm_v1.memory_budget(arch, weights_per_gpu_bytes, deployment, profile)
    if profile.kind == "sglang":
        return sglang.memory_budget(arch, weights_per_gpu_bytes, deployment, profile)
    if profile.kind == "trtllm":
        return trtllm.memory_budget(arch, weights_per_gpu_bytes, deployment, profile)
    usable = int(deployment.gpu_memory_bytes * deployment.gpu_memory_utilization)
    activation = activation_peak_bytes(
        arch,
        profile,
        max_model_len,
        deployment.tensor_parallel,
        max_num_batched_tokens=deployment.max_num_batched_tokens,
        max_num_seqs=deployment.max_num_seqs,
    )
    other = non_torch_bytes(profile, deployment.tensor_parallel)
    kv = usable - weights_per_gpu_bytes - activation - other - profile.cudagraph_bytes
    return MemoryBudget(
        total=deployment.gpu_memory_bytes,
        usable=usable,
        weights=weights_per_gpu_bytes,
        activation=activation,
        non_torch=other,
        cudagraph=profile.cudagraph_bytes,
        kv_cache=kv,
    )


_cached_layer_kv_specs = functools.lru_cache(maxsize=1024)(layer_kv_specs)


def _layer_specs(
    arch: Architecture, precision: Precision, tensor_parallel: int, stage: range, **knobs: int
) -> tuple[LayerKvSpec, ...]:
    """:func:`layer_kv_specs`, remembered: it is pure, and a plan asks the same few
    (precision, TP, stage) of every GPU; an unhashable architecture is computed afresh."""
    try:
        return _cached_layer_kv_specs(arch, precision, tensor_parallel, stage, **knobs)
    except TypeError:
        return layer_kv_specs(arch, precision, tensor_parallel, stage, **knobs)


def kv_layout(
    arch: Architecture, deployment: Deployment, profile: EngineProfile, max_model_len: int
) -> KvLayout:
    """The busiest pipeline stage's cache as the engine lays it out (module doc)."""
    stage = max(pipeline_stages(arch, deployment.pipeline_parallel), key=len)
    if profile.kind == "vllm-v1":
        specs = _layer_specs(
            arch,
            deployment.kv_precision,
            deployment.tensor_parallel,
            stage,
            speculative_tokens=deployment.num_speculative_tokens,
            state_blocks=vllm_v1.state_blocks(arch, profile, deployment),
        )
    else:
        specs = _layer_specs(arch, deployment.kv_precision, deployment.tensor_parallel, stage)
    block = deployment.block_size_tokens or profile.block_size_tokens
    if profile.kind in ("sglang", "trtllm"):
        per_token = token_pool_bytes_per_token(specs)
        pool = LayerKvSpec(kind="full", bytes_per_token=per_token)
        group = KvCacheGroup(spec=pool, num_layers=1, block_tokens=block)
        return KvLayout(
            groups=(group,), block_bytes=block * per_token, batched_tokens=0, shared_pool=False
        )
    if profile.kind == "vllm-v1":
        chunk, _ = vllm_v1.scheduler_limits(profile, deployment)
        chunked = any(s.kind == "chunked" for s in specs)
        hybrid = profile.hybrid_kv_allocator and (profile.chunked_local_hybrid or not chunked)
        groups = hybrid_kv_groups(specs, block, hybrid=hybrid)
        return KvLayout(
            groups=groups,
            block_bytes=group_page_bytes(groups),
            batched_tokens=chunk,
            shared_pool=True,
        )
    layers = layer_groups(specs, block, hybrid=profile.hybrid_kv_allocator)
    return KvLayout(
        groups=layers,
        block_bytes=sum(g.num_layers * g.block_tokens * g.spec.bytes_per_token for g in layers),
        batched_tokens=batched_tokens(profile, max_model_len, deployment.max_num_batched_tokens),
        shared_pool=False,
    )


def data_parallel_ranks(deployment: Deployment) -> int:
    """GPUs that keep caches of their own (:func:`~service.domain.kv_cache.cache_ranks`)."""
    ranks, _ = cache_ranks(deployment.tensor_parallel, deployment.attention_data_parallel)
    return ranks


def rank_deployment(deployment: Deployment) -> Deployment:
    """The deployment one cache-holding rank lays its KV cache out for: under attention
    data parallelism a rank caches its own sequences unsharded (TP 1 for the cache)."""
    _, cache_tp = cache_ranks(deployment.tensor_parallel, deployment.attention_data_parallel)
    if cache_tp == deployment.tensor_parallel:
        return deployment
    return msgspec.structs.replace(deployment, tensor_parallel=cache_tp)


def sequence_kv_bytes(
    arch: Architecture,
    deployment: Deployment,
    profile: EngineProfile,
    context_tokens: int,
    max_model_len: int,
) -> int:
    """Paged KV bytes one sequence of ``context_tokens`` takes on the busiest GPU."""
    layout = kv_layout(arch, rank_deployment(deployment), profile, max_model_len)
    return layout.sequence_bytes(context_tokens)


def capacity(
    arch: Architecture,
    weights_per_gpu_bytes: int,
    deployment: Deployment,
    profile: EngineProfile,
    context_tokens: int,
    *,
    with_max_context: bool = True,
) -> Capacity:
    """Max concurrent sequences of ``context_tokens``.

    vLLM's profile run follows ``deployment.max_model_len`` (the context asked about when
    unset). ``with_max_context=False`` skips the search for the longest single-sequence
    context (reported as 0), which the planner does not need.
    """
    max_model_len = deployment.max_model_len or context_tokens
    budget = memory_budget(arch, weights_per_gpu_bytes, deployment, profile, max_model_len)
    ranks = data_parallel_ranks(deployment)
    layout = kv_layout(arch, rank_deployment(deployment), profile, max_model_len)
    blocks = layout.num_blocks(budget.kv_cache)
    tokens = ranks * layout.tokens(blocks)
    per_sequence = layout.sequence_bytes(context_tokens)
    kv_capacity = blocks * layout.block_bytes
    max_batch = ranks * (kv_capacity // per_sequence) if per_sequence else 0
    longest = min(arch.max_context_tokens, deployment.max_model_len or arch.max_context_tokens)
    max_context = _max_context(arch, layout, kv_capacity, 1, longest) if with_max_context else 0
    reasons: list[str] = []
    binding = BindingConstraint.KV_CACHE
    fixed_kv_overflow = _fixed_kv_overflow(budget, deployment, profile)
    if budget.usable < budget.weights:
        binding = BindingConstraint.WEIGHTS
        reasons.append(
            f"weights need {format_bytes(budget.weights)} per GPU, "
            f"{format_bytes(budget.usable)} usable per GPU ({_usable_share(deployment, profile)}"
            f"{format_bytes(budget.total)})"
        )
    elif budget.kv_cache <= 0:
        reasons.append(
            f"no memory left for the KV cache: weights {format_bytes(budget.weights)} + "
            f"activations {format_bytes(budget.activation)} + runtime "
            f"{format_bytes(budget.non_torch + budget.cudagraph)} exceed "
            f"{format_bytes(budget.usable)} usable"
        )
    elif fixed_kv_overflow:
        reasons.append(fixed_kv_overflow)
        # The engine cannot start with this cache: no pool, no tokens, no sequence.
        max_batch = blocks = tokens = kv_capacity = max_context = 0
        budget = msgspec.structs.replace(budget, kv_cache=0)
    if context_tokens > arch.max_context_tokens:
        binding = BindingConstraint.MODEL_CONTEXT
        reasons.append(
            f"context {context_tokens} tokens exceeds the model's maximum of "
            f"{arch.max_context_tokens}"
        )
        max_batch = 0
    elif deployment.max_model_len is not None and context_tokens > deployment.max_model_len:
        binding = BindingConstraint.MAX_MODEL_LEN
        reasons.append(
            f"context {context_tokens} tokens exceeds max_model_len {deployment.max_model_len}: "
            "the engine refuses longer sequences"
        )
        max_batch = 0
    elif max_batch == 0 and not reasons:
        reasons.append(
            f"one sequence of {context_tokens} tokens needs {format_bytes(per_sequence)} of KV "
            f"cache, {format_bytes(kv_capacity)} available"
        )
    cap = ranks * sequence_cap(arch, deployment, profile, layout.tokens(blocks))
    if max_batch > cap:
        max_batch = cap
        binding = BindingConstraint.MAX_NUM_SEQS
    return Capacity(
        fits=max_batch >= 1,
        max_batch=max_batch,
        kv_cache_tokens=tokens,
        kv_cache_blocks=blocks,
        max_context_for_batch_1=max_context,
        memory=msgspec.structs.replace(budget, kv_cache=max(budget.kv_cache, 0)),
        binding_constraint=binding,
        reasons=tuple(reasons),
        kv_cache_bytes_per_sequence=per_sequence,
        kv_cache_pool_bytes=kv_capacity,
    )


def sequence_cap(
    arch: Architecture, deployment: Deployment, profile: EngineProfile, pool_tokens: int
) -> int:
    """Sequences one cache-holding rank runs at once: ``deployment.max_num_seqs``, else the
    engine's default (each from ``catalog/engines.yaml``):

    * vLLM V1: the ``batch_defaults`` row for this GPU (``EngineArgs.get_batch_defaults``:
      1024 on >= 70 GiB GPUs other than A100s, else 256), the profile's ``max_num_seqs``
      when no row applies;
    * SGLang: ``--max-running-requests`` from the token pool of ``pool_tokens`` and the
      served context (``max_model_len``, else the model's) by the profile's
      ``running_requests`` rule (:func:`sglang.default_max_running_requests`);
    * vLLM V0 (``SchedulerConfig``) and TensorRT-LLM (``--max_batch_size``): the profile's
      ``max_num_seqs``.
    """
    if deployment.max_num_seqs is not None:
        return deployment.max_num_seqs
    if profile.kind == "vllm-v1":
        return vllm_v1.scheduler_limits(profile, deployment)[1]
    if profile.kind == "sglang" and profile.running_requests is not None:
        context_len = deployment.max_model_len or arch.max_context_tokens
        return sglang.default_max_running_requests(
            profile.running_requests, pool_tokens, context_len
        )
    return profile.max_num_seqs


def _usable_share(deployment: Deployment, profile: EngineProfile) -> str:
    """How the usable memory was taken from the total, as the engine's own knob."""
    if profile.kind.startswith("vllm"):
        return f"{deployment.gpu_memory_utilization:.0%} of "
    if profile.kind == "sglang":
        return "mem_fraction_static of the free "
    return "the total less the runtime, of "


def _fixed_kv_overflow(budget: MemoryBudget, deployment: Deployment, profile: EngineProfile) -> str:
    """Why vLLM V1 cannot allocate the ``kv_cache_memory_bytes`` asked for (empty: it can):
    the cache must fit in the GPU's memory beside the weights, the profile run's activations,
    the runtime's memory and the CUDA graphs (gpu_memory_utilization no longer applies)."""
    if profile.kind != "vllm-v1" or deployment.kv_cache_memory_bytes is None:
        return ""
    others = budget.beside_kv_bytes
    room = budget.total - others
    if deployment.kv_cache_memory_bytes <= room:
        return ""
    return (
        f"kv_cache_memory_bytes {format_bytes(deployment.kv_cache_memory_bytes)} does not fit: "
        f"{format_bytes(max(room, 0))} of the GPU's {format_bytes(budget.total)} is left beside "
        f"weights, activations and runtime ({format_bytes(others)})"
    )


def _max_context(
    arch: Architecture,
    layout: KvLayout,
    kv_capacity_bytes: int,
    batch: int,
    longest: int | None = None,
) -> int:
    """Binary search: paged bytes per sequence never decrease as the context grows; at most
    ``longest`` (default: the model's maximum)."""
    low, high = 0, arch.max_context_tokens if longest is None else longest
    while low < high:
        middle = (low + high + 1) // 2
        if batch * layout.sequence_bytes(middle) <= kv_capacity_bytes:
            low = middle
        else:
            high = middle - 1
    return low


def max_context_for_batch(
    arch: Architecture,
    deployment: Deployment,
    profile: EngineProfile,
    kv_capacity_bytes: int,
    batch: int,
    max_model_len: int,
) -> int:
    """Largest context (<= the model's maximum) for which ``batch`` sequences fit in
    ``kv_capacity_bytes`` of pages; 0 if none."""
    ranks = data_parallel_ranks(deployment)
    layout = kv_layout(arch, rank_deployment(deployment), profile, max_model_len)
    return _max_context(arch, layout, kv_capacity_bytes, -(-batch // ranks))
