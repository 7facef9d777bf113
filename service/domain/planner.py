"""The /plan search: every GPU x parallelism x precision, ranked, with rejections explained.

For each catalog GPU, each requested weight and KV precision, each tensor-parallel degree
that divides the attention heads (and pipeline stages beyond one node), the planner asks
:func:`capacity` whether the workload's context fits, adds data-parallel replicas until
the workload's concurrency fits, and estimates latency at the per-replica batch. An MoE
model's multi-GPU layouts are also tried with expert parallelism, and with expert
parallelism plus attention data parallelism (:mod:`service.domain.moe`): three candidates
per layout, which the API's search-space count includes.
An infeasible question is an answer: empty ``configurations`` and the reasons.

A configuration's top-level figures are its aggregated arrangement; with
``SearchSpace.disaggregated`` and a request rate it also carries prefill and decode pools,
and ``serving`` says which of the two it recommends (:mod:`service.domain.arrangement`).
:func:`rank` orders by the recommended arrangement's figures.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import msgspec

from service.domain.architecture import Architecture
from service.domain.arrangement import Arrangement, Figures, pool_figures, recommended
from service.domain.capacity import Deployment, MemoryBudget
from service.domain.disaggregation import Disaggregated, disaggregate, judged_against
from service.domain.engine import EngineProfile
from service.domain.engines.model_memory import weights_as_loaded
from service.domain.engines.profile import on_engine
from service.domain.gpu import ExecutionMode, GpuSpec
from service.domain.kv_cache import kv_cache_bytes_per_token
from service.domain.latency import Efficiency, Serving
from service.domain.modifiers import Modifiers, apply
from service.domain.modifiers_fit import capacity_with_extras
from service.domain.moe import expert_parallel_problem
from service.domain.parallel import valid_tensor_parallel_degrees
from service.domain.parameters import ParameterCount
from service.domain.precision import Precision
from service.domain.pricing import deployment_cost
from service.domain.served_dtype import served_precision, weight_execution
from service.domain.serving import (
    ServingLatency,
    at_users,
    replicas_for_rate,
    step_token_budget,
)
from service.domain.step_time import StepCosts, step_costs, step_phase
from service.domain.weights import resolve_weight_precision

TTFT_MS = (
    "Steady-state time to first token (ms) of one request at the stated concurrency (per "
    "replica) under continuous batching with chunked prefill at the engine's "
    "max_num_batched_tokens: its prompt's chunks share steps with the other sequences' "
    "decodes, plus the wait when the server is busy. SLO checks use it unless slo.burst."
)
BURST_TTFT_MS = (
    "Time (ms) until the last of N simultaneous prompts (N = the stated concurrency per "
    "replica) gets its first token: a static batch or a burst of arrivals. Past max_batch "
    "they come in waves: each wave prefills, decodes and leaves before the next is admitted."
)
WEIGHT_EXECUTION = (
    "How the chip runs the weight format: on its own tensor cores at that rate, or weight-only "
    "(dequantised in the kernel: decode reads the narrow weights, the maths runs at the "
    "16-bit rate, the emulation cost priced in). When auto weights are not the checkpoint's "
    "dtype, it first says why (a bf16 checkpoint is served in fp16 on a GPU without bf16, as "
    "vLLM's --dtype auto does)."
)
DISAGGREGATED = (
    "The disaggregated arrangement, with constraints.disaggregated and "
    "workload.requests_per_s (null otherwise, or when the pools exceed max_gpus or cannot "
    "keep up): separate prefill and decode pools of this layout sized for the rate and the "
    "TTFT and TPOT targets, the KV cache handed over the interconnect, with their own GPU "
    "count, latency, throughput and cost. beats_aggregated says whether they meet the SLO "
    "with fewer GPUs than the top-level (aggregated) gpu_count, or meet an SLO the aggregated "
    "arrangement misses; exactly then serving is disaggregated and these figures rank."
)
SERVING = (
    "The arrangement capplan recommends for this configuration, and the one it is ranked by: "
    "'disaggregated' exactly when disaggregated.beats_aggregated is true, and then the "
    "ranking (objective, meeting the SLO, fewer GPUs first) and the pruning of dominated "
    "configurations use disaggregated.gpu_count, cost_per_million_output_tokens, e2e_ms, "
    "output_tokens_per_s and meets_slo; otherwise 'aggregated', ranked by the top-level "
    "figures. The top-level figures always describe the aggregated arrangement."
)
AGGREGATED = " Aggregated arrangement (see serving)."
TPOT_MS = (
    "Steady-state time per output token (ms) of one request: the decode step of the "
    "sequences decoding at once, with the stall of other requests' prompt chunks interleaved "
    "into decode steps, over the tokens a step keeps per sequence (1; more with speculative "
    "decoding)."
)
E2E_MS = "End-to-end time of one request in milliseconds."


class Objective(enum.StrEnum):
    COST = "cost"
    LATENCY = "latency"
    THROUGHPUT = "throughput"


class Workload(msgspec.Struct, frozen=True, kw_only=True):
    """What to serve: sequence lengths and either concurrent users or a request rate
    (``requests_per_s``: replicas are added until each one's share is served at steady state,
    below saturation and within the SLO when one is given). The API's
    ``workload.arrival_rate_per_s`` is not a field here: it judges configurations sized for
    ``concurrency`` by queueing after the search, and is refused beside ``requests_per_s``
    (:func:`service.planning.question.checked_rates`)."""

    input_tokens: int
    output_tokens: int
    concurrency: int = 1
    requests_per_s: float | None = None
    modifiers: Modifiers = Modifiers()


class Slo(msgspec.Struct, frozen=True, kw_only=True):
    """Targets; ``burst`` judges the TTFT target against ``burst_ttft_ms`` instead."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    burst: bool = False


