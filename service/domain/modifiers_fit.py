"""Capacity of a deployment with what the layout and the modifiers add to each GPU.

On top of the engine's memory model (:func:`service.domain.capacity.capacity`): expert
parallelism's uneven experts and attention data parallelism's replicated attention weights
(:func:`service.domain.moe.parallel_extra_weight_bytes`), and the speculative proposer's
weights, with its KV cache beside each sequence's
(:func:`service.domain.modifiers_draft.with_draft_kv`). Under vLLM V1 the MTP layers' cache
is the engine's own (``Deployment.num_speculative_tokens``: the draft layers page with the
model's, state layers keep a row and a block more per speculative token).
"""

from __future__ import annotations

import msgspec

from service.domain.architecture import Architecture
from service.domain.capacity import Capacity, Deployment, capacity
from service.domain.engine import EngineProfile
from service.domain.latency import Serving
from service.domain.modifiers import Modifiers, proposer_memory
from service.domain.modifiers_draft import SpeculativeMethod, with_draft_kv
from service.domain.moe import parallel_extra_weight_bytes
from service.domain.parameters import ParameterCount
from service.domain.precision import bytes_per_element
from service.domain.units import format_bytes


def capacity_with_extras(
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    modifiers: Modifiers,
    *,
    loaded_weight_bytes: int,
    deployment: Deployment,
    profile: EngineProfile,
    context_tokens: int,
    with_max_context: bool = False,
) -> Capacity:
    """:func:`capacity` with the module doc's additions to the weights and the KV cache."""
    layout = parallel_extra_weight_bytes(
        arch,
        params,
        bytes_per_element=bytes_per_element(serving.weight_precision),
        tensor_parallel=serving.tensor_parallel,
        pipeline_parallel=serving.pipeline_parallel,
        expert_parallel=serving.expert_parallel,
        attention_data_parallel=serving.attention_data_parallel,
    )
    draft = proposer_memory(
        modifiers, arch, params, serving, mtp_shares_lm_head=profile.mtp_shares_lm_head
    )
    mtp = modifiers.speculative and modifiers.method is SpeculativeMethod.MTP
    if mtp and profile.kind == "vllm-v1":
        # vLLM V1 pages the MTP layers' cache (and the state rows speculation adds) with the
        # model's own: the engine's memory model counts them.
        deployment = msgspec.structs.replace(
            deployment, num_speculative_tokens=modifiers.draft_tokens
        )
        draft = msgspec.structs.replace(draft, kv_bytes_per_token=0)
    if serving.attention_data_parallel:
        deployment = msgspec.structs.replace(deployment, attention_data_parallel=True)
    weights = loaded_weight_bytes + int(layout) + draft.weight_bytes
    fit = capacity(
        arch, weights, deployment, profile, context_tokens, with_max_context=with_max_context
    )
    if not fit.fits and (extras := _weights_named(int(layout), draft.weight_bytes)):
        fit = msgspec.structs.replace(
            fit, reasons=(*fit.reasons, f"the weights per GPU include {extras}")
        )
    return with_draft_kv(fit, draft, context_tokens)


def _weights_named(layout_bytes: int, draft_bytes: int) -> str:
    """What :func:`capacity_with_extras` added to the weights, in words (empty: nothing)."""
    parts = []
    if draft_bytes:
        parts.append(f"the speculative proposer's {format_bytes(draft_bytes)}")
    if layout_bytes:
        parts.append(f"{format_bytes(layout_bytes)} of expert-parallel or attention-DP replication")
    return " and ".join(parts)
