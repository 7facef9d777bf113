"""One scheduler step's time under continuous batching with chunked prefill: the cost model.

A step carries ``b`` sequences in decode (one token each, ``verify_tokens`` each with
speculative decoding) and ``p`` prompt tokens (a chunk of a prompt); it reads the weights once
and does the FLOPs of all ``b + p`` tokens (:func:`step_seconds`). :class:`StepCosts` holds a
workload's parts on a deployment (:func:`step_costs`); :class:`StepConstants` the terms that
depend only on the costs and the efficiencies, computed once per configuration and remembered
(:func:`step_constants`). A step carrying prompt tokens that the engine runs eagerly takes
at least its host's kernel launches (:mod:`service.domain.host_launch`). The steady state and
the burst built on these steps are :mod:`service.domain.batching`.
"""

from __future__ import annotations

import functools

import msgspec

from service.domain.architecture import Architecture
from service.domain.host_launch import eager_floor_seconds
from service.domain.latency import (
    Bound,
    Efficiency,
    Phase,
    PhaseTerms,
    Serving,
    decode_terms,
    experts_touched,
    prefill_terms,
    roofline_seconds,
    rows_per_touched_expert,
    weight_bytes_read,
)
from service.domain.moe import grouped_gemm_efficiency
from service.domain.parameters import ParameterCount


class StepCosts(msgspec.Struct, frozen=True, kw_only=True):
    """A step's parts at 100 % of every peak (seconds on one GPU, × pipeline stages).

    ``decode``: one sequence's decode token at the mean context ``ISL + OSL/2``; ``prompt``:
    one whole prompt of ``input_tokens`` (the tokens computed: a cached prefix is not).
    Both are linear in their token counts except the weight read, kept apart as the dense
    bytes plus the routed experts (read by the share of experts the step's tokens touch).
    With speculative decoding each sequence runs ``verify_tokens`` tokens per step (the
    draft plus one) and keeps ``tokens_per_step`` of them on average
    (:mod:`service.domain.modifiers`). ``eager_floor_s``: the least a step carrying prompt
    tokens takes when the engine runs it eagerly (its host's launches,
    :mod:`service.domain.host_launch`). ``admission_interval_steps``: decode steps between
    the scheduler's looks for new requests (:class:`~service.domain.latency.Serving`), which
    the steady state's wait reads (:mod:`service.domain.batching`).
    """

    decode: PhaseTerms
    prompt: PhaseTerms
    input_tokens: int
    output_tokens: int
    dense_weight_read_s: float
    routed_weight_read_s: float = 0.0
    num_experts: int = 0
    experts_per_token: int = 0
    verify_tokens: int = 1
    tokens_per_step: float = 1.0
    eager_floor_s: float = 0.0
    admission_interval_steps: int = 1

    def weight_read_s(self, tokens: float) -> float:
        """Weight read of a step over ``tokens`` tokens (all experts once touched)."""
        if self.num_experts == 0:
            return self.dense_weight_read_s
        touched = experts_touched(self.num_experts, self.experts_per_token, max(tokens, 0.0))
        return self.dense_weight_read_s + self.routed_weight_read_s * touched / self.num_experts


