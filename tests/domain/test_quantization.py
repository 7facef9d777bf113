"""Quantised checkpoints: what ``quantization_config`` says the weights are stored as."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from service.domain.quantization import detect_quantization, quantization_from_config
from service.domain.weights import resolve_weight_precision, weight_memory
from tests.domain.reference import GEMMA3_1B, GPT_OSS_20B, config, with_fields

GIB = 2**30


def detected(quantization_config: Any) -> tuple[str, int | None, bool] | None:
    q = quantization_from_config({"quantization_config": quantization_config})
    return None if q is None else (q.weight_dtype, q.group_size, q.attention_quantized)


@pytest.mark.parametrize(
    ("quantization_config", "expected"),
    [
        (
            # deepseek-ai/DeepSeek-V3 config.json
            {
                "quant_method": "fp8",
                "fmt": "e4m3",
                "activation_scheme": "dynamic",
                "weight_block_size": [128, 128],
            },
            ("fp8", None, True),
        ),
        ({"quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0}, ("fp8", None, True)),
        (
            # TheBloke-style GPTQ: 4 bits, group 128
            {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False},
            ("int4", 128, True),
        ),
        ({"quant_method": "gptq", "bits": 8, "group_size": 32}, ("int8", None, True)),
        (
            {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"},
            ("int4", 128, True),
        ),
        (
            # legacy AutoAWQ spelling: w_bit / q_group_size
            {"quant_method": "awq", "w_bit": 4, "q_group_size": 64, "zero_point": True},
            ("int4", 64, True),
        ),
        ({"quant_method": "GPTQ", "bits": 4}, ("int4", 128, True)),
        (
            {"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn"]},
            ("mxfp4", None, False),
        ),
        ({"quant_method": "mxfp4"}, ("mxfp4", None, True)),
        ({"quant_method": "bitsandbytes", "load_in_8bit": True}, ("int8", None, True)),
        (
            {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"},
            ("int4", 128, True),
        ),
        ({"quant_method": "modelopt", "quant_algo": "FP8"}, ("fp8", None, True)),
        ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, ("fp4", None, True)),
        ({"quant_method": "modelopt", "quant_algo": "W4A16_AWQ"}, ("int4", 128, True)),
        ({"quant_method": "modelopt", "quant_algo": "W8A8_SQ_PER_CHANNEL"}, ("int8", None, True)),
    ],
    ids=[
        "fp8-deepseek",
        "fbgemm-fp8",
        "gptq-int4-g128",
        "gptq-int8",
        "awq-int4",
        "awq-legacy-keys",
        "method-case-insensitive",
        "mxfp4-attention-kept-16-bit",
        "mxfp4-everything",
        "bitsandbytes-8bit",
        "bitsandbytes-4bit",
        "modelopt-fp8",
        "modelopt-nvfp4",
        "modelopt-w4a16-awq",
        "modelopt-w8a8-smoothquant",
    ],
)
def test_quantization_method_is_detected(
    quantization_config: dict[str, Any], expected: tuple[str, int | None, bool]
) -> None:
    """Each quantizer's config reads as (weight dtype, group size, attention quantised)."""
    assert detected(quantization_config) == expected


def compressed_tensors(weights: Any, **extra: Any) -> dict[str, Any]:
    return {
        "quant_method": "compressed-tensors",
        "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights}},
        "ignore": ["lm_head"],
        **extra,
    }


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({"num_bits": 8, "type": "float", "strategy": "channel"}, ("fp8", None, True)),
        ({"num_bits": 8, "type": "int", "strategy": "channel"}, ("int8", None, True)),
        ({"num_bits": 4, "type": "int", "group_size": 128}, ("int4", 128, True)),
        ({"num_bits": 4, "type": "int", "strategy": "channel"}, ("int4", 128, True)),
        ({"num_bits": 4, "type": "float", "group_size": 16}, ("fp4", None, True)),
        (
            {"num_bits": 4, "type": "int", "strategy": "group", "group_size": 32},
            ("int4", 32, True),
        ),
    ],
    ids=["fp8-dynamic", "w8a8-int8", "w4a16-g128", "w4a16-no-group", "nvfp4", "w4a16-g32"],
)
def test_compressed_tensors_scheme_is_detected(
    weights: dict[str, Any], expected: tuple[str, int | None, bool]
) -> None:
    """llm-compressor checkpoints: the weight scheme of the config group decides."""
    assert detected(compressed_tensors(weights)) == expected


