"""A TTFT's expected range comes from its engine kind's back-test band when there is one."""

from __future__ import annotations

from service.domain.confidence import Band, ErrorBands, Quantity, assess


def band(low: float, high: float, basis: str) -> Band:
    return Band(low=low, high=high, coverage=0.8, basis=basis)


TABLE = {
    "prefill time": band(0.8, 3.7, "shared"),
    "prefill time (sglang)": band(1.0, 4.1, "sglang"),
    "prefill time (trtllm)": band(0.9, 1.6, "trtllm"),
    "decode time per token": band(0.8, 1.4, "shared decode"),
    "decode time per token (sglang)": band(0.5, 2.0, "sglang decode"),
}
BANDS = ErrorBands(calibrated=TABLE, extrapolated=TABLE)


def test_a_ttft_takes_its_engine_kinds_band_when_the_table_has_one() -> None:
    """A 100 ms TTFT on TensorRT-LLM gets the trtllm band: 90-160 ms."""
    ttft = assess(100.0, Quantity.TTFT, calibrated=True, bands=BANDS, engine_kind="trtllm")
    assert (ttft.low, ttft.high, ttft.basis) == (90.0, 160.0, "trtllm")


def test_a_ttft_on_an_engine_kind_without_a_band_takes_the_shared_one() -> None:
    """No vllm-v1 group in the table: the shared prefill band, 80-370 ms."""
    ttft = assess(100.0, Quantity.TTFT, calibrated=True, bands=BANDS, engine_kind="vllm-v1")
    assert (ttft.low, ttft.high, ttft.basis) == (80.0, 370.0, "shared")


def test_a_tpot_keeps_the_shared_band_whatever_the_engine() -> None:
    """Only TTFT is banded by engine: a TPOT on SGLang gets the shared decode band."""
    tpot = assess(10.0, Quantity.TPOT, calibrated=False, bands=BANDS, engine_kind="sglang")
    assert tpot.basis == "shared decode"
    assert (tpot.low, tpot.high) == (8.0, 14.0)
