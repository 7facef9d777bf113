"""The planning endpoints' answers as pure functions of a model, GPUs and a request body.

What ``/v1/max-batch``, ``/v1/latency`` and ``/v1/plan`` compute once the model and GPUs are
resolved. The API controllers, the offline deployment gate and the Slack command all call
these, so the three give the same answer for the same question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import msgspec

from service.contract.frontier import FrontierRequest
from service.contract.schemas import (
    ConfigurationConfidence,
    LatencyConfidence,
    LatencyRequest,
    LatencyResponse,
    Load,
    MaxBatchRequest,
    MaxBatchResponse,
    PlannedConfiguration,
    PlanRequest,
    PlanResponse,
)
from service.domain.architecture import Architecture
from service.domain.calibration import (
    Calibration,
    efficiency_for_gpu,
    is_calibrated,
)
from service.domain.capacity import BindingConstraint, Capacity, Deployment, capacity
from service.domain.confidence import Assessed, ErrorBands, Quantity, assess
from service.domain.engine import EngineProfile
from service.domain.engines.model_memory import weights_as_loaded
from service.domain.gpu import GpuSpec
from service.domain.latency import Efficiency, Serving
from service.domain.modifiers import Modifiers, apply
from service.domain.modifiers_draft import DraftModel
from service.domain.modifiers_fit import capacity_with_extras
from service.domain.parameters import ParameterCount
from service.domain.planner import (
    Configuration,
    Objective,
    SearchSpace,
    Slo,
    Workload,
    plan,
    rank,
    weights_problem,
    with_aggregated_verdict,
)
from service.domain.precision import Precision
from service.domain.saturation import replica_queueing
from service.domain.served_dtype import served_precision, weight_execution
from service.domain.serving import ServingLatency, at_users, step_token_budget
from service.domain.step_time import StepCosts, step_costs, step_phase
from service.domain.weights import WeightsSource
from service.planning.engines import engine_settings
from service.planning.question import (
    checked_modifiers,
    checked_rates,
    checked_serving,
    workload_modifiers,
)

NO_BANDS = ErrorBands(calibrated={}, extrapolated={})


class LayoutProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Why vLLM would refuse a layout: the ``field`` at fault and the ``message``."""

    field: Literal["tensor_parallel", "pipeline_parallel"]
    message: str


def layout_problem(
    arch: Architecture, tensor_parallel: int, pipeline_parallel: int
) -> LayoutProblem | None:
    """Why vLLM would refuse this layout (the API's 400), or None."""
    heads = arch.num_attention_heads
    if heads % tensor_parallel:
        return LayoutProblem(
            field="tensor_parallel",
            message=f"tensor_parallel {tensor_parallel} must divide the {heads} attention heads",
        )
    if pipeline_parallel > arch.num_layers:
        return LayoutProblem(
            field="pipeline_parallel",
            message=f"pipeline_parallel {pipeline_parallel} exceeds the {arch.num_layers} layers",
        )
    return None


def fit_request(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: MaxBatchRequest | LatencyRequest | FrontierRequest,
    profile: EngineProfile,
    context: int,
    *,
    utilization: float = 0.9,
    max_model_len: int | None = None,
    with_max_context: bool = True,
    extras: tuple[Serving, Modifiers] | None = None,
) -> Capacity:
    """The capacity answer with the request's engine knobs (:func:`engine_settings`); with
    ``extras``, the layout's and the modifiers' memory too (:func:`capacity_with_extras`)."""
    served = served_precision(arch, gpu, request.weight_dtype, request.kv_cache_dtype)
    weights = served.weights
    tp, pp = request.tensor_parallel, request.pipeline_parallel
    deployment = Deployment(
        gpu_memory_bytes=gpu.memory_bytes,
        tensor_parallel=tp,
        pipeline_parallel=pp,
        weight_precision=weights,
        kv_precision=served.kv,
        gpu_memory_utilization=utilization,
        gpu_name=gpu.name,
        max_model_len=max_model_len,
        **engine_settings(request, profile),
    )
    loaded = weights_as_loaded(
        arch,
        params,
        weights,
        tp,
        pp,
        gpu=gpu,
        profile=profile,
        mm_items_per_prompt=deployment.mm_items_per_prompt,
    )
    if extras is not None:
        serving, modifiers = extras
        fit = capacity_with_extras(
            arch,
            params,
            serving,
            modifiers,
            loaded_weight_bytes=loaded.per_gpu_bytes,
            deployment=deployment,
            profile=profile,
            context_tokens=context,
            with_max_context=with_max_context,
        )
        return _refused_precision(fit, gpu, weights)
    fit = capacity(
        arch, loaded.per_gpu_bytes, deployment, profile, context, with_max_context=with_max_context
    )
    return _refused_precision(fit, gpu, weights)