@pytest.mark.parametrize(
    "quantization_config",
    [
        {"quant_method": "compressed-tensors"},
        {"quant_method": "compressed-tensors", "config_groups": {"g": "not-a-group"}},
        compressed_tensors({"num_bits": 2, "type": "int"}),
        {"quant_method": "hqq", "nbits": 4},
        {"quant_method": "gptq", "bits": 3, "group_size": 128},
        {"quant_method": "bitsandbytes"},
        {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION"},
        {},
        "gptq",
    ],
    ids=[
        "no-config-groups",
        "malformed-group",
        "two-bit",
        "unmodelled-method",
        "three-bit-gptq",
        "bitsandbytes-without-a-width",
        "unknown-modelopt-algorithm",
        "empty",
        "not-an-object",
    ],
)
def test_unrecognised_quantization_is_treated_as_unquantised(
    quantization_config: dict[str, Any],
) -> None:
    """A scheme capplan cannot read yields None: weights fall back to the checkpoint dtype."""
    assert detected(quantization_config) is None


def test_config_without_quantization_is_unquantised() -> None:
    """No quantization_config, no Quantization."""
    assert quantization_from_config(config("llama3-8b")) is None


def test_auto_weights_of_a_gptq_checkpoint_are_int4() -> None:
    """A GPTQ Llama-3-8B is sized as int4 when the request says ``auto``."""
    cfg = with_fields(
        config("llama3-8b"),
        quantization_config={"quant_method": "gptq", "bits": 4, "group_size": 128},
    )
    assert resolve_weight_precision(architecture_from_config(cfg), "auto") is Precision.INT4


def test_checkpoint_group_size_sets_the_int4_overhead() -> None:
    """A g=32 GPTQ checkpoint costs 4.625 bits per linear weight, not the g=128 4.15625.

    Llama-3-8B linear weights = 8,030,261,248 − 2·525,336,576 (embed, lm_head)
    − 266,240 (norms) = 6,979,321,856; the extra 0.46875 bits each = 408,944,640 bytes.
    """

    def int4_bytes(group: int) -> int:
        cfg = with_fields(
            config("llama3-8b"),
            quantization_config={"quant_method": "gptq", "bits": 4, "group_size": group},
        )
        model = architecture_from_config(cfg)
        return weight_memory(model, count_parameters(model), Precision.INT4).total_bytes

    assert int4_bytes(32) - int4_bytes(128) == pytest.approx(408_944_640, abs=2)


def test_gpt_oss_checkpoint_is_12_8_gib() -> None:
    """gpt-oss-20b in mxfp4 with bf16 attention is 12.8 GiB (gpt-oss model card, Table 1)."""
    model = architecture_from_config(GPT_OSS_20B)
    precision = resolve_weight_precision(model, "auto")
    assert precision is Precision.MXFP4
    size = weight_memory(model, count_parameters(model), precision).total_bytes / GIB
    assert size == pytest.approx(12.8, abs=0.05)


def test_attention_kept_16_bit_costs_more_than_quantising_it() -> None:
    """Keeping gpt-oss attention in bf16 adds (2 − 0.53125) bytes per attention weight.

    gpt-oss-20b attention per layer: q 2880·4096 + k,v 2·2880·512 + o 4096·2880
    = 26,542,080; × 24 layers = 637,009,920 weights; × 1.46875 B = 935,608,320 B.
    """
    kept = architecture_from_config(GPT_OSS_20B)
    everything = architecture_from_config(
        with_fields(GPT_OSS_20B, quantization_config={"quant_method": "mxfp4"})
    )
    params = count_parameters(kept)
    difference = (
        weight_memory(kept, params, Precision.MXFP4).total_bytes
        - weight_memory(everything, params, Precision.MXFP4).total_bytes
    )
    assert difference == pytest.approx(935_608_320, abs=2)


def test_compressed_tensors_mxfp4_format_is_mxfp4() -> None:
    """A 4-bit float scheme in the mxfp4 pack format is mxfp4, not NVFP4."""
    scheme = compressed_tensors({"num_bits": 4, "type": "float"}, format="mxfp4-pack-quantized")
    assert detected(scheme) == ("mxfp4", None, True)


def test_mixed_compressed_tensors_groups_size_by_the_widest() -> None:
    """With int4 and fp8 groups the checkpoint is sized by its widest (8-bit) scheme."""
    scheme = compressed_tensors({"num_bits": 4, "type": "int", "group_size": 128})
    scheme["config_groups"]["group_1"] = {"weights": {"num_bits": 8, "type": "float"}}
    assert detected(scheme) == ("fp8", None, True)


def test_legacy_compression_config_key_is_read() -> None:
    """Older llm-compressor exports call the block compression_config."""
    cfg = {"compression_config": compressed_tensors({"num_bits": 8, "type": "float"})}
    assert detect_quantization(cfg) is Precision.FP8


def test_detect_quantization_returns_the_weight_precision() -> None:
    """detect_quantization answers with a Precision (a str enum: equal to "int4")."""
    cfg = {"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}
    assert detect_quantization(cfg) == "int4"
    assert detect_quantization({}) is None


def test_multimodal_checkpoint_quantization_applies_to_its_language_model() -> None:
    """transformers writes quantization_config at the top of a multimodal config (e.g.
    RedHatAI/gemma-3-27b-it-FP8-dynamic): the language model is sized as fp8."""
    multimodal = {
        "model_type": "gemma3",
        "text_config": GEMMA3_1B,
        "vision_config": {"model_type": "siglip_vision_model"},
        "quantization_config": compressed_tensors({"num_bits": 8, "type": "float"}),
    }
    assert resolve_weight_precision(architecture_from_config(multimodal), "auto") is (Precision.FP8)


def test_int4_group_size_is_found_past_malformed_groups() -> None:
    """A config group without a weights scheme is skipped when looking for the int4 group."""
    scheme = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "group_0": {"weights": None},
            "group_1": {"weights": {"num_bits": 4, "type": "int", "group_size": 64}},
        },
    }
    assert detected(scheme) == ("int4", 64, True)
