"""What an engine holds for the model itself and sizes its buffers by: the parameters plus
the RoPE cos/sin cache it builds at load, and the widest per-token MLP activation.

:func:`weights_as_loaded` is the one source of "weights as loaded" for every answer
(``/v1/max-batch``, ``/v1/latency``, ``/v1/plan``, the frontier): the checkpoint's bytes on
one GPU, the kernel-layout padding the engine adds on that GPU, and the RoPE cache.
"""

from __future__ import annotations

import msgspec

from service.domain.architecture import Architecture
from service.domain.engines.profile import EngineProfile
from service.domain.gpu import GpuSpec
from service.domain.kernel_layout import vllm_mxfp4_expert_padding
from service.domain.parameters import ParameterCount, text_only
from service.domain.precision import Precision
from service.domain.weights import WeightMemory, weight_memory


def mlp_width(arch: Architecture) -> int:
    """Widest per-token MLP intermediate: dense ``f``, or ``k·f_e`` plus shared experts."""
    if arch.moe is None:
        return arch.intermediate_size
    moe = arch.moe
    routed = moe.experts_per_token * moe.expert_intermediate_size
    shared = moe.num_shared_experts * moe.shared_expert_intermediate_size
    dense = arch.intermediate_size if len(moe.moe_layers) < arch.num_layers else 0
    return max(routed + shared, dense)


def rope_cache_bytes(arch: Architecture) -> int:
    """vLLM's rotary cos/sin cache, ``max_position · rotary_dim`` 16-bit values."""
    rotary_dim = arch.mla.qk_rope_head_dim if arch.mla is not None else arch.head_dim
    return arch.max_context_tokens * rotary_dim * 2


def loaded_model_bytes(arch: Architecture, weights_per_gpu_bytes: int) -> int:
    """What vLLM's "model weights take" reports: the parameters plus buffers made at load.

    Llama-3.1-8B: 14.957 GiB of parameters + a 0.031 GiB RoPE cache (131,072 positions x 128)
    = the 14.9888 GiB logged in vllm#10517. Pass this as the weights to ``capacity``.
    """
    return weights_per_gpu_bytes + rope_cache_bytes(arch)


class LoadedWeights(msgspec.Struct, frozen=True, kw_only=True):
    """The parameters on the busiest GPU (``parameters``, with their source) and the buffers
    built at load; ``per_gpu_bytes`` is what the engine's log calls the model's memory."""

    parameters: WeightMemory
    rope_cache_bytes: int

    @property
    def per_gpu_bytes(self) -> int:
        return self.parameters.per_gpu_bytes + self.rope_cache_bytes


def weights_as_loaded(
    arch: Architecture,
    params: ParameterCount,
    precision: Precision,
    tensor_parallel: int,
    pipeline_parallel: int,
    *,
    gpu: GpuSpec,
    profile: EngineProfile,
    mm_items_per_prompt: int | None = None,
) -> LoadedWeights:
    """Parameters per GPU (with vLLM's MXFP4 expert padding for ``gpu``'s compute capability
    when the profile pads) + the RoPE cache (:func:`loaded_model_bytes`).

    ``mm_items_per_prompt`` 0 (vLLM ``--limit-mm-per-prompt`` 0 for every modality, which
    ``--language-model-only`` sets) leaves the encoder out: vLLM's multimodal models build
    their tower only ``if multimodal_config.get_limit_per_prompt("image")`` (e.g.
    ``qwen2_5_vl.py``, ``mistral3.py``, ``llava.py``), so its weights are never loaded.
    """
    if mm_items_per_prompt == 0:
        params = text_only(params)
    padding = (
        vllm_mxfp4_expert_padding(gpu.compute_capability) if profile.pads_mxfp4_experts else None
    )
    memory = weight_memory(
        arch, params, precision, tensor_parallel, pipeline_parallel, expert_padding=padding
    )
    return LoadedWeights(parameters=memory, rope_cache_bytes=rope_cache_bytes(arch))
