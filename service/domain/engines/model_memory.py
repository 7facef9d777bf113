"""What an engine holds for the model itself and sizes its buffers by: the parameters plus
the RoPE cos/sin cache it builds at load, and the widest per-token MLP activation."""

from __future__ import annotations

from service.domain.architecture import Architecture


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
