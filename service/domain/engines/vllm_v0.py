"""vLLM V0 (0.6.x) start-up memory (formula sheet §2.5, ``vllm/worker/worker.py``
``determine_num_available_blocks``)::

    kv_budget = total · gpu_memory_utilization − weights − activation_peak − non_torch − cudagraph

    activation_peak = max(tokens · c · (mlp_width/t + d),           forward pass (profile run)
                          max_num_seqs · V · s)                     sampler warm-up on the logits
    non_torch       = non_torch_bytes + (nccl_bytes if t > 1)

``gpu_memory_utilization`` applies to the device **total**, weights included. The constants
(``c``, ``s``, non-torch bytes) belong to one engine version's profiler: data in
``catalog/engines.yaml`` with the logs they were read from.
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.engines.model_memory import mlp_width
from service.domain.engines.profile import EngineProfile


def batched_tokens(profile: EngineProfile, max_model_len: int, requested: int | None = None) -> int:
    """Tokens in the start-up profiling forward pass: ``--max-num-batched-tokens`` when
    given (V0's ``SchedulerConfig`` profiles that many), else the profile's default."""
    if requested is not None:
        return requested
    if profile.chunked_prefill_tokens is not None:
        return profile.chunked_prefill_tokens
    threshold = profile.auto_chunked_prefill_above
    if threshold is not None and max_model_len > threshold:
        return profile.auto_chunked_prefill_tokens
    return max(max_model_len, profile.min_batched_tokens)


def activation_peak_bytes(
    arch: Architecture,
    profile: EngineProfile,
    max_model_len: int,
    tensor_parallel: int = 1,
    *,
    max_num_batched_tokens: int | None = None,
    max_num_seqs: int | None = None,
) -> int:
    """Torch memory above the parameters at the profile run's peak (see the module formula).

    The forward pass and the sampler warm-up run one after the other, so the peak is the
    larger of the two, not their sum: this is why vLLM logged the same 1.26 GiB for
    Meta-Llama-3-8B at TP1 and TP2 (vllm#10511) although the MLP activations halve.
    Logits are gathered to the full vocabulary on the driver rank, so that term is not
    divided by ``t``. ``max_num_batched_tokens`` / ``max_num_seqs`` are the request's
    ``--max-num-batched-tokens`` / ``--max-num-seqs`` (``None``: the profile's defaults).
    """
    width = mlp_width(arch) / tensor_parallel + arch.hidden_size
    tokens = batched_tokens(profile, max_model_len, max_num_batched_tokens)
    forward = tokens * profile.activation_bytes_per_token_width * width
    seqs = max_num_seqs or profile.max_num_seqs
    sampler = seqs * arch.vocab_size * profile.sampler_bytes_per_logit
    return int(max(forward, sampler))


def non_torch_bytes(profile: EngineProfile, tensor_parallel: int) -> int:
    """CUDA context and libraries, plus NCCL buffers once tensor parallelism is on."""
    return profile.non_torch_bytes + (profile.nccl_bytes if tensor_parallel > 1 else 0)