def step_costs(
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    *,
    input_tokens: int,
    output_tokens: int,
) -> StepCosts:
    """The :class:`StepCosts` of a workload on a deployment."""
    decode = decode_terms(arch, params, serving, batch=1, context=input_tokens + output_tokens // 2)
    prompt = prefill_terms(arch, params, serving, prompts=1, tokens=input_tokens)
    bandwidth = serving.gpu.memory_bandwidth_bytes_per_s
    pp = serving.pipeline_parallel
    floor_s = eager_floor_seconds(arch, serving.eager_prefill)
    if arch.moe is None:
        return StepCosts(
            decode=decode,
            prompt=prompt,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            dense_weight_read_s=decode.weight_read_s,
            eager_floor_s=floor_s,
            admission_interval_steps=serving.admission_interval_steps,
        )
    everything = pp * weight_bytes_read(arch, params, serving, 10**9) / bandwidth
    dense = pp * weight_bytes_read(arch, params, serving, 0) / bandwidth
    return StepCosts(
        decode=decode,
        prompt=prompt,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        dense_weight_read_s=dense,
        routed_weight_read_s=everything - dense,
        num_experts=arch.moe.num_experts,
        experts_per_token=arch.moe.experts_per_token,
        eager_floor_s=floor_s,
        admission_interval_steps=serving.admission_interval_steps,
    )


def step_seconds(
    costs: StepCosts, eff: Efficiency, *, decode_batch: float, prompt_tokens: float
) -> float:
    """One scheduler step: ``decode_batch`` decode tokens and ``prompt_tokens`` prompt tokens.

    The matmuls read the weights once for all tokens (decode tokens at decode MFU, prompt
    tokens at prefill MFU; weight read and math joined at the roofline's rounded knee,
    :func:`~service.domain.latency.roofline_seconds`); attention of each kind at its own
    roofline; all-reduce latency and fixed costs once per step. With no prompt tokens this is
    :func:`~service.domain.latency.phase_seconds` of a decode step, with no decodes that of
    a prefill pass over ``prompt_tokens``; a step with prompt tokens that the engine runs
    eagerly lasts at least its host floor (:mod:`service.domain.host_launch`).
    (:meth:`StepConstants.seconds`.)
    """
    return step_constants(costs, eff).seconds(decode_batch, prompt_tokens)


def step_phase(
    costs: StepCosts, eff: Efficiency, *, decode_batch: float, prompt_tokens: float
) -> Phase:
    """One scheduler step as :func:`step_seconds` prices it (``decode_batch`` decodes, with
    speculative decoding ``verify_tokens`` each and the proposer's passes; ``prompt_tokens``
    prompt tokens, the cached prefix left out), split into its parts: the matmuls' and
    attention's maths (compute, a prompt's attention counted there), the weight, KV and
    routing reads (memory), the collectives (communication) and the fixed costs (overhead).
    ``ms`` joins them as the step does (the weight read and the matmuls at their roofline's
    knee, attention at its own), so it is at most their sum; ``bound`` is the largest of
    the first three. A step whose engine's host takes longer than its GPU work (an eager
    prompt step, :mod:`service.domain.host_launch`) takes the host's time, counted as
    overhead, and is bound by the ``host``."""
    steps = step_constants(costs, eff)
    weights, matmuls, kv, attention, prompt_attention, routing, communication = steps.terms(
        decode_batch, prompt_tokens
    )
    compute, memory = matmuls + attention + prompt_attention, weights + kv + routing
    parts = {
        Bound.COMPUTE: compute,
        Bound.MEMORY_BANDWIDTH: memory,
        Bound.COMMUNICATION: communication,
    }
    gpu_s = steps.gpu_seconds(decode_batch, prompt_tokens)
    step_s = steps.seconds(decode_batch, prompt_tokens)
    return Phase(
        ms=step_s * 1e3,
        compute_ms=compute * 1e3,
        memory_ms=memory * 1e3,
        communication_ms=communication * 1e3,
        overhead_ms=(steps.overhead_s + (step_s - gpu_s if step_s > gpu_s else 0.0)) * 1e3,
        bound=Bound.HOST if step_s > gpu_s else max(parts, key=lambda key: parts[key]),
    )


class StepConstants(msgspec.Struct, frozen=True):
    """:func:`step_seconds` of one deployment and workload, and what its steady state
    (:mod:`service.domain.batching`) reads: what depends only on the costs and efficiencies
    computed once (a plan search prices hundreds of configurations, ~45 points each, three
    steps per point).

    ``weights_s``: the dense weight read at decode MBU (a dense model's whole read);
    ``*_dense`` / ``*_expert``: a token's matmul seconds outside / inside the routed experts;
    ``*_per_token``: their sum at expert efficiency 1 (a dense model's matmul);
    ``prompt_attention_s``: a whole prompt's attention at its roofline; ``all_reduce_s`` and
    ``overhead_s``: the once-per-step latency and fixed costs; ``eager_floor_s``: the host
    floor of an eager prompt step (``costs``). MoE costs read
    the routed experts' weight share and grouped-GEMM efficiency per step from ``costs``.
    """

    costs: StepCosts
    moe_half_tokens: float
    input_tokens: int
    verify_tokens: int
    tokens_per_step: float
    decode_tokens: int
    weights_s: float
    decode_dense: float
    decode_expert: float
    prompt_dense: float
    prompt_expert: float
    decode_per_token: float
    prompt_per_token: float
    decode_mfu: float
    decode_mbu: float
    prefill_mfu: float
    kv_s: float
    attention_s: float
    routing_s: float
    prompt_attention_s: float
    decode_communication_s: float
    prompt_communication_s: float
    all_reduce_s: float
    overhead_s: float
    eager_floor_s: float

    def seconds(self, decode_batch: float, prompt_tokens: float) -> float:
        """:func:`step_seconds` (its doc): the GPU's time (:meth:`gpu_seconds`), or the
        engine's host floor when the step carries prompt tokens it runs eagerly and the
        floor is longer (:mod:`service.domain.host_launch`)."""
        gpu_s = self.gpu_seconds(decode_batch, prompt_tokens)
        floor_s = self.eager_floor_s
        if prompt_tokens > 0 and floor_s > gpu_s:
            return floor_s
        return gpu_s

    def gpu_seconds(self, decode_batch: float, prompt_tokens: float) -> float:
        """The step's GPU time; ``max(x, y)`` written ``y if y > x else x``, what the builtin
        returns, ties and NaN included; the matmuls' knee is
        :func:`~service.domain.latency.roofline_seconds`."""
        weights, matmuls, kv, attention, prompt_attention, routing, communication = self.terms(
            decode_batch, prompt_tokens
        )
        matmuls = roofline_seconds(weights, matmuls)
        attention = (attention if attention > kv else kv) + (prompt_attention + routing)
        return matmuls + attention + communication + self.overhead_s

    def terms(
        self, decode_batch: float, prompt_tokens: float
    ) -> tuple[float, float, float, float, float, float, float]:
        """The step's parts before :meth:`seconds` joins them, in seconds: the weight read,
        the matmuls' maths, the decodes' KV read, their attention maths, the prompt's
        attention (at its own roofline), the MoE routing and the communication (bytes and
        the all-reduces' latency); the fixed costs are ``overhead_s``."""
        b, share = decode_batch, prompt_tokens / self.input_tokens
        run = b * self.verify_tokens
        costs = self.costs
        if costs.num_experts:
            tokens = run + prompt_tokens
            weights = costs.weight_read_s(tokens) / self.decode_mbu
            expert = 1.0
            rows = rows_per_touched_expert(costs.num_experts, costs.experts_per_token, tokens)
            if rows > 0:
                expert = grouped_gemm_efficiency(rows, self.moe_half_tokens)
            decode_k = self.decode_dense + self.decode_expert / expert
            prompt_k = self.prompt_dense + self.prompt_expert / expert
        else:
            weights, decode_k, prompt_k = (
                self.weights_s,
                self.decode_per_token,
                self.prompt_per_token,
            )
        matmuls = run * decode_k / self.decode_mfu + share * prompt_k / self.prefill_mfu
        kv, attention = b * self.kv_s / self.decode_mbu, run * self.attention_s / self.decode_mfu
        communication = (
            run * self.decode_communication_s
            + share * self.prompt_communication_s
            + self.all_reduce_s
        )
        return (
            weights,
            matmuls,
            kv,
            attention,
            share * self.prompt_attention_s,
            run * self.routing_s,
            communication,
        )


@functools.lru_cache(maxsize=256)
def step_constants(costs: StepCosts, eff: Efficiency) -> StepConstants:
    """The :class:`StepConstants` of ``costs`` at ``eff`` (each term as :func:`step_seconds` forms
    it; a dense model's expert efficiency is 1), remembered: a simulation or a bisection
    asks :func:`step_seconds` of the same costs step after step."""
    d, p = costs.decode, costs.prompt
    expert = 1.0
    return StepConstants(
        costs=costs,
        moe_half_tokens=eff.moe_half_tokens,
        input_tokens=costs.input_tokens,
        verify_tokens=costs.verify_tokens,
        tokens_per_step=costs.tokens_per_step,
        decode_tokens=max(costs.output_tokens - 1, 1),
        weights_s=costs.dense_weight_read_s / eff.decode_mbu,
        decode_dense=d.matmul_s - d.expert_matmul_s,
        decode_expert=d.expert_matmul_s,
        prompt_dense=p.matmul_s - p.expert_matmul_s,
        prompt_expert=p.expert_matmul_s,
        decode_per_token=d.matmul_s - d.expert_matmul_s + d.expert_matmul_s / expert,
        prompt_per_token=p.matmul_s - p.expert_matmul_s + p.expert_matmul_s / expert,
        decode_mfu=eff.decode_mfu,
        decode_mbu=eff.decode_mbu,
        prefill_mfu=eff.prefill_mfu,
        kv_s=d.kv_s,
        attention_s=d.attention_s,
        routing_s=d.routing_s / eff.decode_mbu,
        prompt_attention_s=max(p.kv_s / eff.prefill_mbu, p.attention_s / eff.prefill_mfu)
        + p.routing_s / eff.prefill_mbu,
        decode_communication_s=d.communication_s / eff.link_efficiency,
        prompt_communication_s=p.communication_s / eff.link_efficiency,
        all_reduce_s=max(d.all_reduces, p.all_reduces) * eff.all_reduce_latency_us * 1e-6,
        overhead_s=(
            eff.step_overhead_ms / 1e3 + max(d.layers, p.layers) * eff.layer_overhead_us / 1e6
        ),
        eager_floor_s=costs.eager_floor_s,
    )
