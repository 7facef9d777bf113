"""Expert parallelism and attention data parallelism: read from every engine's flags and from
manifests, priced as the API prices them, refused when capplan cannot model them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.contract.schemas import LatencyRequest
from service.gate.command_line import parse_command
from service.gate.inputs import Overrides, read_inputs
from service.gate.offline import OfflineBackend
from service.gate.target import InputError
from service.gate.vllm_args import manifest_fields
from tests.check.catalog import reference_config
from tests.check.conftest import Run

QWEN3_MOE = "Qwen/Qwen3-30B-A3B"
MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"
SERVE_QWEN3 = ["vllm", "serve", QWEN3_MOE, "--max-model-len", "8192"]
VLLM = ["vllm", "serve", "m"]
SGL = ["python", "-m", "sglang.launch_server", "--model-path", "org/m"]
TRT = ["trtllm-serve", "org/m"]
T, F = True, False


def layout(argv: list[str]) -> tuple[int, int, bool, bool]:
    """(tensor_parallel, gpu_count, expert_parallel, attention_data_parallel) as read."""
    fields = manifest_fields(parse_command(argv, base_dir=Path()), "h100-sxm", None)
    return (
        fields["tensor_parallel"],
        fields["gpu_count"],
        fields.get("expert_parallel", False),
        fields.get("attention_data_parallel", False),
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param([*VLLM, "-tp", "8"], (8, 8, F, F), id="vllm-tp"),
        pytest.param(
            [*VLLM, "-tp", "8", "--enable-expert-parallel"],
            (8, 8, T, F),
            id="vllm-ep-over-tp",
        ),
        pytest.param(
            [*VLLM, "-dp", "8", "--enable-expert-parallel"],
            (8, 8, T, T),
            id="vllm-ep-over-dp",
        ),
        pytest.param(
            [*VLLM, "-tp", "2", "-dp", "4", "--enable-expert-parallel"],
            (8, 8, T, T),
            id="vllm-ep-over-tp-x-dp",
        ),
        pytest.param([*VLLM, "-dp", "4"], (1, 4, F, F), id="vllm-dp-replicas"),
        pytest.param(
            [*VLLM, "-dp", "2", "--no-enable-expert-parallel"],
            (1, 2, F, F),
            id="vllm-ep-switched-off",
        ),
        pytest.param([*SGL, "--tp", "8", "--ep-size", "8"], (8, 8, T, F), id="sglang-ep"),
        pytest.param([*SGL, "--tp", "8", "--ep-size", "1"], (8, 8, F, F), id="sglang-ep-1"),
        pytest.param([*SGL, "--tp", "8", "--enable-ep-moe"], (8, 8, T, F), id="sglang-ep-moe"),
        pytest.param(
            [*SGL, "--tp", "8", "--dp", "8", "--enable-dp-attention", "--ep-size", "8"],
            (8, 8, T, T),
            id="sglang-dp-attention-inside-tp",
        ),
        pytest.param([*SGL, "--tp", "4", "--dp", "2"], (4, 8, F, F), id="sglang-dp-replicas"),
        pytest.param([*TRT, "--tp_size", "8", "--ep_size", "8"], (8, 8, T, F), id="trtllm-ep"),
        pytest.param([*TRT, "--tp_size", "8", "--ep_size", "1"], (8, 8, F, F), id="trtllm-ep-1"),
    ],
)  # fmt: skip
def test_engine_flags_become_the_api_layout(
    argv: list[str], expected: tuple[int, int, bool, bool]
) -> None:
    """Each engine's EP/DP flags read as (tensor_parallel, GPUs, EP, attention DP)."""
    assert layout(argv) == expected


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        pytest.param([*SGL, "--tp", "8", "--ep-size", "4"], "--ep-size", id="sglang-ep-4"),
        pytest.param([*TRT, "--tp_size", "8", "--ep_size", "2"], "--ep_size", id="trtllm-ep-2"),
        pytest.param(
            [*SGL, "--tp", "8", "--dp", "2", "--enable-dp-attention"],
            "--dp-size",
            id="sglang-attention-groups-of-4",
        ),
        pytest.param([*SGL, "--enable-dp-attention"], "--dp-size", id="sglang-dp-attention-alone"),
        pytest.param([*SGL, "--tp", "8", "--ep-size", "0"], "--ep-size", id="sglang-ep-0"),
    ],
)  # fmt: skip
def test_layouts_capplan_cannot_model_are_refused(argv: list[str], flag: str) -> None:
    """An EP size other than 1 or TP, or attention groups of more than one GPU, name the flag."""
    with pytest.raises(InputError) as caught:
        layout(argv)
    assert caught.value.field == flag


