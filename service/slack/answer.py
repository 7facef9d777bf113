"""Answer one slash command: parse, match names against the catalog, compute, render.

Defaults when the text leaves something out: ``plan`` considers up to 8 GPUs per replica and
a workload of 2,048 input and 512 output tokens (or ``ctx`` split as ctx − 512 / 512);
``fit`` checks one GPU at the workload's length (``in`` + ``out``), else 8,192 tokens, and
says so; ``latency`` runs batch 1. Names read differently from what was typed (a loose match,
an Instruct variant checked as its base) are said under the verdict.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from service.contract.schemas import (
    ConstraintsIn,
    LatencyRequest,
    MaxBatchRequest,
    PlanRequest,
    SloIn,
    WorkloadIn,
)
from service.db.gpu_repository import GpuRepository
from service.db.model_repository import ModelRepository
from service.domain.engine import EngineCatalog
from service.domain.gpu import GpuSpec
from service.gate.text import tokens
from service.planning.answers import answer_latency, answer_max_batch, answer_plan, layout_problem
from service.planning.assumptions import Assumptions
from service.planning.engines import resolve_engine
from service.planning.errors import PlanningError
from service.planning.names import Match, alias_target, base_of_variant, match_gpu, match_model
from service.planning.prices import priced
from service.planning.resolve import ResolvedModel, resolve_gpu, resolve_model
from service.slack import blocks
from service.slack.grammar import Help, ParseError, Query, parse

DEFAULT_MAX_GPUS = 8
DEFAULT_INPUT = 2048
DEFAULT_OUTPUT = 512
DEFAULT_FIT_CONTEXT = 8192
Reply = dict[str, Any]
logger = logging.getLogger("capplan.slack")


def workload(query: Query) -> WorkloadIn:
    """Input/output tokens from ``in``/``out``, else split from ``ctx``, else the defaults."""
    out = query.output_tokens or (
        min(DEFAULT_OUTPUT, max(1, query.context // 2)) if query.context else DEFAULT_OUTPUT
    )
    given_in = query.input_tokens or (max(1, query.context - out) if query.context else None)
    return WorkloadIn(
        input_tokens=given_in or DEFAULT_INPUT, output_tokens=out, concurrency=query.batch or 1
    )


def _dtypes(query: Query) -> dict[str, Any]:
    return {
        "weight_dtype": query.weight_dtype or "auto",
        "kv_cache_dtype": query.kv_cache_dtype or "auto",
    }


def _slo(query: Query) -> SloIn | None:
    if query.ttft_ms is None and query.tpot_ms is None:
        return None
    return SloIn(ttft_ms=query.ttft_ms, tpot_ms=query.tpot_ms, burst=query.burst)


def plan_reply(
    query: Query, model: ResolvedModel, gpus: list[GpuSpec], base_url: str, assume: Assumptions
) -> Reply:
    load = workload(query)
    dtypes = _dtypes(query)
    request = PlanRequest(
        model=model.name,
        workload=load,
        slo=_slo(query),
        constraints=ConstraintsIn(
            gpus=[g.id for g in gpus], max_gpus=query.gpu_count or DEFAULT_MAX_GPUS,
            weight_dtypes=[dtypes["weight_dtype"]], kv_cache_dtypes=[dtypes["kv_cache_dtype"]],
        ),
    )  # fmt: skip
    response = answer_plan(
        model.architecture,
        model.parameters,
        gpus,
        request,
        assume.engine,
        model.name,
        assume.calibration,
    )
    asked = (
        f"{tokens(load.input_tokens)} in / {tokens(load.output_tokens)} out, "
        f"{load.concurrency} at once, on {', '.join(sorted(g.id for g in gpus))}, "
        f"up to {request.constraints.max_gpus if request.constraints else DEFAULT_MAX_GPUS} GPUs"
    )
    return blocks.plan_message(asked, response, base_url)


def fit_reply(
    query: Query, model: ResolvedModel, gpu: GpuSpec, base_url: str, assume: Assumptions
) -> Reply:
    arch, tp = model.architecture, query.gpu_count or 1
    if problem := layout_problem(arch, tp, 1):
        return blocks.error_message(problem.message)
    context, _ = fit_context(query)
    request = MaxBatchRequest(
        model=model.name, gpu=gpu.id, context_length=context, tensor_parallel=tp, **_dtypes(query)
    )
    fit = answer_max_batch(arch, model.parameters, gpu, request, assume.engine)
    asked = f"{model.name} on {tp}x {gpu.name} at {tokens(context)} tokens"
    setup = (
        blocks.setup_label(gpu.id, tp, tp, 1, 1, f"{fit.weight_dtype}/{fit.kv_cache_dtype}")
        + f", {tokens(context)} tokens"
    )
    return blocks.fit_message(asked, fit, query.batch, base_url, setup)


def fit_context(query: Query) -> tuple[int, str | None]:
    """The context ``fit`` checks, and a note when it was not given as ``ctx``."""
    if query.context:
        return query.context, None
    if query.input_tokens or query.output_tokens:
        length = (query.input_tokens or DEFAULT_INPUT) + (query.output_tokens or DEFAULT_OUTPUT)
        return length, f"no `ctx` given: checked at the workload's {tokens(length)} tokens"
    note = f"no `ctx` given: checked at {tokens(DEFAULT_FIT_CONTEXT)} tokens (add `ctx 32k`)"
    return DEFAULT_FIT_CONTEXT, note


def latency_reply(
    query: Query, model: ResolvedModel, gpu: GpuSpec, base_url: str, assume: Assumptions
) -> Reply:
    arch, tp = model.architecture, query.gpu_count or 1
    if problem := layout_problem(arch, tp, 1):
        return blocks.error_message(problem.message)
    load = workload(query)
    request = LatencyRequest(
        model=model.name, gpu=gpu.id, batch_size=load.concurrency, input_tokens=load.input_tokens,
        output_tokens=load.output_tokens, tensor_parallel=tp, **_dtypes(query),
    )  # fmt: skip
    latency = answer_latency(
        arch, model.parameters, gpu, request, assume.engine, assume.calibration
    )
    asked = (
        f"{model.name} on {tp}x {gpu.name}, batch {load.concurrency}, "
        f"{tokens(load.input_tokens)} in / {tokens(load.output_tokens)} out"
    )
    return blocks.latency_message(asked, latency, _slo(query), base_url)


def with_engine(assume: Assumptions, requested: str | None) -> Assumptions:
    """The assumptions with the engine the command names (``engine sglang``), resolved like
    the API's ``engine`` field; unchanged when it names none."""
    if requested is None:
        return assume
    engines = assume.engines or EngineCatalog(
        profiles={assume.engine.id: assume.engine}, default=assume.engine.id
    )
    return msgspec.structs.replace(assume, engine=resolve_engine(engines, requested))


