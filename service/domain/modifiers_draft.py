"""Speculative decoding's proposer: what drafting ``k`` tokens costs per verification step.

Methods (vLLM ``--speculative-config`` ``method``,
https://docs.vllm.ai/en/latest/features/spec_decode.html): ``ngram`` looks the draft up in
the prompt (no model, no cost); ``draft_model`` runs a smaller checkpoint of the same
vocabulary (``draft_tensor_parallel_size`` = the target's TP, its own KV cache); ``mtp`` runs
the checkpoint's multi-token-prediction layer (DeepSeek-V3, GLM-4.5, Qwen3-Next), one MTP
layer per draft token (vLLM reuses the layer when ``k`` exceeds ``num_nextn_predict_layers``).

Per verification step of ``b`` sequences the proposer runs ``k`` forward passes of one
token per sequence, and it prefills each prompt once (its own KV)::

    t_draft = k · [max(W_d/(BW·MBU), 2·N_d·b/(F·MFU)) + max(b·KV_d(c)/(BW·MBU), b·A_d(c)/(F·MFU))
                   + 2·L_d all-reduces + L_d·t_layer]
    TPOT    = (t_verify(b·(k + 1) tokens) + t_draft) / E,   E = (1 − α^(k+1)) / (1 − α)

(Leviathan et al. 2023, eq. 1; ``t_verify`` is the target's step over ``k + 1`` tokens per
sequence). ``W_d``: the draft's weight bytes per GPU (an MTP step reads one MTP layer, its
``eh_proj`` and the LM head ``V·d``); ``KV_d(c)``: its KV bytes per sequence at context
``c`` (MTP: one full-attention layer); ``L_d`` its layers. :func:`fold` adds these terms to
the target step's own (weight reads to weight reads, FLOPs to FLOPs), so the draft shares the
step's rooflines: exact when both are bandwidth-bound (decode at the small batches where
speculation pays); at compute-bound batches the draft's ``k·W_d`` reads hide under the
target's matmuls. An MoE MTP layer's experts are read as touched by the step's tokens (all
its ``b·(k + 1)`` verified ones, a slight overcount). A step of prompt chunks alone is still
charged the ``k`` weight reads (the draft prefills in one pass): ``(k − 1)·W_d`` too many,
small beside a prefill chunk.

Memory per GPU (:func:`draft_memory`): the draft's weights (a draft model at the target's
TP; MTP: its layers, :func:`mtp_weight_bytes`) and its KV bytes per token of every sequence.
"""

from __future__ import annotations

import enum

import msgspec

from service.domain.architecture import Architecture
from service.domain.capacity import BindingConstraint, Capacity
from service.domain.flops import attention_head_widths
from service.domain.kv_cache import kv_cache_bytes_per_token, kv_cache_bytes_per_token_per_layer
from service.domain.latency import (
    PhaseTerms,
    Serving,
    decode_terms,
    matmul_peak_flops,
    prefill_terms,
    weight_bytes_read,
)
from service.domain.parallel import all_reduce_seconds
from service.domain.parameters import ParameterCount, mtp_parameters, routed_expert_parameters
from service.domain.precision import Precision, bytes_per_element
from service.domain.step_time import StepCosts
from service.domain.units import format_bytes
from service.domain.weights import resolve_weight_precision, weight_memory


class SpeculativeMethod(enum.StrEnum):
    """How draft tokens are proposed (vLLM ``speculative_config.method``)."""

    NGRAM = "ngram"
    MTP = "mtp"
    DRAFT_MODEL = "draft_model"


class DraftModel(msgspec.Struct, frozen=True, kw_only=True):
    """A separate draft checkpoint (method ``draft_model``)."""

    name: str
    arch: Architecture
    params: ParameterCount


class DraftCosts(msgspec.Struct, frozen=True, kw_only=True):
    """One draft forward pass at 100 % of the peaks (seconds on one GPU): the weight read
    (dense, and routed experts read as touched), one sequence's token (``decode``) and one
    whole prompt prefilled by the draft (``prompt``)."""

    dense_weight_read_s: float
    routed_weight_read_s: float
    decode: PhaseTerms
    prompt: PhaseTerms


class DraftMemory(msgspec.Struct, frozen=True, kw_only=True):
    """What the proposer takes on each GPU of a replica."""

    weight_bytes: int
    kv_bytes_per_token: int


