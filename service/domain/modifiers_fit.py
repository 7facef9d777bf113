"""Capacity of a deployment with what the layout and the modifiers add to each GPU.

On top of the engine's memory model (:func:`service.domain.capacity.capacity`): expert
parallelism's uneven experts and attention data parallelism's replicated attention weights
(:func:`service.domain.moe.parallel_extra_weight_bytes`), and the speculative proposer's
weights, with its KV cache beside each sequence's
(:func:`service.domain.modifiers_draft.with_draft_kv`).
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.capacity import Capacity, Deployment, capacity
from service.domain.engine import EngineProfile
from service.domain.latency import Serving
from service.domain.modifiers import Modifiers, proposer_memory
from service.domain.modifiers_draft import with_draft_kv
from service.domain.moe import parallel_extra_weight_bytes
from service.domain.parameters import ParameterCount
from service.domain.precision import bytes_per_element


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
    draft = proposer_memory(modifiers, arch, params, serving)
    weights = loaded_weight_bytes + int(layout) + draft.weight_bytes
    fit = capacity(
        arch, weights, deployment, profile, context_tokens, with_max_context=with_max_context
    )
    return with_draft_kv(fit, draft, context_tokens)