class SearchSpace(msgspec.Struct, frozen=True, kw_only=True):
    """What the search may vary. ``auto`` weights are the checkpoint's own format, served as
    vLLM's ``--dtype auto`` serves it on each GPU (a bf16 checkpoint in fp16 where the chip has
    no bf16: :func:`~service.domain.served_dtype.served_precision`); ``auto`` KV is that
    model dtype. With
    ``native_low_precision`` a 16-bit checkpoint is also tried in fp8 (and nvfp4) on each GPU
    whose tensor cores run that format natively (``GpuSpec.execution``), since serving it so
    is a flag away (``--quantization fp8``). List ``bf16`` instead of ``auto`` to search
    16-bit only."""

    weight_dtypes: tuple[str, ...] = ("auto",)
    native_low_precision: bool = False
    kv_cache_dtypes: tuple[str, ...] = ("auto",)
    max_gpus: int = 16
    gpu_memory_utilization: float = 0.9
    disaggregated: bool = False
    # MoE models: also try each multi-GPU layout with expert parallelism (and with attention
    # data parallelism beside it).
    expert_parallel: bool = True
    # The engine's own knobs (Deployment fields, service/domain/engines/knobs.py), the same
    # for every candidate: mem_fraction_static, max_num_batched_tokens ...
    engine_settings: dict[str, Any] = msgspec.field(default_factory=dict)


