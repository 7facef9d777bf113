"""The back-test keeps a TTFT band per engine kind that has enough serving sweeps."""

from __future__ import annotations

from service.validation.cases import Case, Metric
from service.validation.evaluate import ENGINE_BAND_MIN_ROWS, error_bands
from service.validation.memory_check import KvCheck


def case(metric: Metric, number: int, measured: float, engine_kind: str = "") -> Case:
    """A case measured at ``measured`` (its held-out prediction is 1.0 below)."""
    return Case(
        id=f"{metric}:{engine_kind}:{number}",
        dataset="latency.json",
        engine="an engine",
        model="a model",
        gpu="a gpu",
        tensor_parallel=1,
        precision="bf16",
        metric=metric,
        measured=measured,
        batch=1,
        input_tokens=1,
        output_tokens=1,
        engine_kind=engine_kind,
    )


def sweeps(engine_kind: str, rows: int, ratio: float) -> list[Case]:
    return [case(Metric.TTFT_AT_CONCURRENCY, i, ratio, engine_kind) for i in range(rows)]


CASES = [
    case(Metric.DECODE_STEP, 0, 1.0),
    case(Metric.SATURATED_THROUGHPUT, 0, 1.0),
    *sweeps("sglang", ENGINE_BAND_MIN_ROWS, 3.0),
    *sweeps("trtllm", ENGINE_BAND_MIN_ROWS + 2, 1.2),
    *sweeps("vllm-v1", ENGINE_BAND_MIN_ROWS - 1, 2.0),
]
PREDICTED = {c.id: 1.0 for c in CASES}
KV = [
    KvCheck(
        id="a log",
        model="a model",
        gpu="a gpu",
        tensor_parallel=1,
        max_model_len=4096,
        engine="vllm",
        predicted_tokens=1000,
        measured_tokens=1000.0,
        measured_from="a log line",
        predicted_kv_gib=1.0,
        error_pct=0.0,
    )
]


def test_each_engine_kind_with_enough_ttft_rows_gets_a_band_from_its_own_rows() -> None:
    """8 SGLang rows 3x slower and 10 TensorRT-LLM rows 1.2x: bands up to 3 and 1.2."""
    table = error_bands(CASES, KV, PREDICTED, PREDICTED).calibrated
    assert table["prefill time (sglang)"].high == 3.0
    assert table["prefill time (trtllm)"].high == 1.2
    assert table["prefill time (trtllm)"].basis == (
        "10 leave-one-model-out back-test TTFT predictions on trtllm"
    )


def test_an_engine_kind_with_too_few_ttft_rows_gets_no_band() -> None:
    """7 vLLM rows are fewer than ENGINE_BAND_MIN_ROWS: no vllm-v1 group, in either table."""
    bands = error_bands(CASES, KV, PREDICTED, PREDICTED)
    assert "prefill time (vllm-v1)" not in bands.calibrated
    assert "prefill time (vllm-v1)" not in bands.extrapolated
    assert "prefill time" in bands.calibrated
