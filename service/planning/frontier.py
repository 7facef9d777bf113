"""``/v1/frontier``'s answer: the steady-state curve of one deployment over concurrency.

The batch ceiling is the engine's (KV cache and ``max_num_seqs``) for sequences of
``input_tokens + output_tokens``; the step budget is the engine's ``max_num_batched_tokens``
(:func:`service.domain.serving.step_token_budget`); efficiencies are the GPU's calibration.
"""

from __future__ import annotations

from service.contract.frontier import FrontierRequest, FrontierResponse
from service.domain.architecture import Architecture
from service.domain.calibration import Calibration, is_calibrated
from service.domain.engine import EngineProfile
from service.domain.frontier import frontier
from service.domain.gpu import GpuSpec
from service.domain.modifiers_draft import DraftModel
from service.domain.parameters import ParameterCount
from service.planning.answers import replica


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
    ``draft`` is the resolved ``speculative.draft_model``. Each point is what
    ``/v1/latency`` answers at ``batch_size`` = its concurrency (:func:`replica`)."""
    question = replica(arch, params, gpu, request, profile, calibration, draft)
    serving, fit = question.serving, question.fit
    tp, pp = request.tensor_parallel, request.pipeline_parallel
    context = request.input_tokens + request.output_tokens
    reasons = list(fit.reasons)
    if fit.fits and fit.max_batch >= 1:
        curve = frontier(
            question.costs,
            question.efficiency,
            chunk_tokens=question.step_tokens,
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
        weight_dtype=serving.weight_precision.value,
        kv_cache_dtype=serving.kv_precision.value,
        engine=profile.name,
        engine_version=profile.version,
        fits=bool(points),
        reasons=reasons,
        max_batch=fit.max_batch,
        step_tokens=question.step_tokens,
        points=points,
        max_output_tokens_per_s=top,
        saturation_concurrency=saturation,
        saturation_limit=limit,
        best_meeting_slo=best,
        slo_ttft_ms=request.slo_ttft_ms,
        slo_tpot_ms=request.slo_tpot_ms,
        calibrated=is_calibrated(calibration, gpu.id),
        assumptions=question.efficiency,
    )