class Configuration(msgspec.Struct, frozen=True, kw_only=True):
    """One layout and its precisions. The top-level figures describe its aggregated
    arrangement (every replica runs prompts and decodes); ``disaggregated`` holds the
    prefill/decode pools when asked for, and ``serving`` the arrangement it recommends and is
    ranked by (:meth:`served`)."""

    gpu: Annotated[str, msgspec.Meta(description="Catalog GPU id")]
    gpu_count: Annotated[
        int,
        msgspec.Meta(
            description=(
                "GPUs of the aggregated arrangement: tensor_parallel x pipeline_parallel x "
                "replicas. When serving is disaggregated, the recommended deployment and the "
                "ranking use disaggregated.gpu_count instead"
            )
        ),
    ]
    tensor_parallel: Annotated[
        int, msgspec.Meta(description="Tensor-parallel degree of each replica (and pool instance)")
    ]
    pipeline_parallel: Annotated[
        int,
        msgspec.Meta(description="Pipeline-parallel degree of each replica (and pool instance)"),
    ]
    replicas: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Copies of the model serving side by side (data parallel) in the aggregated "
                "arrangement"
            )
        ),
    ]
    weight_dtype: Annotated[str, msgspec.Meta(description="Weight precision of this configuration")]
    kv_cache_dtype: Annotated[
        str, msgspec.Meta(description="KV cache precision of this configuration")
    ]
    max_batch: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Most sequences one replica runs at once: what its KV cache holds, capped by the "
                "engine's max_num_seqs (its default for this GPU)"
            )
        ),
    ]
    batch_per_replica: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Sequences each aggregated replica runs at the workload's concurrency or rate"
            )
        ),
    ]
    memory: Annotated[
        MemoryBudget,
        msgspec.Meta(
            description="Memory per GPU, in bytes, as the engine divides it (one GPU of a replica)"
        ),
    ]
    ttft_ms: Annotated[float, msgspec.Meta(description=TTFT_MS + AGGREGATED)]
    tpot_ms: Annotated[float, msgspec.Meta(description=TPOT_MS + AGGREGATED)]
    e2e_ms: Annotated[float, msgspec.Meta(description=E2E_MS + AGGREGATED)]
    output_tokens_per_s: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Generated tokens per second of all the aggregated replicas (with "
                "workload.requests_per_s: that rate x output_tokens)." + AGGREGATED
            )
        ),
    ]
    cost_per_hour: (
        Annotated[
            float,
            msgspec.Meta(
                description=(
                    "USD per hour for the aggregated arrangement's gpu_count GPUs (the GPU's "
                    "hourly price x gpu_count); null when the GPU has no price. When serving "
                    "is disaggregated the recommended cost is disaggregated.cost_per_hour"
                )
            ),
        ]
        | None
    )
    cost_per_million_output_tokens: (
        Annotated[
            float,
            msgspec.Meta(
                description=(
                    "USD per million generated tokens of the aggregated arrangement: "
                    "cost_per_hour over output_tokens_per_s x 3600 tokens, x 10^6; null "
                    "without a price. Objective cost ranks by it when serving is aggregated, "
                    "by disaggregated.cost_per_million_output_tokens when disaggregated"
                )
            ),
        ]
        | None
    )
    meets_slo: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the aggregated arrangement's ttft_ms (burst_ttft_ms with slo.burst) "
                "and tpot_ms are within the SLO and, given workload.arrival_rate_per_s, its "
                "replicas keep up (load.saturated false; with an SLO ttft_ms, "
                "load.ttft_with_queueing_ms within it). Without an SLO: true unless the arrival "
                "rate saturates the replicas (a queue that grows without bound meets no latency "
                "target). The pools' verdict is disaggregated.meets_slo; whether anything meets "
                "the SLO: the first configuration's verdict for its serving arrangement "
                "(configurations meeting it rank first)"
            )
        ),
    ]
    bottleneck: Annotated[
        str,
        msgspec.Meta(
            description="What bounds the decode step at the steady decode batch of "
            "batch_per_replica users (/v1/latency's decode_bound for the same layout): "
            "compute, memory bandwidth or communication"
        ),
    ]
    serving: Annotated[Arrangement, msgspec.Meta(description=SERVING)]
    burst_ttft_ms: Annotated[float | None, msgspec.Meta(description=BURST_TTFT_MS)] = None
    weight_execution: Annotated[str | None, msgspec.Meta(description=WEIGHT_EXECUTION)] = None
    disaggregated: Annotated[Disaggregated | None, msgspec.Meta(description=DISAGGREGATED)] = None
    expert_parallel: Annotated[
        bool,
        msgspec.Meta(
            description="MoE experts spread whole over each replica's tensor_parallel GPUs "
            "(EP degree = tensor_parallel), two all-to-alls per MoE layer"
        ),
    ] = False
    attention_data_parallel: Annotated[
        bool,
        msgspec.Meta(
            description="Attention data parallel inside each replica: every GPU holds the "
            "whole attention weights and runs attention for its share of the sequences"
        ),
    ] = False

    def served(self) -> Figures:
        """The figures of the arrangement ``serving`` recommends: the disaggregated pools'
        when it says so, else the top-level (aggregated) ones. What :func:`rank` orders by."""
        if self.serving == "disaggregated" and self.disaggregated is not None:
            return pool_figures(self.disaggregated)
        return Figures(
            gpu_count=self.gpu_count,
            cost_per_hour=self.cost_per_hour,
            cost_per_million_output_tokens=self.cost_per_million_output_tokens,
            ttft_ms=self.ttft_ms,
            tpot_ms=self.tpot_ms,
            e2e_ms=self.e2e_ms,
            output_tokens_per_s=self.output_tokens_per_s,
            meets_slo=self.meets_slo,
        )


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    gpu: Annotated[str, msgspec.Meta(description="Catalog GPU id")]
    gpu_count: Annotated[int, msgspec.Meta(description="GPUs the rejected configuration would use")]
    tensor_parallel: Annotated[int, msgspec.Meta(description="Tensor-parallel degree")]
    pipeline_parallel: Annotated[int, msgspec.Meta(description="Pipeline-parallel degree")]
    weight_dtype: Annotated[str, msgspec.Meta(description="Weight precision")]
    kv_cache_dtype: Annotated[str, msgspec.Meta(description="KV cache precision")]
    reason: Annotated[
        str, msgspec.Meta(description="Why it cannot serve the workload (sizes in GB per GPU)")
    ]
    expert_parallel: Annotated[
        bool, msgspec.Meta(description="Whether the layout spread MoE experts whole (EP)")
    ] = False
    attention_data_parallel: Annotated[
        bool, msgspec.Meta(description="Whether the layout ran attention data parallel")
    ] = False


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    configurations: tuple[Configuration, ...]
    rejected: tuple[Rejection, ...]


