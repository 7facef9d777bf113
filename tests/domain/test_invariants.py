"""Invariants over random configs: what must hold for every model, GPU and context."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.catalog_files import load_engine_profiles
from service.domain.architecture import Architecture
from service.domain.capacity import BindingConstraint, Deployment, capacity, sequence_kv_bytes
from service.domain.engine import EngineProfile
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import kv_cache_bytes, kv_cache_bytes_per_token
from service.domain.latency import Serving, estimate_latency, experts_touched
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from service.domain.weights import weight_memory
from tests.domain.reference import H100, IDEAL, ZERO_OVERHEAD

VLLM_V0 = load_engine_profiles().get("vllm-0.6.4")

SETTINGS = settings(max_examples=75, deadline=None)


@st.composite
def model_configs(
    draw: st.DrawFn,
    *,
    moe: bool | None = None,
    sliding: bool | None = None,
    min_heads: int = 1,
) -> dict[str, Any]:
    """Random llama-like configs (GQA, explicit head_dim, optional MoE and sliding window)."""
    heads = draw(st.sampled_from([h for h in (1, 2, 4, 8, 16, 32, 64) if h >= min_heads]))
    kv_heads = draw(st.sampled_from([d for d in range(1, heads + 1) if heads % d == 0]))
    head_dim = draw(st.sampled_from([32, 64, 80, 128, 256]))
    config: dict[str, Any] = {
        "model_type": "llama",
        "num_hidden_layers": draw(st.integers(1, 48)),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_size": draw(st.integers(1, 128)) * 64,
        "intermediate_size": draw(st.integers(1, 30_000)),
        "vocab_size": draw(st.integers(1_000, 260_000)),
        "tie_word_embeddings": draw(st.booleans()),
        "max_position_embeddings": draw(st.sampled_from([2048, 8192, 32768, 131072])),
    }
    if moe if moe is not None else draw(st.booleans()):
        experts = draw(st.integers(2, 64))
        config.update(
            model_type="mixtral",
            num_local_experts=experts,
            num_experts_per_tok=draw(st.integers(1, experts)),
        )
    if sliding if sliding is not None else draw(st.booleans()):
        config["sliding_window"] = draw(st.integers(16, 16_384))
        if draw(st.booleans()):
            config["sliding_window_pattern"] = draw(st.integers(2, 6))
    return config


def architectures(**kwargs: Any) -> st.SearchStrategy[Architecture]:
    return model_configs(**kwargs).map(architecture_from_config)


profiles = st.sampled_from([ZERO_OVERHEAD, VLLM_V0])


def dividing_tp(data: st.DataObject, model: Architecture, *, factor: int = 1) -> int:
    """A power-of-two TP degree t with factor·t dividing the model's attention heads."""
    heads = model.num_attention_heads
    degrees = [t for t in (1, 2, 4, 8, 16, 32) if heads % (factor * t) == 0]
    return data.draw(st.sampled_from(degrees), label="tensor_parallel")


# --- parameters ----------------------------------------------------------------------------------


@SETTINGS
@given(config=model_configs())
def test_parameters_are_positive_and_active_at_most_total(config: dict[str, Any]) -> None:
    """Every config counts a positive total; 0 < active <= total; dense: active == total."""
    model = architecture_from_config(config)
    counted = count_parameters(model)
    assert counted.total > 0
    assert 0 < counted.active <= counted.total
    if model.moe is None:
        assert counted.active == counted.total


@SETTINGS
@given(config=model_configs(moe=True))
def test_more_experts_per_token_activate_more_parameters(config: dict[str, Any]) -> None:
    """Routing one more expert per token activates exactly one more expert per MoE layer."""
    experts, per_token = config["num_local_experts"], config["num_experts_per_tok"]
    assume(per_token < experts)
    fewer = count_parameters(architecture_from_config(config))
    more = count_parameters(
        architecture_from_config({**config, "num_experts_per_tok": per_token + 1})
    )
    per_expert = 3 * config["hidden_size"] * config["intermediate_size"]
    assert more.total == fewer.total
    assert more.active - fewer.active == config["num_hidden_layers"] * per_expert


# --- KV cache ------------------------------------------------------------------------------------


@SETTINGS
@given(
    model=architectures(),
    shorter=st.integers(0, 200_000),
    extra=st.integers(0, 200_000),
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2, 3]),
)
def test_kv_bytes_never_shrink_as_the_context_grows(
    model: Architecture, shorter: int, extra: int, tp: int, pp: int
) -> None:
    """A longer context never occupies fewer KV bytes, on any TP or PP rank."""
    kv = {"tensor_parallel": tp, "pipeline_parallel": min(pp, model.num_layers)}
    assert kv_cache_bytes(model, Precision.BF16, shorter, **kv) <= kv_cache_bytes(
        model, Precision.BF16, shorter + extra, **kv
    )


