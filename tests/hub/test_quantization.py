"""detect_quantization and safetensors_total_agrees: pure reads of config and totals."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.domain.quantization import UnsupportedQuantization
from service.hub.quantization import detect_quantization, safetensors_total_agrees


def _ct(num_bits: int, kind: str, fmt: str = "", strategy: str = "tensor") -> dict[str, Any]:
    """A compressed-tensors quantization_config with one weight group."""
    weights = {"num_bits": num_bits, "type": kind, "strategy": strategy, "group_size": 128}
    return {
        "quant_method": "compressed-tensors",
        "format": fmt,
        "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights}},
    }


@pytest.mark.parametrize(
    ("quantization_config", "expected"),
    [
        pytest.param({"quant_method": "fp8", "weight_block_size": [128, 128]}, "fp8", id="fp8"),
        pytest.param({"quant_method": "fbgemm_fp8"}, "fp8", id="fbgemm-fp8"),
        pytest.param({"quant_method": "gptq", "bits": 4, "group_size": 128}, "int4", id="gptq-4"),
        pytest.param({"quant_method": "gptq", "bits": 8}, "int8", id="gptq-8"),
        pytest.param({"quant_method": "awq", "bits": 4, "version": "gemm"}, "int4", id="awq"),
        pytest.param({"quant_method": "awq", "w_bit": 8}, "int8", id="awq-legacy-w_bit"),
        pytest.param({"quant_method": "awq"}, "int4", id="awq-default-4"),
        pytest.param({"quant_method": "mxfp4"}, "mxfp4", id="mxfp4-gpt-oss"),
        pytest.param({"quant_method": "bitsandbytes", "load_in_4bit": True}, "int4", id="bnb-4"),
        pytest.param({"quant_method": "bitsandbytes", "_load_in_8bit": True}, "int8", id="bnb-8"),
        pytest.param({"quant_method": "modelopt", "quant_algo": "FP8"}, "fp8", id="modelopt-fp8"),
        pytest.param({"quant_method": "modelopt", "quant_algo": "NVFP4"}, "nvfp4", id="nvfp4"),
        pytest.param({"quant_method": "modelopt", "quant_algo": "W4A16_AWQ"}, "int4", id="mo-w4"),
        pytest.param(_ct(8, "float", "float-quantized"), "fp8", id="ct-fp8"),
        pytest.param(_ct(8, "int", "int-quantized"), "int8", id="ct-int8"),
        pytest.param(_ct(4, "int", "pack-quantized", "group"), "int4", id="ct-w4a16"),
        pytest.param(_ct(4, "float", "nvfp4-pack-quantized"), "nvfp4", id="ct-nvfp4"),
        pytest.param(_ct(4, "float", "mxfp4-pack-quantized"), "mxfp4", id="ct-mxfp4"),
    ],
)
def test_detect_quantization(quantization_config: dict[str, Any], expected: str | None) -> None:
    """quant_method (and bits/groups where needed) name the stored weight format."""
    config = {"model_type": "llama", "quantization_config": quantization_config}

    assert detect_quantization(config) == expected


@pytest.mark.parametrize(
    "quantization_config",
    [
        pytest.param({"quant_method": "gptq", "bits": 3}, id="gptq-3"),
        pytest.param({"quant_method": "bitsandbytes"}, id="bnb-neither"),
        pytest.param({"quant_method": "compressed-tensors"}, id="ct-no-groups"),
        pytest.param({"quant_method": "hqq", "nbits": 4}, id="unknown-method"),
        pytest.param({}, id="empty-block"),
    ],
)
def test_unmodelled_quantization_is_refused(quantization_config: dict[str, Any]) -> None:
    """The importer never stores an unmodelled checkpoint as if it were 16-bit."""
    with pytest.raises(UnsupportedQuantization):
        detect_quantization({"quantization_config": quantization_config})


def test_compressed_tensors_mixed_groups_take_the_widest() -> None:
    """With int4 and fp8 groups the larger format is reported, so memory is not understated."""
    quant = _ct(4, "int", strategy="group")
    quant["config_groups"]["group_1"] = {"weights": {"num_bits": 8, "type": "float"}}

    assert detect_quantization({"quantization_config": quant}) == "fp8"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"model_type": "llama", "torch_dtype": "bfloat16"}, None, id="unquantised"),
        pytest.param({"compression_config": _ct(8, "float")}, "fp8", id="legacy-key"),
        pytest.param(
            {"text_config": {"quantization_config": {"quant_method": "fp8"}}}, "fp8", id="nested"
        ),
    ],
)
def test_detect_quantization_finds_the_block(config: dict[str, Any], expected: str | None) -> None:
    """The block is looked up under both names and in text_config."""
    assert detect_quantization(config) == expected


LLAMA_7B = 6_738_415_616
LLAMA = {"num_layers": 32, "head_dim": 128}
LLAMA_LM_HEAD = {**LLAMA, "vocab_size": 32_000, "hidden_size": 4096}
GPT2 = {"num_layers": 12, "head_dim": 64, "mask_positions": 1024}
INV_FREQ = 32 * 128 // 2
LM_HEAD = 32_000 * 4096


@pytest.mark.parametrize(
    ("hub", "computed", "dims", "agrees", "reason"),
    [
        pytest.param(LLAMA_7B, LLAMA_7B, LLAMA, True, "exact", id="exact"),
        pytest.param(LLAMA_7B + INV_FREQ, LLAMA_7B, LLAMA, True, "inv_freq", id="rotary-inv-freq"),
        pytest.param(
            LLAMA_7B + LM_HEAD, LLAMA_7B, LLAMA_LM_HEAD, True, "lm_head", id="tied-lm-head-stored"
        ),
        pytest.param(
            LLAMA_7B + LM_HEAD + INV_FREQ,
            LLAMA_7B,
            LLAMA_LM_HEAD,
            True,
            "inv_freq.*lm_head",
            id="inv-freq-and-lm-head",
        ),
        pytest.param(137_022_720, 124_439_808, GPT2, True, "attn.bias", id="gpt2-attn-bias"),
        pytest.param(LLAMA_7B + LM_HEAD, LLAMA_7B, LLAMA, False, "checked", id="lm-head-no-dims"),
        pytest.param(LLAMA_7B + 1, LLAMA_7B, LLAMA, False, r"by \+1,", id="off-by-one"),
        pytest.param(LLAMA_7B - INV_FREQ, LLAMA_7B, LLAMA, False, "by -2,048", id="hub-smaller"),
    ],
)
def test_safetensors_total_agrees(
    hub: int, computed: int, dims: dict[str, int], agrees: bool, reason: str
) -> None:
    """Exact totals and the known stored extras agree; anything else is explained as a miss."""
    result, explanation = safetensors_total_agrees(hub, computed, **dims)

    assert result is agrees
    assert re.search(reason, explanation)