EfficiencyFor = Callable[[GpuSpec], Efficiency]


def _layouts(arch: Architecture, gpu: GpuSpec, max_gpus: int) -> list[tuple[int, int]]:
    """(tp, pp) pairs: TP within a node; PP stages only once TP fills the node."""
    node = min(gpu.max_gpus_per_node, max_gpus)
    degrees = valid_tensor_parallel_degrees(arch, node)
    layouts = [(tp, 1) for tp in degrees]
    widest = degrees[-1]
    stages = 2
    while widest * stages <= max_gpus and stages <= arch.num_layers:
        layouts.append((widest, stages))
        stages *= 2
    return layouts


def weights_problem(gpu: GpuSpec, weights: Precision) -> str | None:
    """Why the chip cannot serve weights in ``weights`` (a quantised format: the execution's
    own reason), or None (:meth:`GpuSpec.runs_weights`: weight-only emulation is served)."""
    if gpu.runs_weights(weights):
        return None
    if weights.is_quantized:
        return f"{gpu.name}: {gpu.execution(weights).note}"
    if weights is Precision.BF16:
        capability = (
            f"compute capability {gpu.compute_capability}; " if gpu.compute_capability else ""
        )
        return (
            f"{gpu.name} has no bf16 support for weights ({capability}vLLM refuses --dtype "
            "bfloat16 below 8.0): ask for fp16 (--dtype half), or auto, which serves a bf16 "
            "checkpoint in fp16"
        )
    return f"{gpu.name} has no {weights.value} support for weights"


def _precision_problem(gpu: GpuSpec, weights: Precision, kv: Precision) -> str | None:
    """Why the chip cannot run these precisions: :func:`weights_problem`, then the KV cache."""
    if problem := weights_problem(gpu, weights):
        return problem
    if not gpu.supports(kv):
        return f"{gpu.name} has no {kv.value} support for KV cache"
    return None


NATIVE_LOW_PRECISIONS = (Precision.FP8, Precision.NVFP4)


