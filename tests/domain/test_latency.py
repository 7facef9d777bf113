"""Roofline latency: TTFT, TPOT, end to end, what bounds each phase, TP all-reduces."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.gpu import TYPICAL_MATMUL_EFFICIENCY
from service.domain.latency import (
    Bound,
    Efficiency,
    LatencyEstimate,
    PhaseTerms,
    Serving,
    estimate_latency,
    experts_touched,
    phase_time,
    roofline_seconds,
    weight_bytes_read,
)
from service.domain.parallel import all_reduce_seconds, valid_tensor_parallel_degrees
from service.domain.precision import Precision
from tests.domain.reference import A10, H100, IDEAL, arch, params


def ideal_latency(
    model: str, serving: Serving, batch: int, prompt: int, output: int
) -> LatencyEstimate:
    return estimate_latency(
        arch(model),
        params(model),
        serving,
        batch_size=batch,
        input_tokens=prompt,
        output_tokens=output,
        efficiency=IDEAL,
    )


# --- TTFT --------------------------------------------------------------------------------------


def test_llama2_7b_ttft_on_a10() -> None:
    """Llama-2-7B, 350-token prompt, A10 125 TF, MFU 1: 37.3 ms of compute (sheet §3.5;
    Baseten's rounder 2·7B·350/125 TF = 39 ms), above the memory time: the 22.46 ms weight
    read plus the 350·524,288 B of KV it writes, (13,476,831,232 + 183,500,800) B / 600 GB/s
    = 22.77 ms. Compute-bound."""
    serving = Serving(gpu=A10, weight_precision=Precision.FP16, kv_precision=Precision.FP16)
    prefill = ideal_latency("llama2-7b", serving, 1, 350, 1).prefill
    assert prefill.compute_ms == pytest.approx(37.3, abs=0.05)
    assert prefill.memory_ms == pytest.approx(22.77, abs=0.005)
    assert prefill.bound is Bound.COMPUTE


def test_llama3_8b_ttft_4096_tokens_on_h100() -> None:
    """65.9 TFLOP / 989 TF = 66.6 ms, compute-bound; no communication on one GPU."""
    latency = ideal_latency("llama3-8b", Serving(gpu=H100), 1, 4096, 1)
    assert latency.ttft_ms == pytest.approx(66.6, abs=0.05)
    assert latency.prefill.bound is Bound.COMPUTE
    assert latency.prefill.communication_ms == 0


def test_pipeline_parallelism_does_not_speed_up_one_prompt() -> None:
    """A pipeline runs one request's stages one after another: the prefill compute time of
    Llama-3-8B is the same 66.6 ms with 2 or 4 stages (sheet §2.7: "A single request's
    latency is not reduced"), and not 2 or 4 times longer either."""
    for stages in (2, 4):
        staged = ideal_latency("llama3-8b", Serving(gpu=H100, pipeline_parallel=stages), 1, 4096, 1)
        assert staged.prefill.compute_ms == pytest.approx(66.6, abs=0.05)


# --- TPOT --------------------------------------------------------------------------------------


def test_llama3_8b_tpot_batch_1_at_1024_tokens() -> None:
    """16,060,522,496 B weights + 1024·131,072 B KV = 16,194,740,224 B per step; at
    3.35 TB/s that is 4.834 ms (sheet §3.4)."""
    decode = ideal_latency("llama3-8b", Serving(gpu=H100), 1, 1024, 1).decode
    assert decode.memory_ms == pytest.approx(16_194_740_224 / 3.35e12 * 1e3, rel=1e-9)
    assert decode.ms == pytest.approx(4.834, abs=0.0005)
    assert decode.bound is Bound.MEMORY_BANDWIDTH


def test_llama3_8b_tpot_at_80_percent_bandwidth_utilisation() -> None:
    """The same step at MBU 0.8: 4.834 / 0.8 = 6.043 ms (sheet §3.4)."""
    efficiency = msgspec.structs.replace(IDEAL, decode_mbu=0.8)
    latency = estimate_latency(
        arch("llama3-8b"),
        params("llama3-8b"),
        Serving(gpu=H100),
        batch_size=1,
        input_tokens=1024,
        output_tokens=1,
        efficiency=efficiency,
    )
    assert latency.tpot_ms == pytest.approx(6.043, abs=0.0005)


@pytest.mark.parametrize(
    ("batch", "context", "bytes_read", "tpot_ms"),
    [(32, 2048, 24_650_457_088, 7.358), (64, 4096, 50_420_260_864, 15.051)],
    ids=["b32-t2048", "b64-t4096"],
)
def test_llama3_8b_batch_sweep_is_bandwidth_bound(
    batch: int, context: int, bytes_read: int, tpot_ms: float
) -> None:
    """Weights once plus every sequence's KV: B·T·131,072 B on top of 16.06 GB (sheet §3.4);
    the step within 0.05 % of the sheet's sharp roofline (the rounded knee, 1 TFLOP of matmuls
    beside a 4.8 ms weight read, adds 0.02 %)."""
    decode = ideal_latency("llama3-8b", Serving(gpu=H100), batch, context, 1).decode
    assert decode.memory_ms == pytest.approx(bytes_read / 3.35e12 * 1e3, rel=1e-9)
    assert decode.ms == pytest.approx(tpot_ms, rel=5e-4)


@pytest.mark.parametrize(
    ("memory_s", "compute_s", "expected_s"),
    [
        (1.0, 0.0, 1.0),
        (0.0, 2.0, 2.0),
        (1.0, 1.0, 2**0.25),
        (3.0, 4.0, (3.0**4 + 4.0**4) ** 0.25),
        (0.0, 0.0, 0.0),
    ],
    ids=["memory-only", "compute-only", "at-the-knee", "near-the-knee", "nothing"],
)
def test_roofline_rounds_its_knee(memory_s: float, compute_s: float, expected_s: float) -> None:
    """A kernel's time is (m⁴ + c⁴)^(1/4): the larger term far from the knee, 19 % more at it."""
    assert roofline_seconds(memory_s, compute_s) == pytest.approx(expected_s, rel=1e-12)


@given(
    st.floats(min_value=0.0, max_value=1e3),
    st.floats(min_value=0.0, max_value=1e3),
)
def test_roofline_is_symmetric_and_between_max_and_its_knee(
    memory_s: float, compute_s: float
) -> None:
    """Never faster than the slower roof, never more than 2^(1/4) of it, either order."""
    larger = max(memory_s, compute_s)
    found = roofline_seconds(memory_s, compute_s)
    assert found == roofline_seconds(compute_s, memory_s)
    assert larger <= found <= larger * 2**0.25 * (1 + 1e-12)


def test_llama2_7b_tpot_on_a10() -> None:
    """13,476,831,232 B of fp16 weights / 600 GB/s = 22.46 ms (sheet §3.4; Baseten 23 ms)."""
    serving = Serving(gpu=A10, weight_precision=Precision.FP16, kv_precision=Precision.FP16)
    assert ideal_latency("llama2-7b", serving, 1, 1, 1).tpot_ms == pytest.approx(22.46, abs=0.005)


def test_llama3_70b_tp4_tpot() -> None:
    """141.1 GB / 4 GPUs / 3.35 TB/s = 10.53 ms of weight reads per step (sheet §3.4)."""
    decode = ideal_latency("llama3-70b", Serving(gpu=H100, tensor_parallel=4), 1, 1, 1).decode
    assert decode.memory_ms == pytest.approx(10.53, abs=0.005)


def test_decode_at_batch_1_is_memory_bound_and_long_prefill_compute_bound() -> None:
    """Batch-1 decode reads every weight for 2 FLOPs each: bandwidth-bound; a 4096-token
    prefill reuses each weight 4096 times: compute-bound (sheet §2.6)."""
    latency = ideal_latency("llama3-8b", Serving(gpu=H100), 1, 4096, 64)
    assert latency.decode.bound is Bound.MEMORY_BANDWIDTH
    assert latency.prefill.bound is Bound.COMPUTE


def test_int4_weights_read_fewer_bytes_but_compute_at_16_bit_peak() -> None:
    """W4A16: a decode step reads the 5.73 GB int4 checkpoint; prefill runs at the bf16
    peak (989 TF), so TTFT is unchanged from bf16."""
    int4 = Serving(gpu=H100, weight_precision=Precision.INT4)
    quantised = ideal_latency("llama3-8b", int4, 1, 4096, 1)
    assert quantised.prefill.compute_ms == pytest.approx(66.6, abs=0.05)
    assert weight_bytes_read(arch("llama3-8b"), params("llama3-8b"), int4, 1) / 1e9 == (
        pytest.approx(5.73, abs=0.005)
    )


def test_fp8_weights_compute_at_the_fp8_peak() -> None:
    """W8A8 fp8 with an fp8 KV cache: the whole prefill at 1979 TF, half of bf16's 66.6 ms."""
    fp8 = Serving(gpu=H100, weight_precision=Precision.FP8, kv_precision=Precision.FP8)
    assert ideal_latency("llama3-8b", fp8, 1, 4096, 1).prefill.compute_ms == pytest.approx(
        33.3, abs=0.05
    )


@pytest.mark.parametrize(
    ("achievable_tflops", "compute_ms"),
    [(989.0, 66.6), (794.5, 66.6 * 989 / 794.5), (None, 66.6 / TYPICAL_MATMUL_EFFICIENCY)],
    ids=["at-the-datasheet-peak", "measured-80-percent", "unmeasured-typical-share"],
)
def test_compute_runs_at_the_chips_measured_matmul_rate(
    achievable_tflops: float | None, compute_ms: float
) -> None:
    """Prefill compute is priced at the chip's measured matmul rate, not its datasheet peak;
    the memory time is untouched (Llama-3-8B, 4096 tokens, bf16 on an H100: 66.6 ms at 989 TF)."""
    gpu = msgspec.structs.replace(H100, achievable_tflops_bf16=achievable_tflops)
    at_peak = ideal_latency("llama3-8b", Serving(gpu=H100), 1, 4096, 1).prefill
    prefill = ideal_latency("llama3-8b", Serving(gpu=gpu), 1, 4096, 1).prefill
    assert prefill.compute_ms == pytest.approx(compute_ms, abs=0.1)
    assert prefill.memory_ms == pytest.approx(at_peak.memory_ms)


@pytest.mark.parametrize(
    ("weights", "kv", "compute_ms"),
    [
        # 61.48 TFLOP of matmuls at 1979 TF + 2·32·4096²·4096 = 4.40 TFLOP of attention at 989.
        (Precision.FP8, Precision.BF16, 31.07 + 4.45),
        # NVFP4 on an H100 dequantises to 16 bit; its fp8 KV cache still runs FP8 attention.
        (Precision.NVFP4, Precision.FP8, 62.16 + 2.22),
    ],
    ids=["fp8-weights-bf16-kv", "nvfp4-weights-fp8-kv"],
)
def test_attention_runs_at_the_kv_caches_precision(
    weights: Precision, kv: Precision, compute_ms: float
) -> None:
    """Q·Kᵀ and P·V run at the KV cache's rate (FP8 or 16 bit), not the weights' matmul rate."""
    serving = Serving(gpu=H100, weight_precision=weights, kv_precision=kv)
    prefill = ideal_latency("llama3-8b", serving, 1, 4096, 1).prefill
    assert prefill.compute_ms == pytest.approx(compute_ms, abs=0.05)


def test_weight_matmuls_and_attention_are_priced_separately_and_added() -> None:
    """Each kernel class runs at its own roofline: roof(weights, matmul FLOPs) +
    max(KV bytes, attention FLOPs) + all-reduces (with their latency) + overhead."""
    terms = PhaseTerms(
        weight_read_s=0.004,
        matmul_s=0.008,
        kv_s=0.010,
        attention_s=0.001,
        communication_s=0.002,
        all_reduces=10,
    )
    efficiency = Efficiency(all_reduce_latency_us=100.0, step_overhead_ms=0.5)
    phase = phase_time(terms, efficiency, mfu=0.5, mbu=1.0)
    # matmuls: roof(4, 8/0.5 = 16) ms; attention: max(10, 1/0.5 = 2) ms;
    # communication: 2 + 10·0.1 = 3 ms; overhead 0.5 ms.
    assert phase.ms == pytest.approx(roofline_seconds(4, 16) + 10 + 3 + 0.5)
    assert phase.compute_ms == pytest.approx((8 + 1) / 0.5)
    assert phase.memory_ms == pytest.approx(4 + 10)
    assert phase.communication_ms == pytest.approx(3)
    assert phase.bound is Bound.COMPUTE


def test_moe_routing_traffic_adds_to_attention_not_hidden_under_it() -> None:
    """MoE routing bytes are kernels of their own: + routing/(BW·MBU), even when attention
    is compute-bound."""
    terms = PhaseTerms(
        weight_read_s=0.004,
        matmul_s=0.001,
        kv_s=0.001,
        attention_s=0.006,
        communication_s=0.0,
        all_reduces=0,
        routing_s=0.003,
    )
    phase = phase_time(terms, Efficiency(), mfu=0.5, mbu=0.75)
    # matmuls: roof(4/0.75, 1/0.5) ms; attention: max(1/0.75, 6/0.5 = 12) ms; routing 3/0.75 ms.
    assert phase.ms == pytest.approx(roofline_seconds(4 / 0.75, 1 / 0.5) + 12 + 3 / 0.75)
    assert phase.memory_ms == pytest.approx((4 + 1 + 3) / 0.75)


# --- end to end --------------------------------------------------------------------------------


def test_end_to_end_counts_the_first_token_once() -> None:
    """E2E = TTFT + TPOT·(N − 1): the prefill pass emits the first token (sheet §5.14)."""
    latency = ideal_latency("llama3-8b", Serving(gpu=H100), 4, 512, 128)
    assert latency.e2e_ms == pytest.approx(latency.ttft_ms + 127 * latency.tpot_ms, rel=1e-12)
    assert latency.output_tokens_per_s == pytest.approx(4 * 128 / (latency.e2e_ms / 1e3))


def test_step_overhead_is_added_to_each_phase() -> None:
    """A fixed 2 ms per forward pass lengthens TTFT and TPOT by 2 ms each."""
    base = ideal_latency("llama3-8b", Serving(gpu=H100), 1, 512, 2)
    slower = estimate_latency(
        arch("llama3-8b"),
        params("llama3-8b"),
        Serving(gpu=H100),
        batch_size=1,
        input_tokens=512,
        output_tokens=2,
        efficiency=msgspec.structs.replace(IDEAL, step_overhead_ms=2.0),
    )
    assert slower.ttft_ms - base.ttft_ms == pytest.approx(2.0)
    assert slower.tpot_ms - base.tpot_ms == pytest.approx(2.0)


def test_default_efficiency_is_slower_than_the_roofline() -> None:
    """The default MFU/MBU (< 1) and all-reduce latency never beat the ideal bound."""
    serving = Serving(gpu=H100, tensor_parallel=2)
    ideal = ideal_latency("llama3-8b", serving, 8, 1024, 64)
    default = estimate_latency(
        arch("llama3-8b"),
        params("llama3-8b"),
        serving,
        batch_size=8,
        input_tokens=1024,
        output_tokens=64,
    )
    assert default.ttft_ms > ideal.ttft_ms
    assert default.tpot_ms > ideal.tpot_ms
    assert Efficiency().decode_mbu < 1


# --- MoE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("experts", "per_token", "tokens", "touched", "tolerance"),
    [
        (8, 2, 1, 2.0, 1e-12),
        (8, 2, 4, 5.47, 0.005),
        (8, 2, 16, 7.9, 0.05),
        (256, 8, 1, 8.0, 1e-9),
        (256, 8, 32, 163.3, 0.05),
        (256, 8, 128, 252, 0.5),
    ],
    ids=[
        "mixtral-b1",
        "mixtral-b4",
        "mixtral-b16",
        "deepseek-v3-b1",
        "deepseek-v3-b32",
        "deepseek-v3-b128",
    ],
)
def test_experts_touched_by_a_batch(
    experts: int, per_token: int, tokens: int, touched: float, tolerance: float
) -> None:
    """E·(1 − (1 − k/E)^B) distinct experts per layer under uniform routing (sheet §2.6:
    Mixtral 2.0 / 5.5 / 7.9 at B = 1 / 4 / 16; DeepSeek-V3 8 / 163 / 252 at 1 / 32 / 128)."""
    assert experts_touched(experts, per_token, tokens) == pytest.approx(touched, abs=tolerance)


def test_mixtral_batch_1_reads_only_its_active_experts() -> None:
    """Mixtral bf16 at batch 1 reads 25.76 GB: all but 6 of 8 experts in every layer
    (93.41 GB − 0.75·90.19 GB of expert weights; sheet §3.4)."""
    read = weight_bytes_read(arch("mixtral-8x7b"), params("mixtral-8x7b"), Serving(gpu=H100), 1)
    assert read / 1e9 == pytest.approx(25.76, abs=0.005)


def test_mixtral_large_batch_reads_nearly_every_expert() -> None:
    """At batch 64 (1 − 0.75^64 ≈ 1) a step reads all 93.41 GB (sheet §5.5)."""
    read = weight_bytes_read(arch("mixtral-8x7b"), params("mixtral-8x7b"), Serving(gpu=H100), 64)
    assert read / 1e9 == pytest.approx(93.41, abs=0.01)


# --- tensor parallel communication -------------------------------------------------------------


def test_ring_all_reduce_time() -> None:
    """α + 2(n−1)/n · S/B: 64 MiB over 4 ranks at 450 GB/s = 223.7 µs (sheet §3.6: 224 µs)."""
    seconds = all_reduce_seconds(64 * 2**20, 4, 450e9, 0.0)
    assert seconds == pytest.approx(2 * 3 / 4 * 64 * 2**20 / 450e9, rel=1e-12)
    assert seconds * 1e6 == pytest.approx(224, abs=0.5)


def test_all_reduce_latency_term_is_added() -> None:
    """The per-message latency α adds to the bandwidth term."""
    assert all_reduce_seconds(0, 8, 450e9, 8e-6) == pytest.approx(8e-6)


def test_collective_bytes_move_at_the_links_share() -> None:
    """Communication = bytes/(η·B) + α per message: 2 ms of bytes at η = 0.25 is 8 ms, plus
    10 messages at 20 µs."""
    terms = PhaseTerms(
        weight_read_s=0.0,
        matmul_s=0.0,
        kv_s=0.0,
        attention_s=0.0,
        communication_s=0.002,
        all_reduces=10,
    )
    efficiency = Efficiency(all_reduce_latency_us=20.0, link_efficiency=0.25)
    phase = phase_time(terms, efficiency, mfu=1.0, mbu=1.0)
    assert phase.communication_ms == pytest.approx(8 + 10 * 0.02)
    assert phase.bound is Bound.COMMUNICATION


def test_one_rank_has_no_all_reduce() -> None:
    """A single GPU communicates nothing, whatever the message."""
    assert all_reduce_seconds(64 * 2**20, 1, 450e9, 8e-6) == 0.0


def test_llama3_70b_tp4_prefill_communication() -> None:
    """2·80 all-reduces of 4096·8192·2 B = 64 MiB each, 224 µs apiece: 35.8 ms (sheet §3.6)."""
    prefill = ideal_latency("llama3-70b", Serving(gpu=H100, tensor_parallel=4), 1, 4096, 1).prefill
    assert prefill.communication_ms == pytest.approx(35.8, abs=0.05)


def test_slow_links_make_tp_communication_bound() -> None:
    """Over PCIe (32 GB/s) the same prefill spends 503 ms in all-reduces (sheet §3.6), more
    than its 149.5 ms of compute: communication-bound."""
    pcie = msgspec.structs.replace(H100, interconnect_bandwidth_bytes_per_s=32e9)
    prefill = ideal_latency("llama3-70b", Serving(gpu=pcie, tensor_parallel=4), 1, 4096, 1).prefill
    assert prefill.communication_ms == pytest.approx(503, abs=1)
    assert prefill.compute_ms == pytest.approx(149.5, abs=0.1)
    assert prefill.bound is Bound.COMMUNICATION


@pytest.mark.parametrize(
    ("model", "max_degree", "degrees"),
    [
        ("llama3-8b", 8, [1, 2, 4, 8]),  # 32 heads
        ("qwen2-7b", 8, [1, 2, 4]),  # 28 heads
        ("gpt2", 16, [1, 2, 4]),  # 12 heads
        ("llama3-70b", 4, [1, 2, 4]),  # capped by the node
    ],
    ids=["32-heads", "28-heads", "12-heads", "node-of-4"],
)
def test_tensor_parallel_degrees_divide_the_heads(
    model: str, max_degree: int, degrees: list[int]
) -> None:
    """Powers of two up to the limit that divide the attention heads (vLLM's rule)."""
    assert valid_tensor_parallel_degrees(arch(model), max_degree) == degrees