@SETTINGS
@given(model=architectures(sliding=False), tokens=st.integers(0, 200_000))
def test_full_attention_kv_is_linear_in_context(model: Architecture, tokens: int) -> None:
    """Without windows, T tokens hold exactly T · bytes_per_token."""
    per_token = kv_cache_bytes_per_token(model, Precision.BF16)
    assert kv_cache_bytes(model, Precision.BF16, tokens) == tokens * per_token


@SETTINGS
@given(model=architectures(), tokens=st.integers(0, 200_000))
def test_windows_only_ever_save_kv(model: Architecture, tokens: int) -> None:
    """A sliding window never makes a sequence cost more than full attention would."""
    full = tokens * kv_cache_bytes_per_token(model, Precision.BF16)
    assert kv_cache_bytes(model, Precision.BF16, tokens) <= full


@SETTINGS
@given(
    model=architectures(moe=False),
    batch=st.integers(1, 256),
    context=st.integers(1, 32_768),
)
def test_decode_kv_traffic_is_linear_in_batch(
    model: Architecture, batch: int, context: int
) -> None:
    """A dense decode step reads the weights once and each sequence's KV: its memory time
    grows by one sequence's KV / bandwidth per added sequence."""
    counted = count_parameters(model)

    def memory_ms(b: int) -> float:
        latency = estimate_latency(
            model,
            counted,
            Serving(gpu=H100),
            batch_size=b,
            input_tokens=context,
            output_tokens=1,
            efficiency=IDEAL,
        )
        return latency.decode.memory_ms

    bandwidth = H100.memory_bandwidth_bytes_per_s
    one_sequence_ms = kv_cache_bytes(model, Precision.BF16, context) / bandwidth * 1e3
    assert memory_ms(batch) - memory_ms(1) == pytest.approx(
        (batch - 1) * one_sequence_ms, rel=1e-9, abs=1e-12
    )


# --- capacity ------------------------------------------------------------------------------------

gpu_memory = st.integers(4, 200).map(lambda gib: gib * 2**30)
contexts = st.integers(1, 32_768)


def fit(
    model: Architecture,
    memory: int,
    context: int,
    profile: EngineProfile,
    *,
    tp: int = 1,
    pp: int = 1,
    kv: Precision = Precision.BF16,
) -> Any:
    weights = weight_memory(model, count_parameters(model), Precision.BF16, tp, pp)
    deployment = Deployment(
        gpu_memory_bytes=memory, tensor_parallel=tp, pipeline_parallel=pp, kv_precision=kv
    )
    return capacity(model, weights.per_gpu_bytes, deployment, profile, context,
                    with_max_context=False)  # fmt: skip


@SETTINGS
@given(model=architectures(min_heads=2), memory=gpu_memory, context=contexts, data=st.data())
def test_more_tensor_parallel_gpus_never_stop_a_fit(
    model: Architecture, memory: int, context: int, data: st.DataObject
) -> None:
    """Doubling TP (when it divides the heads) never lowers the batch that fits: weights
    and KV per GPU only shrink (with the sheet's zero-overhead engine)."""
    tp = dividing_tp(data, model, factor=2)
    narrow = fit(model, memory, context, ZERO_OVERHEAD, tp=tp)
    wide = fit(model, memory, context, ZERO_OVERHEAD, tp=2 * tp)
    assert wide.max_batch >= narrow.max_batch
    assert wide.fits or not narrow.fits


@SETTINGS
@given(model=architectures(min_heads=4), memory=gpu_memory, context=contexts, data=st.data())
def test_more_tensor_parallel_never_stops_a_fit_beyond_tp2_with_engine_overheads(
    model: Architecture, memory: int, context: int, data: st.DataObject
) -> None:
    """With vLLM's overheads too, from TP2 on (NCCL already paid) a wider TP never fits
    less: activations shrink with TP as well."""
    tp = 2 * dividing_tp(data, model, factor=4)
    narrow = fit(model, memory, context, VLLM_V0, tp=tp)
    wide = fit(model, memory, context, VLLM_V0, tp=2 * tp)
    assert wide.max_batch >= narrow.max_batch


