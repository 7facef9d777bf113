"""Block Kit payloads: verdict first, fallback text, valid blocks, a link back to the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from service.contract.schemas import (
    ConstraintsIn,
    LatencyRequest,
    MaxBatchRequest,
    PlanRequest,
    SloIn,
    WorkloadIn,
)
from service.gate.offline import OfflineBackend
from service.slack import blocks

BASE_URL = "https://capplan.example.com"
LLAMA_8B = "meta-llama/Llama-3.1-8B"


@pytest.fixture(scope="module")
def backend(catalog_dir: Path) -> OfflineBackend:
    return OfflineBackend.from_directory(catalog_dir)


def assert_valid_message(payload: dict[str, Any], *, public: bool) -> None:
    """Slack's own block models accept every block, and a fallback text is present."""
    assert set(payload) == {"response_type", "text", "blocks"}
    assert payload["response_type"] == ("in_channel" if public else "ephemeral")
    assert payload["text"]
    for block in payload["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        assert parsed.to_dict() == block


def first_text(payload: dict[str, Any]) -> str:
    text: str = payload["blocks"][0]["text"]["text"]
    return text


def plan(backend: OfflineBackend, max_gpus: int, gpus: list[str] | None = None) -> dict[str, Any]:
    request = PlanRequest(
        model=LLAMA_8B,
        workload=WorkloadIn(input_tokens=30000, output_tokens=2000, concurrency=16),
        constraints=ConstraintsIn(gpus=gpus, max_gpus=max_gpus),
    )
    return blocks.plan_message("30k in / 2k out", backend.plan(request), BASE_URL)


def test_plan_leads_with_the_verdict_then_a_table(backend: OfflineBackend) -> None:
    """A plan that found setups: verdict, a code-block table of at most 5 rows, memory, link."""
    payload = plan(backend, max_gpus=8)
    assert_valid_message(payload, public=True)
    assert first_text(payload).startswith(":white_check_mark: *")
    table = payload["blocks"][1]["text"]["text"]
    assert table.startswith("```\nGPU")
    assert len(table.strip("`\n").splitlines()) == 1 + blocks.TABLE_ROWS
    assert payload["blocks"][2]["elements"][0]["text"].startswith("Memory per GPU of the best")
    assert [f["text"].split("\n")[0] for f in payload["blocks"][3]["fields"]][:2] == [
        "*Weights*",
        "*KV cache*",
    ]
    link = payload["blocks"][-1]["elements"][0]["text"]
    assert link.startswith(f"<{BASE_URL}/schema|capplan API>")
    assert "POST https://capplan.example.com/v1/plan" in link


def test_plan_without_a_setup_says_why(backend: OfflineBackend) -> None:
    """Nothing fits: the verdict is a cross and the reasons follow."""
    payload = plan(backend, max_gpus=1, gpus=["t4"])
    assert_valid_message(payload, public=True)
    assert first_text(payload).startswith(":x: *Nothing serves")
    assert payload["blocks"][1]["text"]["text"].startswith("• ")


@pytest.mark.parametrize(
    ("gpu", "mark"),
    [
        pytest.param("h100-sxm", ":white_check_mark:", id="fits"),
        pytest.param("t4", ":x:", id="not"),
    ],
)
def test_fit_message(backend: OfflineBackend, gpu: str, mark: str) -> None:
    """Fit: verdict with the concurrent sequences, memory fields, context, link."""
    request = MaxBatchRequest(model=LLAMA_8B, gpu=gpu, context_length=8192)
    payload = blocks.fit_message("8B at 8k", backend.max_batch(request), 16, BASE_URL)
    assert_valid_message(payload, public=True)
    assert first_text(payload).startswith(mark)
    kinds = ["section", "context", "section", "context", "context"]
    assert [b["type"] for b in payload["blocks"]] == kinds


@pytest.mark.parametrize(
    ("tpot_ms", "mark"),
    [pytest.param(1000.0, ":white_check_mark:", id="met"), pytest.param(0.1, ":x:", id="missed")],
)
def test_latency_message_judges_the_slo(backend: OfflineBackend, tpot_ms: float, mark: str) -> None:
    """With an SLO, the verdict says whether it is met."""
    request = LatencyRequest(
        model=LLAMA_8B, gpu="h100-sxm", batch_size=8, input_tokens=2048, output_tokens=512
    )
    slo = SloIn(tpot_ms=tpot_ms)
    payload = blocks.latency_message("8B", backend.latency(request), slo, BASE_URL)
    assert_valid_message(payload, public=True)
    assert first_text(payload).startswith(f"{mark} *TTFT")


@pytest.mark.parametrize(
    ("burst", "mark", "label"),
    [
        pytest.param(False, ":white_check_mark:", "TTFT", id="steady-met"),
        pytest.param(True, ":x:", "Burst TTFT", id="burst-missed"),
    ],
)
def test_latency_message_judges_burst_ttft_when_asked(
    backend: OfflineBackend, burst: bool, mark: str, label: str
) -> None:
    """A TTFT target between the steady and burst TTFTs is met unless the SLO asks for burst."""
    request = LatencyRequest(
        model=LLAMA_8B, gpu="h100-sxm", batch_size=8, input_tokens=2048, output_tokens=512
    )
    latency = backend.latency(request)
    assert latency.burst_ttft_ms > latency.ttft_ms
    slo = SloIn(ttft_ms=(latency.ttft_ms + latency.burst_ttft_ms) / 2, burst=burst)
    payload = blocks.latency_message("8B", latency, slo, BASE_URL)
    assert first_text(payload).startswith(f"{mark} *{label} ")


def test_help_is_ephemeral_and_uses_the_command_name() -> None:
    """Help is for the caller only and shows examples with their own command."""
    payload = blocks.help_message("/gpu", unknown="deploy")
    assert_valid_message(payload, public=False)
    assert first_text(payload).startswith("I don't know `deploy`")
    assert "`/gpu plan llama-3.1-70b on h100 x2 ctx 32k batch 16`" in payload["text"]


def test_ambiguous_name_asks_which() -> None:
    """Several candidates are listed back, ephemerally."""
    payload = blocks.choose_message("model", "llama", ("a/llama-1", "b/llama-2"), ambiguous=True)
    assert_valid_message(payload, public=False)
    assert (
        payload["text"] == "`llama` could be several models: `a/llama-1`, `b/llama-2`. Which one?"
    )


def test_unknown_name_offers_close_ones() -> None:
    """No match: the close names are offered as a question."""
    payload = blocks.choose_message("model", "lama-8b", ("a/llama-8b",), ambiguous=False)
    assert (
        payload["text"] == "No model in the catalog matches `lama-8b`. Did you mean `a/llama-8b`?"
    )


def test_plan_table_shows_replicas_and_cost_per_million_tokens(backend: OfflineBackend) -> None:
    """Each row carries its replicas and $/Mtok beside $/h, as the planner computed them."""
    response = backend.plan(
        PlanRequest(
            model=LLAMA_8B,
            workload=WorkloadIn(input_tokens=2048, output_tokens=512, concurrency=64),
            constraints=ConstraintsIn(max_gpus=8),
        )
    )
    rows = blocks.plan_message("asked", response, BASE_URL)["blocks"][1]["text"]["text"]
    lines = rows.strip("`\n").splitlines()
    assert lines[0].split()[4:5] + lines[0].split()[-2:] == ["rep", "$/h", "$/Mtok"]
    for line, setup in zip(lines[1:], response.configurations, strict=False):
        assert line.split()[4] == str(setup.replicas)
        per_mtok = setup.cost_per_million_output_tokens
        assert line.split()[-1] == ("-" if per_mtok is None else f"{per_mtok:,.2f}")


def test_plan_verdict_names_what_best_means(backend: OfflineBackend) -> None:
    """ "best" is said with its objective: cheapest per million output tokens by default."""
    assert "per million output tokens" in first_text(plan(backend, max_gpus=8))


def test_notes_go_right_under_the_verdict(backend: OfflineBackend) -> None:
    """Corrections are said out loud, between the verdict and the numbers."""
    payload = blocks.with_notes(plan(backend, max_gpus=8), ["`lama` → `x`"])
    assert payload["blocks"][1] == blocks.context("`lama` → `x`")


def test_plan_table_marks_expert_parallel_layouts(backend: OfflineBackend) -> None:
    """A Mixtral plan's rows say which layouts spread the experts (TP 8e) and run attention
    data parallel too (8ed)."""
    request = PlanRequest(
        model="mistralai/Mixtral-8x7B-v0.1",
        workload=WorkloadIn(input_tokens=1000, output_tokens=200, concurrency=64),
        constraints=ConstraintsIn(gpus=["h100-sxm"], max_gpus=8),
    )
    response = backend.plan(request)
    table = blocks.plan_message("Mixtral", response, BASE_URL)["blocks"][1]["text"]["text"]
    shown = response.configurations[: blocks.TABLE_ROWS]
    marks = [
        f"{c.tensor_parallel}{'e' if c.expert_parallel else ''}"
        f"{'d' if c.attention_data_parallel else ''}"
        for c in shown
    ]
    rows = table.strip("`\n").splitlines()[1:]
    assert any(mark.endswith(("e", "ed")) for mark in marks)
    assert [row.split()[2] for row in rows] == marks


def test_plan_says_when_it_recommends_disaggregated_serving(backend: OfflineBackend) -> None:
    """Pools that beat serving together: the verdict names them, and the best row shows their
    GPUs, instances (``2p+1d``) and $/Mtok, with a legend under the table."""
    response = backend.plan(
        PlanRequest(
            model=LLAMA_8B,
            workload=WorkloadIn(input_tokens=8000, output_tokens=1000, requests_per_s=20),
            slo=SloIn(tpot_ms=15),
            constraints=ConstraintsIn(
                gpus=["h100-sxm"], weight_dtypes=["bf16"], disaggregated=True, max_gpus=32
            ),
        )
    )
    best = response.configurations[0]
    pools = best.disaggregated
    assert best.serving == "disaggregated"
    assert pools is not None
    payload = blocks.plan_message("8k in / 1k out, 20/s", response, BASE_URL)
    assert_valid_message(payload, public=True)
    assert (
        f"best, {blocks.OBJECTIVES['cost']}: {pools.gpu_count}x h100-sxm disaggregated "
        f"({pools.prefill_instances} prefill + {pools.decode_instances} decode instances"
    ) in first_text(payload)
    row = payload["blocks"][1]["text"]["text"].strip("`\n").splitlines()[1].split()
    assert row[1] == str(pools.gpu_count)
    assert row[4] == f"{pools.prefill_instances}p+{pools.decode_instances}d"
    assert row[-1] == f"{pools.cost_per_million_output_tokens:,.2f}"
    assert payload["blocks"][2] == blocks.context(blocks.DISAGGREGATED_LEGEND)