def weight_names(arch: Architecture, gpu: GpuSpec, space: SearchSpace) -> list[str]:
    """The weight formats to try on ``gpu``: the space's, plus (for ``auto`` on a 16-bit
    checkpoint) each low precision the GPU runs natively (see :class:`SearchSpace`)."""
    names = list(space.weight_dtypes)
    if not space.native_low_precision or "auto" not in names:
        return names
    if resolve_weight_precision(arch, "auto").is_quantized:
        return names
    native = [
        p.value
        for p in NATIVE_LOW_PRECISIONS
        if p.value not in names and gpu.execution(p).mode is ExecutionMode.NATIVE
    ]
    return names + native


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One point of the search: a GPU, a layout and precisions."""

    gpu: GpuSpec
    tensor_parallel: int
    pipeline_parallel: int
    weights: Precision
    kv: Precision
    expert_parallel: bool = False
    attention_data_parallel: bool = False
    # Why ``auto`` weights are not the checkpoint's dtype (ServedPrecision.note), or "".
    cast_note: str = ""

    def reject(self, reason: str, gpu_count: int | None = None) -> Rejection:
        return Rejection(
            gpu=self.gpu.id,
            gpu_count=gpu_count or self.tensor_parallel * self.pipeline_parallel,
            tensor_parallel=self.tensor_parallel,
            pipeline_parallel=self.pipeline_parallel,
            weight_dtype=self.weights.value,
            kv_cache_dtype=self.kv.value,
            reason=reason,
            expert_parallel=self.expert_parallel,
            attention_data_parallel=self.attention_data_parallel,
        )


MOE_VARIANTS = ((False, False), (True, False), (True, True))
"""(expert_parallel, attention_data_parallel) tried on each multi-GPU layout of an MoE model."""


def moe_variants(
    arch: Architecture, tensor_parallel: int, space: SearchSpace
) -> tuple[tuple[bool, bool], ...]:
    """The (EP, attention DP) settings to try on a layout (:data:`MOE_VARIANTS` for an MoE
    model on more than one GPU when the space allows, else plain TP)."""
    if arch.moe is None or tensor_parallel <= 1 or not space.expert_parallel:
        return MOE_VARIANTS[:1]
    return MOE_VARIANTS


def plan(
    arch: Architecture,
    params: ParameterCount,
    gpus: Sequence[GpuSpec],
    workload: Workload,
    *,
    slo: Slo | None = None,
    space: SearchSpace | None = None,
    objective: Objective = Objective.COST,
    profile: EngineProfile,
    efficiency_for: EfficiencyFor | None = None,
) -> Plan:
    """Search every layout and precision; rank what fits, explain what does not."""
    space = space or SearchSpace()
    found: list[Configuration] = []
    rejected: list[Rejection] = []
    for gpu in gpus:
        efficiency = efficiency_for(gpu) if efficiency_for else Efficiency()
        for w_name in weight_names(arch, gpu, space):
            for kv_name in space.kv_cache_dtypes:
                served = served_precision(arch, gpu, w_name, kv_name)
                weights, kv = served.weights, served.kv
                problem = _precision_problem(gpu, weights, kv)
                if problem:
                    rejected.append(Candidate(gpu=gpu, tensor_parallel=1, pipeline_parallel=1,
                                              weights=weights, kv=kv).reject(problem))  # fmt: skip
                    continue
                for tp, pp in _layouts(arch, gpu, space.max_gpus):
                    for ep, attention_dp in moe_variants(arch, tp, space):
                        candidate = Candidate(
                            gpu=gpu, tensor_parallel=tp, pipeline_parallel=pp, weights=weights,
                            kv=kv, expert_parallel=ep, attention_data_parallel=attention_dp,
                            cast_note=served.note,
                        )  # fmt: skip
                        outcome = evaluate(
                            arch, params, candidate, workload, slo or Slo(), space, profile,
                            efficiency,
                        )  # fmt: skip
                        if isinstance(outcome, Configuration):
                            found.append(outcome)
                        else:
                            rejected.append(outcome)
    return Plan(configurations=tuple(rank(found, objective)), rejected=tuple(rejected))


def evaluate(
    arch: Architecture,
    params: ParameterCount,
    candidate: Candidate,
    workload: Workload,
    slo: Slo,
    space: SearchSpace,
    profile: EngineProfile,
    efficiency: Efficiency,
) -> Configuration | Rejection:
    """Fit, replicate to the workload's concurrency, and estimate latency for one candidate."""
    gpu, tp, pp = candidate.gpu, candidate.tensor_parallel, candidate.pipeline_parallel
    context = workload.input_tokens + workload.output_tokens
    deployment = Deployment(
        gpu_memory_bytes=gpu.memory_bytes,
        tensor_parallel=tp,
        pipeline_parallel=pp,
        weight_precision=candidate.weights,
        kv_precision=candidate.kv,
        gpu_memory_utilization=space.gpu_memory_utilization,
        gpu_name=gpu.name,
        **space.engine_settings,
    )
    loaded = weights_as_loaded(
        arch,
        params,
        candidate.weights,
        tp,
        pp,
        gpu=gpu,
        profile=profile,
        mm_items_per_prompt=deployment.mm_items_per_prompt,
    )
    if candidate.expert_parallel and (problem := expert_parallel_problem(arch, tp)):
        return candidate.reject(problem)
    serving = on_engine(
        Serving(
            gpu=gpu,
            tensor_parallel=tp,
            pipeline_parallel=pp,
            weight_precision=candidate.weights,
            kv_precision=candidate.kv,
            expert_parallel=candidate.expert_parallel,
            attention_data_parallel=candidate.attention_data_parallel,
        ),
        profile,
        space.engine_settings,
    )
    cap = capacity_with_extras(
        arch,
        params,
        serving,
        workload.modifiers,
        loaded_weight_bytes=loaded.per_gpu_bytes,
        deployment=deployment,
        profile=profile,
        context_tokens=context,
    )
    if not cap.fits:
        return candidate.reject("; ".join(cap.reasons))
    replicas = math.ceil(workload.concurrency / cap.max_batch)
    count = tp * pp * replicas
    if count > space.max_gpus:
        return candidate.reject(
            f"{workload.concurrency} concurrent sequences need {replicas} replicas of "
            f"{tp * pp} GPUs (each holds {cap.max_batch}), over the limit of "
            f"{space.max_gpus} GPUs",
            gpu_count=count,
        )
    step_tokens = step_token_budget(
        profile,
        workload.input_tokens,
        gpu,
        space.engine_settings.get("max_num_batched_tokens"),
    )
    plain = step_costs(
        arch,
        params,
        serving,
        input_tokens=workload.input_tokens,
        output_tokens=workload.output_tokens,
    )
    costs = apply(plain, workload.modifiers, arch, params, serving)
    if workload.requests_per_s is None:
        batch = math.ceil(workload.concurrency / replicas)
        timed = at_users(costs, efficiency, step_tokens, cap.max_batch, batch)
        throughput = timed.steady.output_tokens_per_s * replicas
    else:
        sized = replicas_for_rate(
            costs,
            efficiency,
            step_tokens=step_tokens,
            max_batch=cap.max_batch,
            requests_per_s=workload.requests_per_s,
            min_replicas=replicas,
            max_replicas=space.max_gpus // (tp * pp),
            acceptable=lambda t: _meets(slo, _ttft(slo, t), t.steady.tpot_ms),
        )
        if sized is None:
            return candidate.reject(
                f"{workload.requests_per_s:g} requests/s saturate even "
                f"{space.max_gpus // (tp * pp)} replicas of {tp * pp} GPUs (the limit of "
                f"{space.max_gpus} GPUs)",
                gpu_count=space.max_gpus,
            )
        replicas, timed = sized
        count = tp * pp * replicas
        batch = max(1, math.ceil(timed.steady.concurrency))
        throughput = workload.requests_per_s * workload.output_tokens
    steady = timed.steady
    decode_bound = step_phase(
        costs, efficiency, decode_batch=steady.decode_batch, prompt_tokens=0.0
    ).bound
    cost = deployment_cost(gpu.price_per_hour_usd, count, throughput)
    meets = _meets(slo, _ttft(slo, timed), steady.tpot_ms)
    pools = _split(
        arch,
        costs,
        efficiency,
        (workload, slo, space),
        candidate,
        step_tokens,
        cap.max_batch,
        (count, meets),
    )
    return Configuration(
        gpu=gpu.id,
        gpu_count=count,
        tensor_parallel=tp,
        pipeline_parallel=pp,
        replicas=replicas,
        weight_dtype=candidate.weights.value,
        kv_cache_dtype=candidate.kv.value,
        max_batch=cap.max_batch,
        batch_per_replica=batch,
        memory=cap.memory,
        ttft_ms=steady.ttft_ms,
        tpot_ms=steady.tpot_ms,
        e2e_ms=steady.e2e_ms,
        output_tokens_per_s=throughput,
        cost_per_hour=cost.per_hour_usd,
        cost_per_million_output_tokens=cost.per_million_output_tokens_usd,
        meets_slo=meets,
        bottleneck=f"decode {decode_bound.value}",
        serving=recommended(pools),
        burst_ttft_ms=timed.burst_ttft_ms,
        weight_execution=weight_execution(
            gpu, candidate.weights, serving.mxfp4_activations, candidate.cast_note
        ),
        disaggregated=pools,
        expert_parallel=candidate.expert_parallel,
        attention_data_parallel=candidate.attention_data_parallel,
    )