class DraftProblem(ValueError):
    """The proposer cannot run with this target; ``field`` names the setting at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_draft(arch: Architecture, method: SpeculativeMethod, draft: DraftModel | None) -> None:
    """Raise :class:`DraftProblem` when the method cannot run: ``draft_model`` without a
    draft, or one whose vocabulary differs (vLLM verifies the draft's token ids); a draft
    with another method; ``mtp`` on a model whose config declares no MTP layer."""
    if method is SpeculativeMethod.DRAFT_MODEL:
        if draft is None:
            raise DraftProblem("draft_model", "required with method draft_model")
        if draft.arch.vocab_size != arch.vocab_size:
            raise DraftProblem(
                "draft_model",
                f"{draft.name} has a vocabulary of {draft.arch.vocab_size:,} tokens, the model "
                f"{arch.vocab_size:,}: a draft must share the target's tokenizer",
            )
    elif draft is not None:
        raise DraftProblem("draft_model", f"only with method draft_model, not {method.value}")
    if method is SpeculativeMethod.MTP and not served_mtp_layers(arch):
        raise DraftProblem(
            "method",
            "the model's config declares no multi-token-prediction layer capplan models "
            "(num_nextn_predict_layers or mtp_num_hidden_layers)",
        )


def served_mtp_layers(arch: Architecture) -> int:
    """MTP layers an engine loads for method ``mtp``: those the config declares
    (``num_nextn_predict_layers``, ``mtp_num_hidden_layers``), where capplan knows their
    layout (:func:`parameters.mtp_parameters`). A checkpoint whose config omits its layer
    (Qwen3-Next-80B; Qwen3-Coder-Next ships none) is not guessed at."""
    return arch.mtp_layers if mtp_parameters(arch) else 0


def _draft_serving(serving: Serving, draft: DraftModel) -> Serving:
    """The draft at the target's TP, on one pipeline stage, in its own checkpoint format."""
    return msgspec.structs.replace(
        serving,
        pipeline_parallel=1,
        weight_precision=resolve_weight_precision(draft.arch, "auto", serving.gpu),
        expert_parallel=False,
        attention_data_parallel=False,
    )


def _model_costs(
    draft: DraftModel, serving: Serving, *, input_tokens: int, context: int
) -> DraftCosts:
    own = _draft_serving(serving, draft)
    bandwidth = serving.gpu.memory_bandwidth_bytes_per_s
    everything = weight_bytes_read(draft.arch, draft.params, own, 10**9) / bandwidth
    return DraftCosts(
        dense_weight_read_s=everything,
        routed_weight_read_s=0.0,
        decode=decode_terms(draft.arch, draft.params, own, batch=1, context=context),
        prompt=prefill_terms(draft.arch, draft.params, own, prompts=1, tokens=input_tokens),
    )


def _mtp_step_parameters(arch: Architecture) -> tuple[int, int]:
    """(parameters one MTP step reads, of which routed experts): one MTP layer with the LM
    head (DeepSeek layout: less its embedding copy, a row gather; Qwen3-Next: plus the
    shared head)."""
    head = arch.vocab_size * arch.hidden_size
    stored = mtp_parameters(arch, 1)
    step = stored - head if arch.mtp_layout == "deepseek" else stored + head
    routed = arch.moe.num_experts * routed_expert_parameters(arch) if arch.moe else 0
    return step, routed


def _mtp_costs(
    arch: Architecture, serving: Serving, *, input_tokens: int, context: int
) -> DraftCosts:
    gpu, tp = serving.gpu, serving.tensor_parallel
    bandwidth, peak = (
        gpu.memory_bandwidth_bytes_per_s,
        matmul_peak_flops(gpu, serving.weight_precision),
    )
    step, routed = _mtp_step_parameters(arch)
    active = step - routed
    if arch.moe is not None:
        active += routed * arch.moe.experts_per_token // arch.moe.num_experts
    element = bytes_per_element(serving.weight_precision)
    qk, v = attention_head_widths(arch)
    attention_per_position = 2 * arch.num_attention_heads * (qk + v) / tp
    kv_per_token = kv_cache_bytes_per_token_per_layer(arch, serving.kv_precision, tp)
    link = gpu.interconnect_bandwidth_bytes_per_s
    all_reduces = 2 if tp > 1 else 0

    def terms(tokens: int, attended: float, kv_tokens: int) -> PhaseTerms:
        message = tokens * arch.hidden_size * 2
        return PhaseTerms(
            weight_read_s=0.0,
            matmul_s=2 * active * tokens / tp / peak,
            kv_s=kv_tokens * kv_per_token / bandwidth,
            attention_s=attention_per_position * attended / peak,
            communication_s=all_reduces * all_reduce_seconds(message, tp, link, 0.0),
            all_reduces=all_reduces,
            layers=1,
        )

    prompt_positions = input_tokens * (input_tokens + 1) / 2
    return DraftCosts(
        dense_weight_read_s=(step - routed) * element / tp / bandwidth,
        routed_weight_read_s=routed * element / tp / bandwidth,
        decode=terms(1, context, context),
        prompt=terms(input_tokens, prompt_positions, input_tokens),
    )


def draft_costs(
    arch: Architecture,
    serving: Serving,
    method: SpeculativeMethod,
    draft: DraftModel | None,
    *,
    input_tokens: int,
    context: int,
) -> DraftCosts | None:
    """The proposer's pass (module doc); None for ``ngram`` (no model runs)."""
    if method is SpeculativeMethod.DRAFT_MODEL and draft is not None:
        return _model_costs(draft, serving, input_tokens=input_tokens, context=context)
    if method is SpeculativeMethod.MTP:
        return _mtp_costs(arch, serving, input_tokens=input_tokens, context=context)
    return None


def draft_memory(
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    method: SpeculativeMethod,
    draft: DraftModel | None,
    *,
    mtp_shares_lm_head: bool = True,
) -> DraftMemory:
    """The proposer's weights and KV per token on one GPU (module doc); zero for ``ngram``.
    ``mtp_shares_lm_head``: the engine version's :attr:`EngineProfile.mtp_shares_lm_head`."""
    tp = serving.tensor_parallel
    if method is SpeculativeMethod.DRAFT_MODEL and draft is not None:
        own = _draft_serving(serving, draft)
        weights = weight_memory(draft.arch, draft.params, own.weight_precision, tp, 1)
        kv = kv_cache_bytes_per_token(draft.arch, serving.kv_precision, tp, 1)
        return DraftMemory(weight_bytes=int(weights.per_gpu_bytes), kv_bytes_per_token=kv)
    if method is SpeculativeMethod.MTP:
        per_layer = kv_cache_bytes_per_token_per_layer(arch, serving.kv_precision, tp)
        layers = served_mtp_layers(arch)
        return DraftMemory(
            weight_bytes=mtp_weight_bytes(arch, serving, layers, shares_lm_head=mtp_shares_lm_head),
            kv_bytes_per_token=layers * per_layer,
        )
    return DraftMemory(weight_bytes=0, kv_bytes_per_token=0)


def mtp_weight_bytes(
    arch: Architecture, serving: Serving, layers: int, *, shares_lm_head: bool = True
) -> int:
    """The MTP proposer's resident weights on one GPU, after the engine has pointed it at the
    target's embedding and LM head::

        W = mtp_parameters(layers, own_embedding_and_head=False) · bytes / t
            + (pp > 1) · V · d · 2 B / t        (its own embedding; 16-bit, as the model's)
            + (not shares_lm_head) · (DeepSeek layout) · layers · V · d · bytes / t

    The last term is the head copy (``shared_head.head``, one per MTP layer, a TP-sharded
    ``ParallelLMHead`` at the weight precision) that engine versions without vllm#34385 keep
    (``EngineProfile.mtp_shares_lm_head`` false; catalog/engines.yaml gives each version's
    source).

    Today's engines keep no copy of their own at one pipeline stage, whichever convention the
    checkpoint follows (DeepSeek-V3 stores ``embed_tokens`` and ``shared_head.head`` inside
    ``model.layers.61``, GLM-5 neither):

    - vLLM V1 (``vllm/v1/spec_decode/llm_base_proposer.py`` at 00c4f22d, ``load_model``):
      ``_maybe_share_embeddings`` deletes the draft's ``embed_tokens`` and binds the
      target's when ``get_pp_group().world_size == 1`` (a draft without
      ``has_own_embed_tokens`` is an MTP draft: always shared); ``_maybe_share_lm_head``
      deletes ``shared_head.head`` of every MTP layer and binds the target's ``lm_head``
      with no pipeline condition (https://github.com/vllm-project/vllm/pull/34385, opened
      2026-02-11, merged 2026-02-12; before it only ``self.model.lm_head`` was rebound and
      the DeepSeek layout's head copy stayed, priced by ``shares_lm_head=False``). Both
      run inside ``GPUModelRunner.load_model``'s ``DeviceMemoryProfiler``, whose closing
      figure is ``memory_allocated`` after ``gc.collect()``: "Model loading took" and the
      KV budget of
      ``determine_available_memory`` (``memory_profiling`` empties the cache first) see
      the weights without the copies.
    - SGLang (``python/sglang/srt/models/deepseek_nextn.py``): ``load_weights`` skips
      ``shared_head.head`` and ``embed_tokens`` ("Use shared head and embed weights from
      target model") and the EAGLE worker calls ``set_embed_and_head`` with the target's
      (``del`` of the draft's, then ``torch.cuda.empty_cache()``).

    Under pipeline parallelism vLLM's draft runs on the last stage, which holds the target's
    head but not its embedding: the draft's own embedding (DeepSeek's and Qwen3-Next's MTP
    modules both build one) stays.
    """
    tp = serving.tensor_parallel
    element = bytes_per_element(serving.weight_precision)
    weights = mtp_parameters(arch, layers, own_embedding_and_head=False) * element / tp
    if layers and serving.pipeline_parallel > 1:
        small = 4 if serving.weight_precision is Precision.FP32 else 2
        weights += arch.vocab_size * arch.hidden_size * small / tp
    if not shares_lm_head and arch.mtp_layout == "deepseek":
        weights += layers * arch.vocab_size * arch.hidden_size * element / tp
    return int(weights)


def fold(costs: StepCosts, draft: DraftCosts, draft_tokens: int) -> StepCosts:
    """``costs`` (whose decode terms are per verified token, ``k + 1`` per sequence, and KV
    per sequence) with ``k`` draft passes per step and the draft's prefill of each prompt
    added, each to the target's term of the same kind (module doc)."""
    k = draft_tokens
    per_token = k / (k + 1)
    d, p, x, y = costs.decode, costs.prompt, draft.decode, draft.prompt
    decode = msgspec.structs.replace(
        d,
        matmul_s=d.matmul_s + per_token * x.matmul_s,
        kv_s=d.kv_s + k * x.kv_s,
        attention_s=d.attention_s + per_token * x.attention_s,
        communication_s=d.communication_s + per_token * x.communication_s,
        all_reduces=d.all_reduces + k * x.all_reduces,
        layers=d.layers + k * x.layers,
    )
    prompt = msgspec.structs.replace(
        p,
        matmul_s=p.matmul_s + y.matmul_s,
        kv_s=p.kv_s + y.kv_s,
        attention_s=p.attention_s + y.attention_s,
        communication_s=p.communication_s + y.communication_s,
        all_reduces=p.all_reduces + y.all_reduces,
        layers=p.layers + y.layers,
    )
    return msgspec.structs.replace(
        costs,
        decode=decode,
        prompt=prompt,
        dense_weight_read_s=costs.dense_weight_read_s + k * draft.dense_weight_read_s,
        routed_weight_read_s=costs.routed_weight_read_s + k * draft.routed_weight_read_s,
    )


def with_draft_kv(fit: Capacity, memory: DraftMemory, context_tokens: int) -> Capacity:
    """``fit`` (computed with the draft's weights already in the weights) with the draft's
    KV of each sequence beside the target's: ``max_batch = pool // (KV_t + KV_d·context)``."""
    extra = memory.kv_bytes_per_token * context_tokens
    if extra == 0 or not fit.fits:
        return fit
    per_sequence = fit.kv_cache_bytes_per_sequence + extra
    held = fit.kv_cache_pool_bytes // per_sequence if per_sequence else 0
    max_batch = min(fit.max_batch, held)
    # The draft's KV can make the cache bind where the sequence cap did.
    binding = BindingConstraint.KV_CACHE if held < fit.max_batch else fit.binding_constraint
    reasons = fit.reasons
    if max_batch < 1:
        reasons += (
            f"one sequence of {context_tokens} tokens needs {format_bytes(per_sequence)} of KV "
            f"cache with the draft's, {format_bytes(fit.kv_cache_pool_bytes)} available",
        )
    return msgspec.structs.replace(
        fit,
        fits=max_batch >= 1,
        max_batch=max_batch,
        binding_constraint=binding,
        reasons=reasons,
        kv_cache_bytes_per_sequence=per_sequence,
    )
