"""The host's share of a step an engine runs eagerly: a floor under prompt-carrying steps.

Engines replay decode steps as CUDA graphs, so a decode step costs its GPU time. A step that
carries prompt tokens may run eagerly instead (SGLang's 2025 releases, the catalog's SGLang
profiles: no prefill graph unless ``--enable-piecewise-cuda-graph``; sglang#16331 made
prefill graphs the default in 2026): Python walks the model and launches every kernel of
every layer one by one. The GPU can finish a small prompt's kernels faster than the host launches
them, and then the step takes the host's time, whatever its FLOPs and bytes::

    step = max(GPU time, layers_dense · dense_layer_us + layers_moe · moe_layer_us)

An MoE layer launches more kernels than a dense one (router, top-k, token sorting, grouped
GEMMs, shared expert, combine), so each kind has its own figure. Both are engine data read
off published logs (``catalog/engines.yaml``, ``eager_prefill``), and depend on the host CPU
as much as on the engine: the figures are those of the logged machines.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.domain.architecture import Architecture
from service.domain.moe import moe_layer_count


class EagerPrefill(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Host time to launch one decoder layer of an eagerly run prompt step (µs), by kind of
    layer; zero where the engine graphs its prompt steps or no log measures its launches."""

    dense_layer_us: Annotated[
        float,
        msgspec.Meta(ge=0, description="Host time per dense layer of an eager prompt step (µs)"),
    ] = 0.0
    moe_layer_us: Annotated[
        float,
        msgspec.Meta(ge=0, description="Host time per MoE layer of an eager prompt step (µs)"),
    ] = 0.0


NO_FLOOR = EagerPrefill()
"""An engine whose host never bounds a step (the default)."""


def eager_floor_seconds(arch: Architecture, eager: EagerPrefill) -> float:
    """``layers_dense · dense_layer_us + layers_moe · moe_layer_us`` (module formula), in
    seconds: a prompt passes every layer in turn, pipeline stages included (each stage's host
    is taken to start its launches when the previous stage's activations arrive)."""
    moe_layers = moe_layer_count(arch)
    dense_layers = arch.num_layers - moe_layers
    return (dense_layers * eager.dense_layer_us + moe_layers * eager.moe_layer_us) * 1e-6