def _refused_precision(fit: Capacity, gpu: GpuSpec, weights: Precision) -> Capacity:
    """``fit``, refused as the planner refuses (:func:`weights_problem`) when the chip cannot
    serve the weight format at all (a weight-only format is served, its emulation cost stated
    apart: ``weight_execution``)."""
    reason = weights_problem(gpu, weights)
    if reason is None:
        return fit
    return msgspec.structs.replace(fit, fits=False, max_batch=0, reasons=(*fit.reasons, reason))


def _weights_source(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: MaxBatchRequest | LatencyRequest,
    profile: EngineProfile,
) -> Literal["checkpoint", "config"]:
    """``checkpoint`` when the weight bytes are the checkpoint's own, else ``config``."""
    loaded = weights_as_loaded(
        arch,
        params,
        served_precision(arch, gpu, request.weight_dtype).weights,
        request.tensor_parallel,
        request.pipeline_parallel,
        gpu=gpu,
        profile=profile,
    )
    return "checkpoint" if loaded.parameters.source is WeightsSource.CHECKPOINT else "config"


def answer_max_batch(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: MaxBatchRequest,
    profile: EngineProfile,
) -> MaxBatchResponse:
    """The capacity answer; with expert or attention data parallelism, the weights per GPU
    include what the layout adds (:func:`parallel_extra_weight_bytes`), as in ``/v1/latency``."""
    extras = None
    if request.expert_parallel or request.attention_data_parallel:
        extras = (
            checked_serving(arch, gpu, request, profile),
            Modifiers(),
        )
    result = fit_request(
        arch,
        params,
        gpu,
        request,
        profile,
        request.context_length,
        utilization=request.gpu_memory_utilization,
        max_model_len=request.max_model_len,
        extras=extras,
    )
    served = served_precision(arch, gpu, request.weight_dtype, request.kv_cache_dtype)
    return MaxBatchResponse(
        fits=result.fits,
        max_batch=result.max_batch,
        kv_cache_tokens=result.kv_cache_tokens,
        kv_cache_blocks=result.kv_cache_blocks,
        max_context_for_batch_1=result.max_context_for_batch_1,
        memory=result.memory,
        binding_constraint=result.binding_constraint.value,
        reasons=list(result.reasons),
        weight_dtype=served.weights.value,
        kv_cache_dtype=served.kv.value,
        engine=profile.name,
        engine_version=profile.version,
        kv_cache_bytes_per_sequence=result.kv_cache_bytes_per_sequence,
        kv_cache_pool_bytes=result.kv_cache_pool_bytes,
        weights_source=_weights_source(arch, params, gpu, request, profile),
    )


class Replica(msgspec.Struct, frozen=True, kw_only=True):
    """One replica a latency or frontier question describes, ready for its steady state:
    the deployment, what it holds (``fit``, the layout's and the modifiers' memory in), the
    efficiencies, the engine's step budget and the step costs with the modifiers applied.
    Both answers start here, so the same question gets the same numbers from each."""

    serving: Serving
    fit: Capacity
    efficiency: Efficiency
    step_tokens: int
    costs: StepCosts

    def at_users(self, users: int) -> ServingLatency:
        """The closed loop at ``users`` concurrent users (:func:`at_users`). The decode batch
        is capped at ``fit.max_batch``: past what the KV cache (and ``max_num_seqs``) holds
        the rest wait for a slot, so TTFT grows and the throughput stays the saturated
        replica's. When not one sequence fits (``fit.fits`` false) there is no replica to
        saturate: the times assume the ``users`` sequences fit, as ``fits`` false says."""
        cap = self.fit.max_batch if self.fit.fits else users
        return at_users(self.costs, self.efficiency, self.step_tokens, max(cap, 1), users)


def replica(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: LatencyRequest | FrontierRequest,
    profile: EngineProfile,
    calibration: Calibration,
    draft: DraftModel | None = None,
) -> Replica:
    """The :class:`Replica` of a ``/v1/latency`` or ``/v1/frontier`` question: layout and
    modifiers checked (400s naming the field), sized for sequences of ``input_tokens +
    output_tokens`` with the layout's and the modifiers' memory (:func:`fit_request`);
    ``draft`` is the resolved ``speculative.draft_model``."""
    serving = checked_serving(arch, gpu, request, profile)
    modifiers = checked_modifiers(
        arch,
        params,
        serving,
        workload_modifiers(request.prefix_cache_hit_rate, request.speculative, draft),
    )
    context = request.input_tokens + request.output_tokens
    fit = fit_request(
        arch, params, gpu, request, profile, context,
        with_max_context=False, extras=(serving, modifiers),
    )  # fmt: skip
    plain = step_costs(
        arch,
        params,
        serving,
        input_tokens=request.input_tokens,
        output_tokens=request.output_tokens,
    )
    return Replica(
        serving=serving,
        fit=fit,
        efficiency=efficiency_for_gpu(calibration, gpu),
        step_tokens=step_token_budget(
            profile,
            request.input_tokens,
            gpu,
            getattr(request, "max_num_batched_tokens", None),
        ),
        costs=apply(plain, modifiers, arch, params, serving),
    )


