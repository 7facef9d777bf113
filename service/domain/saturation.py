"""Continuous batching at steady state: saturated throughput, and queueing before admission.

**Saturated (offline) throughput.** With every request queued (``trtllm-bench throughput``,
``vllm bench throughput``) the engine runs at the largest batch ``B`` its KV cache and its
``max_batch_size`` allow; a finished sequence is replaced at once. Each request costs one
prefill of ``ISL`` tokens and ``OSL`` decode steps while its context grows from ISL to
ISL + OSL. Over ``OSL`` steps all ``B`` slots turn over once, so ``B`` prefills and
``OSL`` batched decode steps produce ``B·OSL`` tokens::

    throughput = B·OSL / (OSL·t_step(B, T̄) + B·t_prefill(ISL))        tokens/s
    T̄ = ISL + OSL/2                         (slots are spread evenly over their lifetimes)
    B = min(max_batch_size, floor(KV tokens / (ceil((ISL + OSL)/block)·block)))

The step is linear in each sequence's context, so a batch of sequences spread uniformly
over their lifetimes costs exactly one step at the mean context T̄. The engine reserves
ISL + OSL tokens per admitted request (TensorRT-LLM's default ``GUARANTEED_NO_EVICT``
capacity policy). Prefill runs in chunks of ``max_num_tokens`` shared by several prompts
(in-flight batching), so one prompt's share is ``t_pass(chunk)/prompts_per_chunk``; the
chunk follows trtllm-bench's heuristic ``clamp(B·(1 + ISL/OSL), 2048, 32768)``
(``tensorrt_llm/bench/build/tuning.py``, ``finetune_setting``).

**Queueing.** Requests arrive at ``λ`` per second; the engine at its saturated batch serves
``μ = throughput / OSL`` requests per second. With utilisation ``ρ = λ/μ`` the mean wait
before admission is the Pollaczek–Khinchine M/D/1 result for a deterministic service time
``S = 1/μ`` (Kleinrock, *Queueing Systems* vol. 1, 1975, §5.7)::

    W_q  = ρ·S / (2·(1 − ρ))                 (ρ < 1; unbounded once ρ ≥ 1: saturated)
    TTFT = TTFT_unloaded + W_q

Treating the B slots as one server of rate μ is conservative next to M/D/B (the engine
admits into any free slot), and exact in the limit ρ → 1 where the wait matters.
"""

from __future__ import annotations

import math

import msgspec


class ContinuousBatching(msgspec.Struct, frozen=True, kw_only=True):
    """An engine's scheduler limits for steady-state batching, with their source."""

    name: str
    max_batch_size: int = 4096
    kv_memory_fraction: float = 0.9
    kv_block_tokens: int = 32
    min_chunk_tokens: int = 2048
    max_chunk_tokens: int = 32768
    sources: tuple[str, ...] = ()


class Queueing(msgspec.Struct, frozen=True, kw_only=True):
    """Load on one replica and what it does to the time to first token."""

    arrival_rate_per_s: float
    service_rate_per_s: float
    utilisation: float
    saturated: bool
    queue_wait_ms: float
    ttft_ms: float


def steady_state_batch(
    kv_cache_tokens: float, input_tokens: int, output_tokens: int, engine: ContinuousBatching
) -> int:
    """Sequences that fit at once when each reserves its whole ISL + OSL (block-rounded)."""
    block = engine.kv_block_tokens
    per_sequence = math.ceil((input_tokens + output_tokens) / block) * block
    return max(0, min(engine.max_batch_size, math.floor(kv_cache_tokens / per_sequence)))


def prefill_chunk_tokens(
    batch: int, input_tokens: int, output_tokens: int, engine: ContinuousBatching
) -> int:
    """Tokens per scheduler step: ``clamp(B·(1 + ISL/OSL), min, max)``.

    At steady state B/OSL prompts start per step, so ``B·ISL/OSL`` prefill tokens ride along
    with the ``B`` decode tokens; trtllm-bench sizes ``max_num_tokens`` the same way.
    """
    wanted = batch * (1 + input_tokens / output_tokens)
    return int(min(engine.max_chunk_tokens, max(engine.min_chunk_tokens, wanted)))


def prompts_per_chunk(input_tokens: int, chunk_tokens: int) -> float:
    """Prompts sharing one prefill pass; below 1 a prompt is split over several passes."""
    return chunk_tokens / input_tokens


def saturated_throughput(batch: int, output_tokens: int, step_s: float, prefill_s: float) -> float:
    """Output tokens/s at steady state: ``B·OSL / (OSL·t_step + B·t_prefill)`` (module doc)."""
    if batch <= 0:
        return 0.0
    return batch * output_tokens / (output_tokens * step_s + batch * prefill_s)


def queueing(
    arrival_rate_per_s: float, service_rate_per_s: float, unloaded_ttft_ms: float
) -> Queueing:
    """M/D/1 wait before admission added to the unloaded TTFT (module doc).

    ``service_rate_per_s`` is the replica's saturated request rate (throughput / OSL). At or
    above it the queue grows without bound: ``saturated`` is true and the wait is infinite.
    """
    if arrival_rate_per_s < 0 or service_rate_per_s <= 0:
        raise ValueError("arrival rate must be >= 0 and service rate > 0")
    rho = arrival_rate_per_s / service_rate_per_s
    wait_ms = math.inf if rho >= 1 else rho / (2 * service_rate_per_s * (1 - rho)) * 1e3
    return Queueing(
        arrival_rate_per_s=arrival_rate_per_s,
        service_rate_per_s=service_rate_per_s,
        utilisation=rho,
        saturated=rho >= 1,
        queue_wait_ms=wait_ms,
        ttft_ms=unloaded_ttft_ms + wait_ms,
    )


def replica_queueing(
    arrival_rate_per_s: float,
    *,
    batch: int,
    output_tokens: int,
    step_s: float,
    prefill_s: float,
    unloaded_ttft_ms: float,
) -> Queueing:
    """:func:`queueing` for one replica whose service rate is its saturated request rate,
    ``saturated_throughput(B, OSL, t_step, t_prefill) / OSL``."""
    tokens_per_s = saturated_throughput(batch, output_tokens, step_s, prefill_s)
    return queueing(arrival_rate_per_s, tokens_per_s / output_tokens, unloaded_ttft_ms)
