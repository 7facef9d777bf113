"""``/v1/frontier``'s answer: the steady-state curve of one deployment over concurrency.

The batch ceiling is the engine's (KV cache and ``max_num_seqs``) for sequences of
``input_tokens + output_tokens``; the step budget is the engine's ``max_num_batched_tokens``
(:func:`service.domain.serving.step_token_budget`); efficiencies are the GPU's calibration.
"""

from __future__ import annotations

from service.contract.frontier import FrontierRequest, FrontierResponse
from service.domain.architecture import Architecture
from service.domain.calibration import (
    Calibration,
    efficiency_for_gpu,
    is_calibrated,
)
from service.domain.engine import EngineProfile
from service.domain.frontier import frontier
from service.domain.gpu import GpuSpec
from service.domain.modifiers import apply
from service.domain.modifiers_draft import DraftModel
from service.domain.parameters import ParameterCount
from service.domain.serving import step_token_budget
from service.domain.step_time import step_costs
from service.planning.answers import fit_request
from service.planning.question import checked_modifiers, checked_serving, workload_modifiers


def answer_frontier(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: FrontierRequest,
    profile: EngineProfile,
    model_name: str,
    calibration: Calibration,
    draft: DraftModel | None = None,
) -> FrontierResponse:
    """The curve, or ``fits`` false with the reasons (an infeasible question is an answer);
    ``draft`` is the resolved ``speculative.draft_model``."""
    serving = checked_serving(arch, gpu, request, profile)
    weights, kv = serving.weight_precision, serving.kv_precision
    tp, pp = request.tensor_parallel, request.pipeline_parallel
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
    efficiency = efficiency_for_gpu(calibration, gpu)
    step_tokens = step_token_budget(profile, request.input_tokens, gpu)
    reasons = list(fit.reasons)
    if fit.fits and fit.max_batch >= 1:
        plain = step_costs(
            arch,
            params,
            serving,
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
        )
        costs = apply(plain, modifiers, arch, params, serving)
        curve = frontier(
            costs,
            efficiency,
            chunk_tokens=step_tokens,
            max_batch=fit.max_batch,
            gpus=tp * pp,
            slo_ttft_ms=request.slo_ttft_ms,
            slo_tpot_ms=request.slo_tpot_ms,
        )
        points, best = curve.points, curve.best_meeting_slo
        top, saturation, limit = (
            curve.max_output_tokens_per_s,
            curve.saturation_concurrency,
            curve.saturation_limit,
        )
    else:
        points, best, top, saturation, limit = [], None, 0.0, 0, "does not fit"
        reasons = reasons or [f"not one sequence of {context} tokens fits"]
    return FrontierResponse(
        model=model_name,
        gpu=gpu.id,
        gpu_count=tp * pp,
        weight_dtype=weights.value,
        kv_cache_dtype=kv.value,
        engine=profile.id,
        fits=bool(points),
        reasons=reasons,
        max_batch=fit.max_batch,
        step_tokens=step_tokens,
        points=points,
        max_output_tokens_per_s=top,
        saturation_concurrency=saturation,
        saturation_limit=limit,
        best_meeting_slo=best,
        slo_ttft_ms=request.slo_ttft_ms,
        slo_tpot_ms=request.slo_tpot_ms,
        calibrated=is_calibrated(calibration, gpu.id),
        assumptions=efficiency,
    )