def weights_bytes(run: Run) -> int:
    assert run.code in (0, 1), run.out + run.err
    weights: int = json.loads(run.out)["memory"]["weights"]
    return weights


def test_vllm_dp_with_ep_holds_the_attention_whole_on_each_gpu(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """Qwen3-30B-A3B, EP over -dp 8 vs -tp 8: each GPU adds 7/8 of the attention weights."""
    check = [*backend_args, "--gpu", "h100-sxm", "--format", "json", "--"]
    tp8 = weights_bytes(run_check(*check, *SERVE_QWEN3, "-tp", "8"))
    ep8 = weights_bytes(run_check(*check, *SERVE_QWEN3, "-dp", "8", "--enable-expert-parallel"))
    # Published config (huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json): hidden 2048,
    # 32 query and 4 KV heads of 128, 48 layers; q, k, v, o projections in bf16.
    attention = 48 * 2048 * (32 + 4 + 4 + 32) * 128
    assert ep8 - tp8 == attention * 2 * 7 // 8


def test_even_experts_per_gpu_weigh_what_tensor_parallel_does(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """Mixtral-8x7B, EP over 8 GPUs: ⌈8/8⌉ = 1 whole expert each, the same bytes as 1/8 of 8."""
    serve = ["vllm", "serve", MIXTRAL, "--max-model-len", "8192", "-tp", "8"]
    check = [*backend_args, "--gpu", "h100-sxm", "--format", "json", "--"]
    plain = weights_bytes(run_check(*check, *serve))
    assert weights_bytes(run_check(*check, *serve, "--enable-expert-parallel")) == plain


def test_uneven_experts_cost_the_busiest_gpus_whole_experts(
    run_check: Callable[..., Run],
    backend_args: list[str],
    manifest: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """A Mixtral shape with 6 experts on EP 4: ⌈6/4⌉ = 2 experts on a GPU, not 1.5."""
    config = {**reference_config(MIXTRAL), "num_local_experts": 6}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    fields: dict[str, Any] = {"model": "config.json", "gpu": "h100-sxm", "tensor_parallel": 4}
    fields["max_model_len"] = 8192
    plain = weights_bytes(run_check(*backend_args, "--format", "json", str(manifest(**fields))))
    spread = manifest("ep.yaml", **fields, expert_parallel=True)
    ep = weights_bytes(run_check(*backend_args, "--format", "json", str(spread)))
    # Published Mixtral shapes (huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json):
    # hidden 4096, expert MLP 14336 (gate, up, down), 32 layers; bf16.
    expert_bytes = 3 * 4096 * 14336 * 32 * 2
    assert ep - plain == (math.ceil(6 / 4) - 6 / 4) * expert_bytes


def test_more_gpus_than_experts_exits_2_naming_the_flag(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """Mixtral's 8 experts cannot each go whole to 16 GPUs: exit 2 on --enable-expert-parallel."""
    serve = ["vllm", "serve", MIXTRAL, "-tp", "16", "--enable-expert-parallel"]
    result = run_check(*backend_args, "--gpu", "h100-sxm", "--", *serve)
    assert (result.code, "--enable-expert-parallel" in result.err) == (2, True), result.err


def test_expert_parallel_on_a_dense_model_exits_2(
    run_check: Callable[..., Run], backend_args: list[str], manifest: Callable[..., Path]
) -> None:
    """A dense model with expert_parallel: exit 2 naming the manifest and the field."""
    path = manifest(
        model="meta-llama/Llama-3.1-8B", gpu="h100-sxm", tensor_parallel=2, expert_parallel=True
    )
    result = run_check(*backend_args, str(path))
    assert (result.code, str(path) in result.err, "expert_parallel" in result.err) == (
        2,
        True,
        True,
    ), result.err


def test_the_header_shows_the_moe_layout(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """The human report's layout says EP and attention DP, as it says TP."""
    serve = [*SERVE_QWEN3, "-dp", "8", "--enable-expert-parallel"]
    result = run_check(*backend_args, "--gpu", "h100-sxm", "--", *serve)
    assert "(TP8 PP1 EP8 attention-DP)" in result.out, result.out


def test_the_slo_check_asks_latency_with_the_layout(
    run_check: Callable[..., Run],
    backend_args: list[str],
    catalog_dir: Path,
    manifest: Callable[..., Path],
) -> None:
    """The gate's TTFT and TPOT are /v1/latency's with expert_parallel and attention DP set."""
    layout_fields: dict[str, Any] = {
        "tensor_parallel": 8,
        "expert_parallel": True,
        "attention_data_parallel": True,
    }
    workload = {"input_tokens": 1000, "output_tokens": 200, "concurrency": 64}
    path = manifest(
        model=QWEN3_MOE, gpu="h100-sxm", max_model_len=8192, workload=workload, **layout_fields
    )
    latency = json.loads(run_check(*backend_args, "--format", "json", str(path)).out)["latency"]
    expected = OfflineBackend.from_directory(catalog_dir).latency(
        LatencyRequest(
            model=QWEN3_MOE,
            gpu="h100-sxm",
            batch_size=64,
            input_tokens=1000,
            output_tokens=200,
            **layout_fields,
        )
    )
    assert (latency["ttft_ms"], latency["tpot_ms"]) == (expected.ttft_ms, expected.tpot_ms)


def test_the_layout_changes_the_latency(
    run_check: Callable[..., Run], backend_args: list[str], manifest: Callable[..., Path]
) -> None:
    """The same manifest without expert parallelism gets another TPOT (the layout is passed)."""
    workload = {"input_tokens": 1000, "output_tokens": 200, "concurrency": 64}
    base: dict[str, Any] = {"model": QWEN3_MOE, "gpu": "h100-sxm", "tensor_parallel": 8}
    base.update(max_model_len=8192, workload=workload)
    tpot = [
        json.loads(run_check(*backend_args, "--format", "json", str(path)).out)["latency"][
            "tpot_ms"
        ]
        for path in (manifest("tp.yaml", **base), manifest("ep.yaml", **base, expert_parallel=True))
    ]
    assert tpot[0] != tpot[1]


def test_vllm_tp_inside_dp_ranks_is_warned(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """-tp 2 -dp 4 with EP: capplan holds attention whole per GPU, vLLM shards it; said aloud."""
    serve = [*SERVE_QWEN3, "-tp", "2", "-dp", "4", "--enable-expert-parallel"]
    result = run_check(*backend_args, "--gpu", "h100-sxm", "--format", "json", "--", *serve)
    warnings = json.loads(result.out)["warnings"]
    assert [w for w in warnings if w.startswith("--data-parallel-size 4")] != [], warnings


def test_a_pod_with_dp_attention_needs_only_its_tp_gpus(tmp_path: Path) -> None:
    """SGLang --tp 8 --dp 8 --enable-dp-attention runs on 8 GPUs per pod: one replica each."""
    args = ["--model-path", QWEN3_MOE, "--tp", "8", "--dp", "8", "--enable-dp-attention"]
    pod = {
        "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"},
        "containers": [
            {
                "name": "sglang",
                "image": "lmsysorg/sglang:v0.5.0",
                "command": ["python", "-m", "sglang.launch_server", *args],
                "resources": {"limits": {"nvidia.com/gpu": 8}},
            }
        ],
    }
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "qwen"},
        "spec": {"replicas": 2, "template": {"spec": pod}},
    }
    path = tmp_path / "k8s.yaml"
    path.write_text(json.dumps(body), encoding="utf-8")
    (item,) = read_inputs([str(path)], Overrides())
    target = item.target
    assert (target.gpu_count, target.replicas, target.attention_data_parallel) == (16, 2, True)


@given(
    tp=st.sampled_from([1, 2, 4, 8]),
    dp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2]),
    ep=st.booleans(),
)
def test_vllm_expert_parallel_never_changes_the_gpu_count(
    tp: int, dp: int, pp: int, ep: bool
) -> None:
    """vLLM uses TP x PP x DP GPUs with or without EP; EP only regroups them into one replica."""
    argv = [*VLLM, "-tp", str(tp), "-dp", str(dp), "-pp", str(pp)]
    argv += ["--enable-expert-parallel"] if ep else []
    fields = manifest_fields(parse_command(argv, base_dir=Path()), "h100-sxm", None)
    per_replica = fields["tensor_parallel"] * fields.get("pipeline_parallel", 1)
    assert (fields["gpu_count"], fields["gpu_count"] // per_replica) == (
        tp * dp * pp,
        1 if ep else dp,
    )