def _split(
    arch: Architecture,
    costs: StepCosts,
    efficiency: Efficiency,
    question: tuple[Workload, Slo, SearchSpace],
    candidate: Candidate,
    step_tokens: int,
    max_batch: int,
    aggregated: tuple[int, bool],
) -> Disaggregated | None:
    """Prefill and decode pools of this layout for the workload's rate, compared with the
    aggregated answer's GPUs and SLO verdict (:mod:`service.domain.disaggregation`); None
    unless the space asks for it and the workload gives a rate."""
    workload, slo, space = question
    if not space.disaggregated or workload.requests_per_s is None:
        return None
    tp, pp = candidate.tensor_parallel, candidate.pipeline_parallel
    per_gpu = kv_cache_bytes_per_token(arch, candidate.kv, tp, pp)
    link = candidate.gpu.interconnect_bandwidth_bytes_per_s
    pools = disaggregate(
        costs,
        efficiency,
        requests_per_s=workload.requests_per_s,
        chunk_tokens=step_tokens,
        max_batch=max_batch,
        kv_transfer_s=workload.input_tokens * per_gpu / link,
        gpus_per_instance=tp * pp,
        ttft_target_ms=None if slo.burst else slo.ttft_ms,
        tpot_target_ms=slo.tpot_ms,
        price_per_gpu_hour_usd=candidate.gpu.price_per_hour_usd,
    )
    if pools is None or pools.gpu_count > space.max_gpus:
        return None
    return judged_against(pools, *aggregated)