@SETTINGS
@given(model=architectures(), memory=gpu_memory, context=contexts, profile=profiles)
def test_fp8_kv_holds_twice_the_blocks_of_bf16(
    model: Architecture, memory: int, context: int, profile: EngineProfile
) -> None:
    """One-byte KV pages are half as large: the same budget pages twice the blocks (±1 for
    the floor) and at least as many sequences."""
    bf16 = fit(model, memory, context, profile)
    fp8 = fit(model, memory, context, profile, kv=Precision.FP8)
    assert abs(fp8.kv_cache_blocks - 2 * bf16.kv_cache_blocks) <= 1
    assert fp8.kv_cache_tokens >= 2 * bf16.kv_cache_tokens
    assert fp8.max_batch >= bf16.max_batch


@SETTINGS
@given(
    model=architectures(),
    memory=gpu_memory,
    context=contexts,
    profile=profiles,
    pp=st.sampled_from([1, 2, 4]),
    data=st.data(),
)
def test_max_batch_fits_the_kv_budget_and_one_more_does_not(
    model: Architecture,
    memory: int,
    context: int,
    profile: EngineProfile,
    pp: int,
    data: st.DataObject,
) -> None:
    """max_batch sequences of paged KV fit in the whole blocks the KV budget buys, which fit
    the budget; max_batch + 1 would not (unless the model's context limit zeroes it, or the
    engine's sequence cap binds first)."""
    tp = dividing_tp(data, model)
    pp = min(pp, model.num_layers)
    cap = fit(model, memory, context, profile, tp=tp, pp=pp)
    deployment = Deployment(gpu_memory_bytes=memory, tensor_parallel=tp, pipeline_parallel=pp)
    per_sequence = sequence_kv_bytes(model, deployment, profile, context, context)
    block_bytes = profile.block_size_tokens * kv_cache_bytes_per_token(
        model, Precision.BF16, tp, pp
    )
    paged = cap.kv_cache_blocks * block_bytes
    assert paged <= max(cap.memory.kv_cache, 0)
    assert cap.max_batch * per_sequence <= paged
    capped = cap.binding_constraint is BindingConstraint.MAX_NUM_SEQS
    if context <= model.max_context_tokens and not capped:
        assert (cap.max_batch + 1) * per_sequence > paged


# --- latency -------------------------------------------------------------------------------------


@SETTINGS
@given(
    model=architectures(),
    batch=st.integers(1, 512),
    more=st.integers(1, 512),
    context=st.integers(1, 16_384),
    output=st.integers(1, 4096),
    data=st.data(),
)
def test_decode_step_time_never_falls_as_the_batch_grows(
    model: Architecture, batch: int, more: int, context: int, output: int, data: st.DataObject
) -> None:
    """A bigger decode batch reads as much or more (weights, touched experts, KV), computes
    more and all-reduces more: its step time is never shorter."""
    tp = dividing_tp(data, model)
    counted = count_parameters(model)
    serving = Serving(gpu=H100, tensor_parallel=tp)

    def tpot(b: int) -> float:
        return estimate_latency(
            model, counted, serving, batch_size=b, input_tokens=context, output_tokens=output
        ).tpot_ms

    assert tpot(batch + more) >= tpot(batch)


@SETTINGS
@given(
    experts=st.integers(2, 256),
    data=st.data(),
    tokens=st.integers(1, 1024),
)
def test_experts_touched_is_bounded_and_grows_with_tokens(
    experts: int, data: st.DataObject, tokens: int
) -> None:
    """k <= touched(B) <= min(E, B·k), and one more token never touches fewer experts."""
    per_token = data.draw(st.integers(1, experts))
    touched = experts_touched(experts, per_token, tokens)
    assert per_token - 1e-9 <= touched <= min(experts, tokens * per_token) + 1e-9
    assert experts_touched(experts, per_token, tokens + 1) >= touched - 1e-9


@SETTINGS
@given(model=architectures(min_heads=2), data=st.data())
def test_weights_per_gpu_shrink_with_tp_but_never_below_an_even_split(
    model: Architecture, data: st.DataObject
) -> None:
    """Per-GPU weights fall as TP doubles, yet stay >= total / t (norms, routers and
    surplus KV heads are replicated)."""
    tp = dividing_tp(data, model, factor=2)
    counted = count_parameters(model)
    narrow = weight_memory(model, counted, Precision.BF16, tp)
    wide = weight_memory(model, counted, Precision.BF16, 2 * tp)
    assert wide.per_gpu_bytes <= narrow.per_gpu_bytes
    assert wide.per_gpu_bytes >= wide.total_bytes / (2 * tp) - 1