def _over_capacity(fit: Capacity, batch_size: int, context: int, engine: str) -> str:
    """Why ``batch_size`` sequences cannot all run at once on a replica that holds fewer."""
    held = (
        f"the {fit.max_batch} sequences {engine} runs at once (max_num_seqs: the request's, "
        "else the engine's default on this GPU)"
        if fit.binding_constraint is BindingConstraint.MAX_NUM_SEQS
        else f"the {fit.max_batch} sequences of {context} tokens the KV cache holds"
    )
    return (
        f"batch_size {batch_size} exceeds {held}: the times are the saturated replica's, "
        f"{fit.max_batch} decoding at once and the rest waiting for a slot"
    )


def answer_latency(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: LatencyRequest,
    profile: EngineProfile,
    calibration: Calibration,
    draft: DraftModel | None = None,
) -> LatencyResponse:
    """The steady state of ``batch_size`` concurrent users on one replica, as one point of
    ``/v1/frontier`` (:class:`Replica`); ``fits`` says whether they can all run at once.

    A latency is only meaningful if the deployment holds the weights and the batch's KV
    cache. Past what the KV cache holds the answer is the saturated replica's (its decode
    batch capped, the rest queued: TTFT grows, the throughput stays the saturation
    figure), with ``fits`` false and the reason; when not even one sequence fits, the times
    assume the batch does. The modifiers (prefix cache, speculative decoding with its
    proposer) and the MoE layout (expert parallelism, attention data parallelism) shape
    both. ``draft`` is the resolved ``speculative.draft_model``.
    """
    question = replica(arch, params, gpu, request, profile, calibration, draft)
    serving, fit, efficiency = question.serving, question.fit, question.efficiency
    context = request.input_tokens + request.output_tokens
    reasons = list(fit.reasons)
    if fit.fits and fit.max_batch < request.batch_size:
        reasons.append(_over_capacity(fit, request.batch_size, context, profile.name))
    timed = question.at_users(request.batch_size)
    steady = timed.steady
    costs = question.costs
    prompts = request.batch_size * costs.input_tokens
    prefill = step_phase(costs, efficiency, decode_batch=0.0, prompt_tokens=prompts)
    decode = step_phase(costs, efficiency, decode_batch=steady.decode_batch, prompt_tokens=0.0)
    calibrated = is_calibrated(calibration, gpu.id)
    bands = calibration.bands or NO_BANDS

    def judged(value: float, quantity: Quantity) -> Assessed:
        return assess(value, quantity, calibrated=calibrated, bands=bands, engine_kind=profile.kind)

    return LatencyResponse(
        fits=fit.fits and fit.max_batch >= request.batch_size,
        reasons=reasons,
        ttft_ms=steady.ttft_ms,
        burst_ttft_ms=timed.burst_ttft_ms,
        tpot_ms=steady.tpot_ms,
        e2e_ms=steady.e2e_ms,
        output_tokens_per_s=steady.output_tokens_per_s,
        decode_batch=steady.decode_batch,
        saturated=steady.saturated,
        prefill_bound=prefill.bound.value,
        decode_bound=decode.bound.value,
        prefill=prefill,
        decode=decode,
        weight_dtype=serving.weight_precision.value,
        kv_cache_dtype=serving.kv_precision.value,
        assumptions=efficiency,
        calibrated=calibrated,
        confidence=LatencyConfidence(
            ttft_ms=judged(steady.ttft_ms, Quantity.TTFT),
            tpot_ms=judged(steady.tpot_ms, Quantity.TPOT),
            e2e_ms=judged(steady.e2e_ms, Quantity.E2E),
            output_tokens_per_s=judged(steady.output_tokens_per_s, Quantity.THROUGHPUT),
        ),
        engine=profile.name,
        engine_version=profile.version,
        weights_source=_weights_source(arch, params, gpu, request, profile),
        weight_execution=weight_execution(
            gpu,
            serving.weight_precision,
            serving.mxfp4_activations,
            served_precision(arch, gpu, request.weight_dtype).note,
        ),
    )


