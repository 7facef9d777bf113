"""The dtype a deployment serves the model in: ``auto`` weights and KV, as vLLM's --dtype auto."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.gpu import GpuSpec
from service.domain.hf_config import architecture_from_config
from service.domain.precision import Precision
from service.domain.served_dtype import served_precision
from service.domain.weights import is_checkpoint_precision
from tests.domain.reference import A100_80, H100, L4, T4_LIKE, arch, config, with_fields

TURING_LIKE = msgspec.structs.replace(T4_LIKE, compute_capability="7.5")
VOLTA_LIKE = msgspec.structs.replace(T4_LIKE, id="v100", name="V100", compute_capability="7.0")
NO_BF16 = [TURING_LIKE, VOLTA_LIKE]
NO_BF16_IDS = ["t4", "v100"]


@pytest.mark.parametrize("gpu", NO_BF16, ids=NO_BF16_IDS)
def test_auto_serves_a_bf16_checkpoint_in_fp16_where_the_gpu_has_no_bf16(gpu: GpuSpec) -> None:
    """Weights auto of a bf16 checkpoint on a chip without bf16 are fp16, and the note says so."""
    served = served_precision(arch("llama3-8b"), gpu)
    assert served.weights is Precision.FP16
    assert served.note.startswith("bf16 checkpoint served in fp16")
    assert f"{gpu.name} (compute capability {gpu.compute_capability}) has no bf16" in served.note


def test_explicit_bf16_is_kept_where_the_gpu_has_no_bf16() -> None:
    """An explicit bf16 request is not rewritten (the planner refuses it), and has no note."""
    served = served_precision(arch("llama3-8b"), T4_LIKE, "bf16")
    assert (served.weights, served.note) == (Precision.BF16, "")


@pytest.mark.parametrize(
    ("model", "weight_dtype"),
    [("llama3-8b", "auto"), ("llama3-8b", "fp16"), ("llama2-7b", "auto"), ("llama3-8b", "int4")],
    ids=["bf16-checkpoint-auto", "fp16-asked", "fp16-checkpoint", "int4-what-if"],
)
def test_kv_auto_is_fp16_where_the_gpu_has_no_bf16(model: str, weight_dtype: str) -> None:
    """KV auto is the model dtype, fp16 on a T4, whatever the weights."""
    assert served_precision(arch(model), T4_LIKE, weight_dtype).kv is Precision.FP16


@pytest.mark.parametrize("gpu", [H100, A100_80, L4], ids=["h100", "a100", "l4"])
def test_a_bf16_gpu_serves_a_bf16_checkpoint_unchanged(gpu: GpuSpec) -> None:
    """On a chip with bf16, auto weights and KV stay bf16, with no note."""
    served = served_precision(arch("llama3-8b"), gpu)
    assert (served.weights, served.kv, served.note) == (Precision.BF16, Precision.BF16, "")


def test_asking_for_fp16_weights_caches_kv_in_fp16() -> None:
    """fp16 weights are vLLM's --dtype half, so KV auto is fp16 even on a bf16 chip."""
    assert served_precision(arch("llama3-8b"), H100, "fp16").kv is Precision.FP16


@pytest.mark.parametrize(
    ("gpu", "expected"),
    [(H100, Precision.BF16), (T4_LIKE, Precision.FP16)],
    ids=["h100-bf16", "t4-fp16"],
)
def test_an_fp32_checkpoint_is_served_in_the_gpus_first_16_bit_dtype(
    gpu: GpuSpec, expected: Precision
) -> None:
    """vLLM downcasts fp32 checkpoints under --dtype auto: weights and KV both."""
    fp32_model = msgspec.structs.replace(arch("llama3-8b"), checkpoint_dtype="fp32")
    served = served_precision(fp32_model, gpu)
    assert (served.weights, served.kv) == (expected, expected)
    assert served.note.startswith(f"fp32 checkpoint served in {expected.value}")


def test_a_model_vllm_refuses_in_fp16_falls_back_to_fp32_without_bf16() -> None:
    """Gemma 2 is never fp16 in vLLM: on a T4 its bf16 checkpoint is served in fp32."""
    served = served_precision(arch("gemma-2-2b"), T4_LIKE)
    assert (served.weights, served.kv) == (Precision.FP32, Precision.FP32)
    assert "vLLM refuses fp16 for gemma2" in served.note


def test_a_quantised_checkpoint_keeps_its_format_and_caches_in_fp16_without_bf16() -> None:
    """An AWQ checkpoint (bf16 torch_dtype) stays int4 under auto; its KV follows fp16."""
    awq = {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"}
    model = architecture_from_config(with_fields(config("llama3-8b"), quantization_config=awq))
    served = served_precision(model, T4_LIKE)
    assert (served.weights, served.kv, served.note) == (Precision.INT4, Precision.FP16, "")


def test_compute_capability_below_8_has_no_bf16_whatever_its_rate() -> None:
    """A chip below sm80 has no bf16 in vLLM even when a bf16 rate is recorded for it."""
    turing = msgspec.structs.replace(L4, compute_capability="7.5")
    assert served_precision(arch("llama3-8b"), turing).weights is Precision.FP16


def test_a_bf16_checkpoint_served_in_fp16_keeps_its_checkpoint_bytes() -> None:
    """Casting bf16 to fp16 at load keeps every tensor's size, so the safetensors bytes apply."""
    assert is_checkpoint_precision(arch("llama3-8b"), Precision.FP16)
