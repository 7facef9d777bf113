"""What a question adds to the search: workload modifiers and the MoE layout, checked.

The API, the gate and Slack turn request fields into domain :class:`Modifiers` here, and a
setting the model cannot run is an :class:`InvalidField` naming its path (a 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from service.contract.schemas import SpeculativeIn, WorkloadIn
from service.domain.architecture import Architecture
from service.domain.engines.profile import EngineProfile, on_engine
from service.domain.gpu import GpuSpec
from service.domain.latency import Serving
from service.domain.modifiers import InvalidModifier, Modifiers, apply
from service.domain.modifiers_draft import DraftModel, SpeculativeMethod
from service.domain.moe import expert_parallel_problem
from service.domain.parameters import ParameterCount
from service.domain.planner import MOE_VARIANTS
from service.domain.served_dtype import served_precision
from service.domain.step_time import step_costs
from service.planning.engines import engine_settings
from service.planning.errors import InvalidField


def workload_modifiers(
    hit_rate: float, speculative: SpeculativeIn | None, draft: DraftModel | None = None
) -> Modifiers:
    """The request's modifiers for the domain (bounds already checked by the schema);
    ``draft`` is the resolved ``speculative.draft_model``."""
    if speculative is None:
        return Modifiers(prefix_cache_hit_rate=hit_rate)
    return Modifiers(
        prefix_cache_hit_rate=hit_rate,
        draft_tokens=speculative.draft_tokens,
        acceptance_rate=speculative.acceptance_rate,
        method=SpeculativeMethod(speculative.method),
        draft=draft,
    )


def checked_modifiers(
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    modifiers: Modifiers,
    prefix: str = "",
) -> Modifiers:
    """``modifiers``, or :class:`InvalidField` naming ``prefix`` + the field at fault (a
    proposer the model cannot run: MTP without MTP layers, a draft of another vocabulary)."""
    try:
        plain = step_costs(arch, params, serving, input_tokens=1, output_tokens=1)
        apply(plain, modifiers, arch, params, serving)
    except InvalidModifier as exc:
        where = "" if exc.field == "prefix_cache_hit_rate" else "speculative."
        raise InvalidField(f"{prefix}{where}{exc.field}", str(exc).partition(": ")[2]) from exc
    return modifiers


def checked_rates(workload: WorkloadIn, prefix: str = "workload.") -> None:
    """:class:`InvalidField` naming ``arrival_rate_per_s`` when ``requests_per_s`` is given too.

    Both are the rate at which the same requests arrive, read two ways: ``requests_per_s``
    sizes the replicas for it (``ttft_ms`` and ``tpot_ms`` are those at that rate, queueing
    included), ``arrival_rate_per_s`` keeps the replicas sized for ``concurrency`` and adds a
    queueing estimate at that rate (``load``). Two rates for one stream contradict each other,
    and even equal ones would judge one configuration by two queueing models.
    """
    if workload.requests_per_s is not None and workload.arrival_rate_per_s is not None:
        raise InvalidField(
            f"{prefix}arrival_rate_per_s",
            "give one rate, not both: requests_per_s sizes the replicas for the rate (ttft_ms "
            "and tpot_ms at that rate); arrival_rate_per_s keeps replicas sized for "
            "concurrency and adds the queueing estimate (load)",
        )


def checked_layout(arch: Architecture, expert_parallel: bool, tensor_parallel: int) -> None:
    """:class:`InvalidField` naming ``expert_parallel`` when experts cannot be spread whole
    over the tensor-parallel GPUs (a dense model, more GPUs than experts)."""
    if expert_parallel and (problem := expert_parallel_problem(arch, tensor_parallel)):
        raise InvalidField("expert_parallel", problem)


class LayoutQuestion(Protocol):
    """The request fields a single-deployment question (max-batch, latency, frontier) shares."""

    @property
    def tensor_parallel(self) -> int: ...
    @property
    def pipeline_parallel(self) -> int: ...
    @property
    def weight_dtype(self) -> str: ...
    @property
    def kv_cache_dtype(self) -> str: ...
    @property
    def expert_parallel(self) -> bool: ...
    @property
    def attention_data_parallel(self) -> bool: ...


def checked_serving(
    arch: Architecture, gpu: GpuSpec, request: LayoutQuestion, profile: EngineProfile
) -> Serving:
    """The deployment a question describes on ``profile``'s engine with the question's engine
    knobs (:func:`~service.planning.engines.engine_settings`), its layout checked
    (:func:`checked_layout`)."""
    checked_layout(arch, request.expert_parallel, request.tensor_parallel)
    served = served_precision(arch, gpu, request.weight_dtype, request.kv_cache_dtype)
    layout = Serving(
        gpu=gpu,
        tensor_parallel=request.tensor_parallel,
        pipeline_parallel=request.pipeline_parallel,
        weight_precision=served.weights,
        kv_precision=served.kv,
        expert_parallel=request.expert_parallel,
        attention_data_parallel=request.attention_data_parallel,
    )
    return on_engine(layout, profile, engine_settings(request, profile))


def plan_variants(
    arch: Architecture | None,
    expert_parallel: bool = True,
    inline_config: Mapping[str, Any] | None = None,
) -> int:
    """Layouts the plan tries per (GPU, precisions, TP x PP): the MoE variants
    (:data:`MOE_VARIANTS`) for an MoE model when ``constraints.expert_parallel`` allows
    them, else 1; the search-space count multiplies by it. An inline config not yet read
    counts as MoE when any of its keys names experts (an upper bound, read cheaply)."""
    if not expert_parallel:
        return 1
    if arch is None and inline_config is not None and not _names_experts(inline_config):
        return 1
    if arch is not None and arch.moe is None:
        return 1
    return len(MOE_VARIANTS)


def _names_experts(config: Mapping[str, Any]) -> bool:
    """Whether a key of ``config`` (or of a nested config) mentions experts."""
    return any(
        "expert" in str(key).lower() or (isinstance(value, Mapping) and _names_experts(value))
        for key, value in config.items()
    )