def _load(configuration: Configuration, arrival_rate_per_s: float, output_tokens: int) -> Load:
    """Queueing on one replica when requests arrive at the workload's rate."""
    queue = replica_queueing(
        arrival_rate_per_s / configuration.replicas,
        batch=configuration.batch_per_replica,
        output_tokens=output_tokens,
        step_s=configuration.tpot_ms / 1e3,
        prefill_s=(configuration.burst_ttft_ms or configuration.ttft_ms)
        / 1e3
        / max(configuration.batch_per_replica, 1),
        unloaded_ttft_ms=configuration.ttft_ms,
    )
    finite = not queue.saturated and math.isfinite(queue.queue_wait_ms)
    return Load(
        arrival_rate_per_s=queue.arrival_rate_per_s,
        service_rate_per_s=queue.service_rate_per_s,
        utilisation=queue.utilisation,
        saturated=queue.saturated,
        queue_wait_ms=queue.queue_wait_ms if finite else None,
        ttft_with_queueing_ms=queue.ttft_ms if finite else None,
    )


def _planned(
    configuration: Configuration,
    request: PlanRequest,
    calibration: Calibration,
    engine_kind: str,
) -> PlannedConfiguration:
    """``engine_kind``: the ``kind`` of the engine profile every configuration was planned
    for (its TTFT takes that kind's back-test band when there is one)."""
    calibrated = is_calibrated(calibration, configuration.gpu)
    bands = calibration.bands or NO_BANDS

    def judged(value: float, quantity: Quantity) -> Assessed:
        return assess(value, quantity, calibrated=calibrated, bands=bands, engine_kind=engine_kind)

    confidence = ConfigurationConfidence(
        ttft_ms=judged(configuration.ttft_ms, Quantity.TTFT),
        tpot_ms=judged(configuration.tpot_ms, Quantity.TPOT),
        output_tokens_per_s=judged(configuration.output_tokens_per_s, Quantity.THROUGHPUT),
    )
    rate = request.workload.arrival_rate_per_s
    load = _load(configuration, rate, request.workload.output_tokens) if rate else None
    meets = configuration.meets_slo
    if load is not None:
        ttft_target = request.slo.ttft_ms if request.slo else None
        queued = load.ttft_with_queueing_ms
        meets = meets and not load.saturated
        meets = meets and (ttft_target is None or (queued is not None and queued <= ttft_target))
    fields = msgspec.structs.asdict(with_aggregated_verdict(configuration, meets))
    return PlannedConfiguration(**fields, calibrated=calibrated, confidence=confidence, load=load)


def answer_plan(
    arch: Architecture,
    params: ParameterCount,
    gpus: Sequence[GpuSpec],
    request: PlanRequest,
    profile: EngineProfile,
    model_name: str,
    calibration: Calibration,
    draft: DraftModel | None = None,
) -> PlanResponse:
    """``gpus`` must already be the request's GPUs (or the catalog, in id order); ``draft``
    is the resolved ``workload.speculative.draft_model``."""
    checked_rates(request.workload)
    constraints = request.constraints
    knobs = engine_settings(request, profile)
    space = SearchSpace(engine_settings=knobs, native_low_precision=True)
    if constraints is not None:
        space = SearchSpace(
            weight_dtypes=tuple(dict.fromkeys(constraints.weight_dtypes)),
            kv_cache_dtypes=tuple(dict.fromkeys(constraints.kv_cache_dtypes)),
            max_gpus=constraints.max_gpus,
            gpu_memory_utilization=constraints.gpu_memory_utilization,
            disaggregated=constraints.disaggregated,
            expert_parallel=constraints.expert_parallel,
            engine_settings=knobs,
            native_low_precision=True,
        )
    workload, slo = request.workload, request.slo
    objective = Objective(request.objective)
    modifiers = workload_modifiers(workload.prefix_cache_hit_rate, workload.speculative, draft)
    if gpus:
        checked_modifiers(arch, params, Serving(gpu=gpus[0]), modifiers, prefix="workload.")
    result = plan(
        arch,
        params,
        gpus,
        Workload(
            input_tokens=workload.input_tokens,
            output_tokens=workload.output_tokens,
            concurrency=workload.concurrency,
            requests_per_s=workload.requests_per_s,
            modifiers=modifiers,
        ),
        slo=Slo(ttft_ms=slo.ttft_ms, tpot_ms=slo.tpot_ms, burst=slo.burst) if slo else None,
        space=space,
        objective=objective,
        profile=profile,
        efficiency_for=lambda gpu: efficiency_for_gpu(calibration, gpu),
    )
    planned = [_planned(c, request, calibration, profile.kind) for c in result.configurations]
    ranked = rank(list(planned), objective)
    return PlanResponse(
        model=model_name,
        objective=request.objective,
        configurations=[c for c in ranked if isinstance(c, PlannedConfiguration)],
        rejected=list(result.rejected),
        engine=profile.name,
        engine_version=profile.version,
    )
