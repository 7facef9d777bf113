"""A serving sweep is priced as its client ran it: lengths sent, server flags, first wave."""

from __future__ import annotations

from typing import Any

import pytest

from service.catalog_files import load_calibration
from service.domain.calibration import efficiency_for
from service.validation.cases import latency_case, predict
from service.validation.sweeps import sent_lengths, server_flags

ROW: dict[str, Any] = {
    "id": "spec:Llama 3.1 8B:H100:TP1:1024/1024:c32:ttft",
    "source": "a spec row",
    "engine": "SGLang 0.5.6",
    "engine_profile": "sglang-0.5.3",
    "model": "Llama 3.1 8B",
    "gpu": "H100",
    "tensor_parallel": 1,
    "precision": "BF16",
    "kind": "ttft_at_concurrency",
    "concurrency": 32,
    "isl": 1024,
    "osl": 1024,
    "value": 100.0,
}

LENGTHS = [
    ("nominal", {}, (1024, 1024)),
    ("range ratio 0.8", {"random_range_ratio": 0.8}, (922, 922)),
    ("range ratio 0", {"random_range_ratio": 0.0}, (512, 512)),
    (
        "printed totals",
        {"total_input_tokens": 6101, "total_output_tokens": 4220, "completed_requests": 10},
        (610, 422),
    ),
]


@pytest.mark.parametrize(
    ("extra", "lengths"), [c[1:] for c in LENGTHS], ids=[c[0] for c in LENGTHS]
)
def test_a_sweep_is_priced_at_the_mean_lengths_its_client_sent(
    extra: dict[str, Any], lengths: tuple[int, int]
) -> None:
    """Printed totals first, then (1 + r)/2 of the nominal lengths, else the nominal ones."""
    assert sent_lengths({**ROW, **extra}) == lengths


def test_an_unknown_server_flag_names_the_row_and_the_flag() -> None:
    """A flag capplan cannot apply is an error, never silently ignored."""
    with pytest.raises(ValueError, match=r"spec:.*'server'.*max_prefill_tokens"):
        server_flags({**ROW, "server": {"max_prefill_tokens": 16384}})


def test_a_stated_step_budget_sets_the_cases_chunk() -> None:
    """max_num_batched_tokens among the server flags is the step budget the case prices."""
    case = latency_case({**ROW, "server": {"max_num_batched_tokens": 32768}})
    assert case.chunk_tokens == 32768


def test_a_client_averaging_its_prompts_counts_the_first_waves_burst() -> None:
    """Stating num_prompts adds the first wave's burst to the mean: a longer TTFT, and the
    more so the fewer prompts follow the first wave."""
    efficiency = efficiency_for(load_calibration(), "h100-sxm", "sm9")
    steady = predict(latency_case(ROW), efficiency)
    many = predict(latency_case({**ROW, "num_prompts": 3200}), efficiency)
    few = predict(latency_case({**ROW, "num_prompts": 64}), efficiency)
    assert steady < many < few


def test_a_sweep_carries_the_kind_of_its_engine_profile() -> None:
    """The row's engine_profile decides the kind; a row naming none is TensorRT-LLM's (NIM)."""
    assert latency_case(ROW).engine_kind == "sglang"
    unnamed = {k: v for k, v in ROW.items() if k != "engine_profile"}
    assert latency_case(unnamed).engine_kind == "trtllm"


def test_a_stated_recv_interval_lengthens_a_loaded_sglang_sweeps_ttft() -> None:
    """server.scheduler_recv_interval reaches the case: 32 users wait for the scheduler's look."""
    efficiency = efficiency_for(load_calibration(), "h100-sxm", "sm9")
    every = predict(latency_case(ROW), efficiency)
    polled = predict(latency_case({**ROW, "server": {"scheduler_recv_interval": 30}}), efficiency)
    assert polled > every


def test_a_recv_interval_on_another_engine_names_the_row() -> None:
    """The flag is SGLang's: on a row of another engine it is an error naming the row."""
    row = {**ROW, "engine_profile": "vllm-0.10.1", "server": {"scheduler_recv_interval": 30}}
    with pytest.raises(ValueError, match=r"spec:.*'server'.*scheduler_recv_interval"):
        latency_case(row)