def with_aggregated_verdict(configuration: Configuration, meets_slo: bool) -> Configuration:
    """``configuration`` with its aggregated SLO verdict replaced (the API adds queueing at an
    arrival rate), the pools judged against it again and ``serving`` to match."""
    pools = configuration.disaggregated
    if pools is not None:
        pools = judged_against(pools, configuration.gpu_count, meets_slo)
    return msgspec.structs.replace(
        configuration, meets_slo=meets_slo, disaggregated=pools, serving=recommended(pools)
    )


def _ttft(slo: Slo, timed: ServingLatency) -> float:
    """The TTFT the SLO judges: steady state, or the burst when it asks for that."""
    return timed.burst_ttft_ms if slo.burst else timed.steady.ttft_ms


def _meets(slo: Slo, ttft_ms: float, tpot_ms: float) -> bool:
    """``ttft_ms`` is the steady-state or the burst TTFT, as the SLO asks."""
    return (slo.ttft_ms is None or ttft_ms <= slo.ttft_ms) and (
        slo.tpot_ms is None or tpot_ms <= slo.tpot_ms
    )


def rank(configurations: list[Configuration], objective: Objective) -> list[Configuration]:
    """Best first, each judged by its recommended arrangement (:meth:`Configuration.served`):
    those meeting the SLO before those that do not, then by objective, then fewer GPUs."""

    def key(c: Configuration) -> tuple[bool, float, int]:
        served = c.served()
        if objective is Objective.COST:
            metric = served.cost_per_million_output_tokens
            value = metric if metric is not None else math.inf
        elif objective is Objective.LATENCY:
            value = served.e2e_ms
        else:
            value = -served.output_tokens_per_s
        return (not served.meets_slo, value, served.gpu_count)

    return sorted(configurations, key=key)