async def _gpu_ids(session: AsyncSession, query: Query) -> list[str] | Reply:
    """The GPUs the query names: one, several (``plan`` only), or all for a ``plan``."""
    rows = (await GpuRepository(session).find(limit=10_000)).items
    if query.gpu is None:
        if query.action == "plan":
            return [row.id for row in rows]
        return blocks.error_message(f"`{query.action}` needs a GPU: add `on h100-sxm`, for example")
    match = match_gpu(query.gpu, [(row.id, row.name) for row in rows])
    if match.value is not None:
        return [match.value]
    if query.action == "plan" and match.ambiguous:
        return list(match.candidates)
    return blocks.choose_message("GPU", query.gpu, match.candidates, ambiguous=match.ambiguous)


async def answer(
    session: AsyncSession, text: str, command: str, base_url: str, assume: Assumptions
) -> Reply:
    """The reply to ``/command text``, within Slack's 3 seconds (all in-process arithmetic)."""
    try:
        query = parse(text)
    except ParseError as exc:
        return blocks.help_message(command, problem=str(exc))
    if isinstance(query, Help):
        return blocks.help_message(command, unknown=query.unknown)
    rows = (await ModelRepository(session).find(limit=10_000)).items
    model_ids = [row.id for row in rows]
    notes: list[str] = []
    aliases = {alias: row.id for row in rows for alias in row.aliases or ()}
    aliased = None if query.model in model_ids else alias_target(query.model, aliases)
    base = aliased or base_of_variant(query.model, model_ids)
    model_match = Match(value=base) if base else match_model(query.model, model_ids)
    if model_match.value is None:
        return blocks.choose_message(
            "model", query.model, model_match.candidates, ambiguous=model_match.ambiguous
        )
    if aliased is not None:
        notes.append(f"`{query.model}` → `{aliased}` (an alias the catalog lists)")
    elif base is not None:
        notes.append(f"`{query.model}` → `{base}` (the Instruct/chat variant's base: same memory)")
    elif query.model.strip().lower() != model_match.value.lower():
        notes.append(f"`{query.model}` → `{model_match.value}`")
    gpu_ids = await _gpu_ids(session, query)
    if isinstance(gpu_ids, dict):
        return gpu_ids
    if query.gpu is not None and len(gpu_ids) == 1 and query.gpu.lower() != gpu_ids[0]:
        notes.append(f"`{query.gpu}` → `{gpu_ids[0]}`")
    try:
        model = await resolve_model(session, model_match.value)
        gpus = [priced(await resolve_gpu(session, gpu_id), assume.prices) for gpu_id in gpu_ids]
        assume = with_engine(assume, query.engine)
    except PlanningError as exc:
        return blocks.error_message(exc.detail)
    if query.engine is not None:
        notes.append(f"engine `{query.engine}` → {assume.engine.name} {assume.engine.version}")
    try:
        if query.action == "plan":
            reply = plan_reply(query, model, gpus, base_url, assume)
        elif query.action == "fit":
            reply = fit_reply(query, model, gpus[0], base_url, assume)
            notes += [note for note in fit_context(query)[1:] if note]
        else:
            reply = latency_reply(query, model, gpus[0], base_url, assume)
        return blocks.with_notes(reply, notes)
    except ValueError as exc:  # the domain's "cannot compute this" (e.g. a precision it lacks)
        logger.warning("slack command %r: %s", text, exc)
        return blocks.error_message(f"capplan cannot compute that: {exc}")
