"""Every latency/throughput measurement as a case: its roofline terms and how to predict it.

A case holds the forward passes behind the measured number, priced at 100 % of the GPU's
peaks (:class:`~service.domain.latency.PhaseTerms`), so that a set of efficiency factors
turns into a prediction with a few multiplications (the fit evaluates thousands):

* ``saturated_throughput`` (TensorRT-LLM offline rows): batch from the KV cache
  (``saturation.steady_state_batch``). A row stating its benchmark's ``num_requests`` is
  priced as the benchmark ran: that many fixed-length requests queued at once, scheduled
  step by step within the step budget (:func:`service.domain.offline_benchmark.offline_schedule`:
  the prefill ramp, decode, the last partial wave), output tokens over the schedule's time;
  without it, the steady-state formula ``saturation.saturated_throughput`` (one decode step
  at the mean context, one prefill chunk).
* ``e2e_latency`` (NeMo rows, a batch of B prompts served together): TTFT + (OSL − 1)·TPOT.
* ``decode_step`` / ``prefill`` (our H200 PyTorch reference, not an engine): one pass.
* ``ttft_at_concurrency`` / ``tpot_at_concurrency`` (serving sweeps at a fixed number of
  concurrent requests): :func:`service.domain.batching.at_concurrency` (the steady state the
  answers give) with the batch the KV cache holds and the step budget of the row's engine
  (:data:`SERVING_ENGINE` when it names none), at the mean lengths the client sent
  (:func:`~service.validation.sweeps.sent_lengths`) and the server flags the row states
  (:func:`~service.validation.sweeps.server_flags`); a row stating its ``num_prompts`` is
  compared with its client's mean over all of them, the first wave's burst included
  (:func:`benchmark_mean_ttft_ms`). :func:`replay` prices them a second way: the
  closed-loop benchmark replayed step by step
  (:func:`service.domain.benchmark_sim.simulate_closed_loop`: the mean TTFT or TPOT over
  ``num_prompts`` requests, the row's count or ten per client, lengths spread by the row's
  ``random_range_ratio``; TensorRT-LLM without chunked prefill, its LLM API default; SGLang
  with prompt batches apart from decodes). These rows are never in the fit: every
  prediction of them is out of sample.

Conventions: "FP8" rows run fp8 weights and fp8 KV (ModelOpt checkpoints quantise the KV
cache), "FP4" rows NVFP4 weights with fp8 KV, "MXFP4" / "INT4" rows those weights with a
16-bit KV cache; a row saying "bf16 KV cache" keeps its KV in bf16 and one saying "FP8 KV
cache" (e.g. "MXFP4 (FP8 KV cache)") in fp8; NeMo rows with precision "not stated" are fp16.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from service.catalog_files import load_engine_profiles
from service.domain.batching import at_concurrency
from service.domain.benchmark_sim import PROMPTS_PER_CLIENT, simulate_closed_loop
from service.domain.burst import burst_mean_ttft_seconds
from service.domain.calibration import gpu_generation
from service.domain.capacity import capacity
from service.domain.deployment import Deployment
from service.domain.engine import loaded_model_bytes
from service.domain.kv_cache import cache_ranks, kv_cache_bytes_per_token
from service.domain.latency import (
    Efficiency,
    PhaseTerms,
    Serving,
    decode_terms,
    phase_seconds,
    prefill_terms,
)
from service.domain.offline_benchmark import StepShape, offline_schedule, schedule_seconds
from service.domain.precision import Precision
from service.domain.saturation import (
    ContinuousBatching,
    prefill_chunk_tokens,
    prompts_per_chunk,
    saturated_throughput,
    steady_state_batch,
)
from service.domain.serving import step_token_budget
from service.domain.step_time import StepCosts, step_costs
from service.domain.weights import weight_memory
from service.validation.models import resolve_gpu, resolve_model
from service.validation.sweeps import sent_lengths, server_flags


class Metric(enum.StrEnum):
    SATURATED_THROUGHPUT = "saturated_throughput"
    E2E_LATENCY = "e2e_latency"
    DECODE_STEP = "decode_step"
    PREFILL = "prefill"
    TTFT_AT_CONCURRENCY = "ttft_at_concurrency"
    TPOT_AT_CONCURRENCY = "tpot_at_concurrency"


FITTED = frozenset(
    {Metric.SATURATED_THROUGHPUT, Metric.E2E_LATENCY, Metric.DECODE_STEP, Metric.PREFILL}
)
"""Metrics the calibration is fitted to; the serving-sweep metrics only test it."""


UNITS = {
    Metric.SATURATED_THROUGHPUT: "tok/s",
    Metric.E2E_LATENCY: "ms",
    Metric.DECODE_STEP: "ms",
    Metric.PREFILL: "ms",
    Metric.TTFT_AT_CONCURRENCY: "ms",
    Metric.TPOT_AT_CONCURRENCY: "ms",
}

SERVING_ENGINE = "trtllm-1.0.0"
"""Engine profile (``catalog/engines.yaml``) behind a serving sweep's batch ceiling and step
budget when its row names none (``engine_profile``): NIM's optimised profiles run
TensorRT-LLM; the tables name no backend, no ``max_num_tokens`` (the profile's default,
8,192) and no KV fraction (the profile's). vLLM and SGLang rows name the catalog profile of
their engine (the nearest version the catalog has)."""

SATURATED_ENGINE = "trtllm-bench-1.0"
"""The ``batching:`` entry of ``catalog/engines.yaml`` that prices offline throughput rows."""


SCHEDULE_RESOLUTION = 1.0
"""Geometric bin width within which an offline benchmark's steps are priced as one
(:func:`service.domain.offline_benchmark.offline_schedule`): 2x bins keep every
saturated-throughput case within 0.1 % of its step-by-step time on the catalog's
calibration (about 20 shapes a case instead of up to 2,300), so the fit stays fast."""


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """One measurement and the passes that predict it."""

    id: str
    dataset: str
    engine: str
    model: str
    gpu: str
    tensor_parallel: int
    precision: str
    metric: Metric
    generation: str = ""
    measured: float
    batch: int
    concurrency: int = 0
    input_tokens: int
    output_tokens: int
    decode: PhaseTerms | None = None
    prefill: PhaseTerms | None = None
    prompts_per_prefill: float = 1.0
    steps: StepCosts | None = None
    replay_steps: StepCosts | None = None
    chunk_tokens: int = 0
    num_prompts: int = 0
    first_wave_counted: bool = False
    mixed_prefill: bool = True
    chunked_prefill: bool = True
    length_ratio: float = 1.0
    requests: int = 0
    schedule: tuple[StepShape, ...] = ()
    in_fit: bool = True
    engine_kind: str = ""
    """``kind`` of the serving sweep's engine profile (sglang, trtllm, vllm-v1 ...): its TTFT
    error joins that kind's band (:func:`service.validation.evaluate.error_bands`); empty
    for other cases."""

    @property
    def fitted(self) -> bool:
        """Whether the calibration fit uses this case: serving sweeps only test it, and so do
        rows whose ``latency.json`` entry says ``"fit": false`` (engine releases older than
        the ones the factors describe, kept as held-out tests)."""
        return self.in_fit and self.metric in FITTED

    @property
    def unit(self) -> str:
        return UNITS[self.metric]


def predict(case: Case, efficiency: Efficiency) -> float:
    """The case's metric under ``efficiency`` (ms, or output tokens/s)."""
    eff = efficiency
    decode_ms = prefill_ms = 0.0
    if case.decode is not None:
        decode_ms = 1e3 * phase_seconds(case.decode, eff, mfu=eff.decode_mfu, mbu=eff.decode_mbu)
    if case.prefill is not None:
        prefill_ms = 1e3 * phase_seconds(
            case.prefill, eff, mfu=eff.prefill_mfu, mbu=eff.prefill_mbu
        )
    if case.metric is Metric.DECODE_STEP:
        return decode_ms
    if case.metric is Metric.PREFILL:
        return prefill_ms
    if case.metric is Metric.E2E_LATENCY:
        return prefill_ms + (case.output_tokens - 1) * decode_ms
    if case.schedule and case.steps is not None:
        seconds = schedule_seconds(case.schedule, case.steps, eff)
        return case.requests * case.output_tokens / seconds
    if case.steps is not None:
        state = at_concurrency(
            case.steps,
            eff,
            chunk_tokens=case.chunk_tokens,
            max_batch=case.batch,
            concurrency=case.concurrency,
        )
        if case.metric is Metric.TPOT_AT_CONCURRENCY:
            return state.tpot_ms
        return benchmark_mean_ttft_ms(case, eff, state.ttft_ms)
    per_prompt_s = prefill_ms / 1e3 / case.prompts_per_prefill
    return saturated_throughput(case.batch, case.output_tokens, decode_ms / 1e3, per_prompt_s)


def benchmark_mean_ttft_ms(case: Case, efficiency: Efficiency, steady_ms: float) -> float:
    """A serving sweep's mean TTFT as its client reports it. A client that states its
    ``num_prompts`` ``N`` averages over all of them, and its first ``C`` arrive together (a
    burst, :func:`~service.domain.burst.burst_mean_ttft_seconds`) before the loop reaches
    its steady state: ``(C·burst + (N − C)·steady)/N``. Rows that state no count (NIM's
    tables) and one-user rows (a burst of one is the steady state) are compared with the
    steady state alone."""
    clients, prompts = case.concurrency, case.num_prompts
    if case.steps is None or not case.first_wave_counted or clients <= 1:
        return steady_ms
    first = min(clients, prompts)
    burst_ms = 1e3 * burst_mean_ttft_seconds(
        case.steps,
        efficiency,
        prompts=first,
        chunk_tokens=case.chunk_tokens,
        max_batch=case.batch,
    )
    return (first * burst_ms + (prompts - first) * steady_ms) / prompts


def replay(case: Case, efficiency: Efficiency) -> float | None:
    """A serving sweep's mean TTFT or TPOT (ms) in its replayed closed-loop benchmark (module
    doc); None for the other cases."""
    serving_sweep = case.metric in (Metric.TTFT_AT_CONCURRENCY, Metric.TPOT_AT_CONCURRENCY)
    if case.replay_steps is None or not serving_sweep:
        return None
    run = simulate_closed_loop(
        case.replay_steps,
        efficiency,
        clients=case.concurrency,
        num_prompts=case.num_prompts,
        chunk_tokens=case.chunk_tokens,
        max_batch=case.batch,
        mixed_prefill=case.mixed_prefill,
        chunked_prefill=case.chunked_prefill,
        length_ratio=case.length_ratio,
    )
    return run.mean_ttft_ms if case.metric is Metric.TTFT_AT_CONCURRENCY else run.mean_tpot_ms


def _precision(text: str) -> tuple[Precision, Precision]:
    """(weights, KV cache) of a row's precision text (module doc); "bf16 KV" / "fp8 KV" override."""
    upper = text.upper()
    weights = Precision.FP16
    kv = Precision.FP16
    if upper.startswith("FP8"):
        weights, kv = Precision.FP8, Precision.FP8
    elif upper.startswith("FP4"):
        weights, kv = Precision.FP4, Precision.FP8
    elif upper.startswith("MXFP4"):
        weights = Precision.MXFP4
    elif upper.startswith("INT4"):
        weights = Precision.INT4
    elif upper.startswith("BF16"):
        weights, kv = Precision.BF16, Precision.BF16
    if "BF16 KV" in upper:
        kv = Precision.BF16
    elif "FP8 KV" in upper:
        kv = Precision.FP8
    return weights, kv


def latency_case(point: dict[str, Any], batching: ContinuousBatching | None = None) -> Case:
    """A ``latency.json`` datapoint as a :class:`Case` (module doc)."""
    model = resolve_model(str(point["model"]))
    arch, params = model.architecture, model.parameters
    gpu = resolve_gpu(str(point["gpu"]))
    tp = int(point.get("tensor_parallel", point.get("gpu_count", 1)))
    weights, kv = _precision(str(point["precision"]))
    # TensorRT-LLM's throughput tables state "MoE models with attention DP".
    attention_dp = arch.moe is not None and "attention DP" in str(point.get("notes", ""))
    serving = Serving(
        gpu=gpu,
        tensor_parallel=tp,
        weight_precision=weights,
        kv_precision=kv,
        attention_data_parallel=attention_dp,
    )
    isl, osl = int(point["isl"]), int(point["osl"])
    common: dict[str, Any] = {
        "id": str(point["id"]),
        "dataset": "latency.json",
        "engine": str(point["engine"]).split(" (")[0].split(";")[0],
        "model": model.repo_id,
        "gpu": gpu.id,
        "generation": gpu_generation(gpu.compute_capability, gpu.vendor),
        "tensor_parallel": tp,
        "precision": weights.value,
        "measured": float(point["value"]),
        "input_tokens": isl,
        "output_tokens": osl,
        "in_fit": bool(point.get("fit", True)),
    }
    engine = batching or load_engine_profiles().batching[SATURATED_ENGINE]
    free = gpu.memory_bytes - weight_memory(arch, params, weights, tp).per_gpu_bytes
    ranks, cache_tp = cache_ranks(tp, attention_dp)
    kv_tokens = (
        ranks * engine.kv_memory_fraction * free / kv_cache_bytes_per_token(arch, kv, cache_tp)
    )
    batch = steady_state_batch(kv_tokens, isl, osl, engine)
    kind = point.get("kind")
    if kind in (Metric.TTFT_AT_CONCURRENCY, Metric.TPOT_AT_CONCURRENCY):
        profile = load_engine_profiles().get(str(point.get("engine_profile", SERVING_ENGINE)))
        sent_isl, sent_osl = sent_lengths(point)
        server = server_flags(point)
        budget = server.pop("max_num_batched_tokens", None)
        deployment = Deployment(
            gpu_memory_bytes=gpu.memory_bytes,
            tensor_parallel=tp,
            weight_precision=weights,
            kv_precision=kv,
            gpu_name=gpu.name,
            attention_data_parallel=attention_dp,
            **server,
        )
        if deployment.scheduler_recv_interval is not None and profile.kind != "sglang":
            raise ValueError(
                f"latency.json entry {point['id']!r}: field 'server' sets "
                f"scheduler_recv_interval, an SGLang flag, on a {profile.kind} profile"
            )
        loaded = loaded_model_bytes(arch, weight_memory(arch, params, weights, tp).per_gpu_bytes)
        fit = capacity(
            arch, loaded, deployment, profile, sent_isl + sent_osl, with_max_context=False
        )
        clients = int(point["concurrency"])
        serving = msgspec.structs.replace(
            serving,
            eager_prefill=profile.eager_prefill,
            admission_interval_steps=deployment.scheduler_recv_interval or 1,
        )
        return Case(
            **common,
            metric=Metric(kind),
            batch=max(fit.max_batch, 1),
            concurrency=clients,
            steps=step_costs(arch, params, serving, input_tokens=sent_isl, output_tokens=sent_osl),
            replay_steps=step_costs(arch, params, serving, input_tokens=isl, output_tokens=osl),
            chunk_tokens=step_token_budget(
                profile, sent_isl, gpu, None if budget is None else int(budget)
            ),
            num_prompts=int(point.get("num_prompts", PROMPTS_PER_CLIENT * clients)),
            first_wave_counted="num_prompts" in point,
            mixed_prefill=profile.kind != "sglang",
            chunked_prefill=profile.kind != "trtllm",
            length_ratio=float(point.get("random_range_ratio", 1.0)),
            engine_kind=profile.kind,
        )
    if isinstance(point.get("batch_or_concurrency"), int):
        batch = int(point["batch_or_concurrency"])
        return Case(
            **common,
            metric=Metric.E2E_LATENCY,
            batch=batch,
            decode=decode_terms(arch, params, serving, batch=batch, context=isl + osl // 2),
            prefill=prefill_terms(arch, params, serving, prompts=batch, tokens=isl),
        )
    chunk = prefill_chunk_tokens(batch, isl, osl, engine)
    if "num_requests" in point and batch > 0:
        requests = int(point["num_requests"])
        return Case(
            **common,
            metric=Metric.SATURATED_THROUGHPUT,
            batch=batch,
            steps=step_costs(arch, params, serving, input_tokens=isl, output_tokens=osl),
            chunk_tokens=chunk,
            requests=requests,
            schedule=offline_schedule(
                input_tokens=isl,
                output_tokens=osl,
                requests=requests,
                chunk_tokens=chunk,
                max_batch=batch,
                resolution=SCHEDULE_RESOLUTION,
            ),
        )
    # Whole prompts share a chunk; a prompt longer than the chunk is priced as one pass
    # over all its tokens (its chunks' attention sums to the full causal S²).
    prompts = max(1, int(prompts_per_chunk(isl, chunk)))
    return Case(
        **common,
        metric=Metric.SATURATED_THROUGHPUT,
        batch=batch,
        decode=decode_terms(arch, params, serving, batch=batch, context=isl + osl // 2),
        prefill=prefill_terms(arch, params, serving, prompts=prompts, tokens=isl),
        prompts_per_prefill=prompts,
    )


def roofline_case(record: dict[str, Any], gpu_name: str) -> Case:
    """A record of ``bench/results/gpu_roofline_h200.json``: our bf16 PyTorch forward pass
    (matmuls + SDPA, decode in CUDA graphs) on an H200 - a roofline check, not an engine."""
    model = resolve_model(str(record["model"]))
    arch, params = model.architecture, model.parameters
    gpu = resolve_gpu(gpu_name)
    serving = Serving(gpu=gpu)
    batch, tokens = int(record["batch"]), int(record["tokens"])
    decode = record["phase"] == "decode"
    return Case(
        id=f"h200-reference:{model.repo_id.split('/')[-1]}:{record['phase']}:B{batch}:T{tokens}",
        dataset="h200-reference",
        engine="PyTorch reference (bench/gpu_roofline.py)",
        model=model.repo_id,
        gpu=gpu.id,
        generation=gpu_generation(gpu.compute_capability, gpu.vendor),
        tensor_parallel=1,
        precision=Precision.BF16.value,
        metric=Metric.DECODE_STEP if decode else Metric.PREFILL,
        measured=float(record["ms"]),
        batch=batch,
        input_tokens=tokens,
        output_tokens=1,
        decode=decode_terms(arch, params, serving, batch=batch, context=tokens) if decode else None,
        prefill=None
        if decode
        else prefill_terms(arch, params, serving, prompts=batch, tokens=tokens),
    )
