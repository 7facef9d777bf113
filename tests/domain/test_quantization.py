"""Quantised checkpoints: what ``quantization_config`` says each linear layer is stored as."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.kernel_layout import vllm_mxfp4_expert_padding
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from service.domain.quant_scheme import matches
from service.domain.quantization import (
    UnsupportedQuantization,
    detect_quantization,
    quantization_from_config,
)
from service.domain.weights import resolve_weight_precision, weight_memory
from tests.domain.reference import (
    GEMMA3_1B,
    GPT_OSS_20B,
    LLAMA_LIKE,
    REFERENCE_DIR,
    config,
    with_fields,
)

GIB = 2**30


def detected(quantization_config: Any) -> tuple[str, int | None, bool] | None:
    q = quantization_from_config({"quantization_config": quantization_config})
    return None if q is None else (q.weight_dtype, q.group_size, q.attention_quantized)


@pytest.mark.parametrize(
    ("quantization_config", "expected"),
    [
        (
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
            {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False},
            ("int4", 128, True),
        ),
        ({"quant_method": "gptq", "bits": 8, "group_size": 32}, ("int8", None, True)),
        (
            {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"},
            ("int4", 128, True),
        ),
        (
            {"quant_method": "awq", "w_bit": 4, "q_group_size": 64, "zero_point": True},
            ("int4", 64, True),
        ),
        ({"quant_method": "GPTQ", "bits": 4}, ("int4", 128, True)),
        ({"quant_method": "mxfp4"}, ("mxfp4", None, False)),
        ({"quant_method": "bitsandbytes", "load_in_8bit": True}, ("int8", None, True)),
        (
            {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"},
            ("int4", 64, True),
        ),
        ({"quant_method": "modelopt", "quant_algo": "FP8"}, ("fp8", None, True)),
        ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, ("nvfp4", None, True)),
        (
            {"quant_method": "modelopt", "quantization": {"quant_algo": "NVFP4"}},
            ("nvfp4", None, True),
        ),
        ({"quant_method": "modelopt", "quant_algo": "W4A16_AWQ"}, ("int4", 128, True)),
        ({"quant_method": "modelopt", "quant_algo": "W8A8_SQ_PER_CHANNEL"}, ("int8", None, True)),
        (
            {"quant_method": "fp8", "modules_to_not_convert": ["self_attn", "lm_head"]},
            ("fp8", None, False),
        ),
    ],
    ids=[
        "fp8-block-deepseek",
        "fbgemm-fp8",
        "gptq-int4-g128",
        "gptq-int8",
        "awq-int4",
        "awq-legacy-keys",
        "method-case-insensitive",
        "mxfp4-experts-only",
        "bitsandbytes-8bit",
        "bitsandbytes-nf4-block-64",
        "modelopt-fp8",
        "modelopt-nvfp4",
        "modelopt-nested-block",
        "modelopt-w4a16-awq",
        "modelopt-w8a8-smoothquant",
        "fp8-attention-not-converted",
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
        ({"num_bits": 8, "type": "float", "strategy": "block"}, ("fp8", None, True)),
        ({"num_bits": 8, "type": "int", "strategy": "channel"}, ("int8", None, True)),
        ({"num_bits": 8, "type": "int", "strategy": "tensor"}, ("int8", None, True)),
        (
            {"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128},
            ("int4", 128, True),
        ),
        ({"num_bits": 4, "type": "int", "strategy": "group", "group_size": 32}, ("int4", 32, True)),
        ({"num_bits": 4, "type": "int", "strategy": "channel"}, ("int4", 128, True)),
        ({"num_bits": 4, "type": "float", "group_size": 16}, ("nvfp4", None, True)),
    ],
    ids=[
        "fp8-dynamic",
        "fp8-block",
        "w8a8-int8",
        "w8a8-int8-tensor",
        "w4a16-g128",
        "w4a16-g32",
        "w4a16-channel",
        "nvfp4",
    ],
)
def test_compressed_tensors_scheme_is_detected(
    weights: dict[str, Any], expected: tuple[str, int | None, bool]
) -> None:
    """llm-compressor checkpoints: the weight scheme of the config group decides."""
    assert detected(compressed_tensors(weights)) == expected


@pytest.mark.parametrize(
    ("quantization_config", "method"),
    [
        ({"quant_method": "compressed-tensors"}, "compressed-tensors"),
        (compressed_tensors({"num_bits": 2, "type": "int"}), "compressed-tensors"),
        (
            compressed_tensors(
                {"num_bits": 8, "type": "float"}, sparsity_config={"format": "sparse-24-bitmask"}
            ),
            "compressed-tensors",
        ),
        ({"quant_method": "hqq", "nbits": 4}, "hqq"),
        ({"quant_method": "gptq", "bits": 3, "group_size": 128}, "gptq"),
        ({"quant_method": "bitsandbytes"}, "bitsandbytes"),
        ({"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION"}, "modelopt"),
        ({}, "(none)"),
    ],
    ids=[
        "no-config-groups",
        "two-bit",
        "sparse-24",
        "hqq",
        "three-bit-gptq",
        "bitsandbytes-without-a-width",
        "unknown-modelopt-algorithm",
        "no-method",
    ],
)
def test_unmodelled_quantization_is_rejected_naming_the_method(
    quantization_config: dict[str, Any], method: str
) -> None:
    """A scheme capplan cannot price is an error naming the method, never a 16-bit guess."""
    with pytest.raises(UnsupportedQuantization) as caught:
        quantization_from_config({"quantization_config": quantization_config})
    assert caught.value.method.startswith(method)
    assert method in str(caught.value)


def test_unmodelled_quantization_is_an_unsupported_feature() -> None:
    """The error is an UnsupportedArchitecture, which the API answers with 422."""
    assert issubclass(UnsupportedQuantization, UnsupportedArchitecture)


def test_config_without_a_quantization_block_is_unquantised() -> None:
    """No quantization_config, no Quantization."""
    assert quantization_from_config(config("llama3-8b")) is None


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        ({"quantization_config": "gptq"}, "quantization_config"),
        ({"compression_config": 8}, "compression_config"),
        ({"text_config": {"quantization_config": ["fp8"]}}, "quantization_config"),
    ],
    ids=["text", "number", "nested-list"],
)
def test_quantization_block_that_is_not_an_object_is_invalid(
    cfg: dict[str, Any], field: str
) -> None:
    """A quantization block that is not an object is an error naming it, never "unquantised"."""
    with pytest.raises(InvalidConfig) as caught:
        quantization_from_config(cfg)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("pattern", "module", "matched"),
    [
        ("lm_head", "lm_head", True),
        ("self_attn", "model.layers.3.self_attn.q_proj", True),
        ("model.layers.0.mlp.gate", "model.layers.0.mlp.gate_proj", False),
        ("model.layers.1", "model.layers.10.mlp.up_proj", False),
        ("model.layers.*.self_attn", "model.layers.7.self_attn.o_proj", True),
        ("*.mlp.down_proj", "model.layers.2.mlp.down_proj", True),
        ("re:.*self_attn.*", "model.layers.2.self_attn.k_proj", True),
        ("re:.*mlp.gate$", "model.layers.2.mlp.gate_proj", False),
        ("Linear", "model.layers.0.mlp.up_proj", True),
    ],
    ids=[
        "exact",
        "component-run",
        "no-partial-component",
        "no-prefix-digit",
        "glob-prefix",
        "glob-suffix",
        "ct-regex",
        "ct-regex-anchored",
        "every-linear",
    ],
)
def test_module_patterns_match_as_the_libraries_do(
    pattern: str, module: str, matched: bool
) -> None:
    """Ignore lists and targets: names, dotted runs, globs, ``re:`` regexes, ``Linear``."""
    assert matches(pattern, module) is matched


def fp8_llama_like(ignore: list[str]) -> int:
    cfg = with_fields(
        LLAMA_LIKE,
        quantization_config={"quant_method": "fp8", "modules_to_not_convert": ignore},
    )
    model = architecture_from_config(cfg)
    return weight_memory(model, count_parameters(model), Precision.FP8).total_bytes


def test_not_converted_attention_costs_two_bytes_per_weight() -> None:
    """FP8 with ``self_attn`` kept: attention costs 2 B, not 1 B + a scale per tensor.

    LLAMA_LIKE attention per layer: q 512·512 + k,v 2·512·128 + o 512·512 = 655,360;
    × 4 layers = 2,621,440 weights, 16 tensors; 2,621,440·(2 − 1) − 16·4 B = 2,621,376.
    """
    assert fp8_llama_like(["self_attn"]) - fp8_llama_like([]) == 2_621_376


PATTERNS = [
    "lm_head",
    "self_attn",
    "model.layers.0",
    "re:.*mlp.*",
    "*.down_proj",
    "model.layers.1.self_attn.q_proj",
    "k_proj",
]


@settings(max_examples=40, deadline=None)
@given(
    base=st.sets(st.sampled_from(PATTERNS)),
    extra=st.sets(st.sampled_from(PATTERNS)),
)
def test_ignoring_more_modules_never_shrinks_the_weights(base: set[str], extra: set[str]) -> None:
    """Keeping more modules 16-bit can only add bytes."""
    assert fp8_llama_like(sorted(base | extra)) >= fp8_llama_like(sorted(base))


def gpt_oss_120b() -> dict[str, Any]:
    """openai/gpt-oss-120b config.json: gpt-oss-20b's shapes with 36 layers, 128 experts."""
    return with_fields(
        GPT_OSS_20B,
        num_hidden_layers=36,
        num_local_experts=128,
        layer_types=["sliding_attention", "full_attention"] * 18,
    )


def test_gpt_oss_checkpoint_is_12_8_gib() -> None:
    """gpt-oss-20b in mxfp4 with bf16 attention is 12.8 GiB (gpt-oss model card, Table 1)."""
    model = architecture_from_config(GPT_OSS_20B)
    precision = resolve_weight_precision(model, "auto")
    assert precision is Precision.MXFP4
    size = weight_memory(model, count_parameters(model), precision).total_bytes / GIB
    assert size == pytest.approx(12.8, abs=0.05)


def test_marlin_layout_pads_gpt_oss_120b_experts() -> None:
    """vLLM's Marlin MXFP4 MoE pads H 2880 -> 3072 and I 2880 -> 2944 (mxfp4.py).

    Per expert, checkpoint: w13 5760·2880/2 + 5760·90 scales, w2 2880·2880/2 + 2880·90,
    bf16 biases 2·(5760 + 2880) = 13,236,480 B; padded: 5888·3072/2 + 5888·96,
    3072·2944/2 + 3072·92, 2·(5888 + 3072) = 14,431,744 B. × 128 experts × 36 layers:
    1,195,264 · 4,608 = 5,507,776,512 B.
    """
    model = architecture_from_config(gpt_oss_120b())
    padding = vllm_mxfp4_expert_padding("9.0")
    memory = weight_memory(model, count_parameters(model), Precision.MXFP4, expert_padding=padding)
    assert memory.padding_bytes == pytest.approx(5_507_776_512, abs=64)


def test_gpt_oss_120b_on_one_h100_matches_the_vllm_log() -> None:
    """Issue 11: vLLM V1 logs ``Model loading took 65.9651 GiB`` for gpt-oss-120b on one
    H100; the checkpoint is 60.8 GiB. With the Marlin layout capplan is within 1 %."""
    model = architecture_from_config(gpt_oss_120b())
    padding = vllm_mxfp4_expert_padding("9.0")
    memory = weight_memory(model, count_parameters(model), Precision.MXFP4, expert_padding=padding)
    assert memory.per_gpu_bytes / GIB == pytest.approx(65.9651, rel=0.01)


def test_gpt_oss_20b_on_an_a100_matches_the_vllm_019_log() -> None:
    """Held-out datapoint ``vllm-page-myoceane-gpt-oss-20b-a100`` (vLLM 0.19.0 on an A100,
    Marlin is the only MXFP4 path on sm80): the weights are within 1 % of the log."""
    logs = json.loads((REFERENCE_DIR / "engine_memory_logs.json").read_text(encoding="utf-8"))
    point = next(p for p in logs["datapoints"] if p["id"] == "vllm-page-myoceane-gpt-oss-20b-a100")
    model = architecture_from_config(GPT_OSS_20B)
    padding = vllm_mxfp4_expert_padding("8.0")
    memory = weight_memory(model, count_parameters(model), Precision.MXFP4, expert_padding=padding)
    logged = point["reported"]["model_loading_GiB"]
    assert memory.per_gpu_bytes / GIB == pytest.approx(logged, rel=0.01)


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


def test_compressed_tensors_mxfp4_format_is_mxfp4() -> None:
    """A 4-bit float scheme in the mxfp4 pack format is mxfp4, not NVFP4."""
    scheme = compressed_tensors({"num_bits": 4, "type": "float"}, format="mxfp4-pack-quantized")
    assert detected(scheme) == ("mxfp4", None, True)


def test_mixed_compressed_tensors_groups_size_by_the_widest() -> None:
    """With int4 and fp8 groups the checkpoint is named by its widest (8-bit) scheme."""
    scheme = compressed_tensors(
        {"num_bits": 4, "type": "int", "group_size": 128, "strategy": "group"}
    )
    scheme["config_groups"]["group_1"] = {
        "targets": ["re:.*self_attn.*"],
        "weights": {"num_bits": 8, "type": "float", "strategy": "tensor"},
    }
    assert detected(scheme) == ("fp8", None, True)


def test_compressed_tensors_groups_apply_by_target_in_order() -> None:
    """An fp8 group targeting attention before a w4a16 group over every Linear: attention
    weights are fp8 (1 B each), MLP weights int4 — the mixed model sits between the two."""
    w4 = {"num_bits": 4, "type": "int", "group_size": 128, "strategy": "group"}
    mixed = compressed_tensors(w4)
    mixed["config_groups"] = {
        "attention": {
            "targets": ["re:.*self_attn.*"],
            "weights": {"num_bits": 8, "type": "float", "strategy": "tensor"},
        },
        "rest": {"targets": ["Linear"], "weights": w4},
    }

    def total(quant: dict[str, Any], precision: Precision) -> int:
        model = architecture_from_config(with_fields(LLAMA_LIKE, quantization_config=quant))
        return weight_memory(model, count_parameters(model), precision).total_bytes

    all_int4 = total(compressed_tensors(w4), Precision.INT4)
    assert (
        all_int4
        < total(mixed, Precision.FP8)
        < total(
            compressed_tensors({"num_bits": 8, "type": "float", "strategy": "tensor"}),
            Precision.FP8,
        )
    )


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
        "quantization_config": compressed_tensors({"num_bits": 8, "type": "float"}),
    }
    assert resolve_weight_precision(architecture_from_config(multimodal), "auto") is (Precision.FP8)


def test_int4_group_size_is_found_past_malformed_groups() -> None:
    """A config group without a weights scheme is skipped when looking for the int4 group."""
    scheme = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "group_0": {"weights": None},
            "group_1": {
                "weights": {"num_bits": 4, "type": "int", "group_size": 64, "strategy": "group"}
            },
        },
    }
    assert detected(scheme) == ("int4", 64, True)


def test_modelopt_nvfp4_checkpoint_bytes_by_hand() -> None:
    """LLAMA_LIKE in NVFP4 (no exclusions): every linear weight costs r·c·(1/2 + 1/16) + 8 B.

    Linear elements per layer: q 512·512 + k,v 2·128·512 + o 512·512 + gate,up 2·1024·512 +
    down 512·1024 = 2,228,224; × 4 layers = 8,912,896 → × 9/16 = 5,013,504, + 28 tensors × 8 B
    of fp32 global and input scales = 5,013,728. bf16 rest: embed + lm_head 2·512,000·2 B =
    2,048,000; norms (2·4 + 1)·512·2 B = 9,216. Total 7,070,944 B.
    """
    quant = {"quant_method": "modelopt", "quant_algo": "NVFP4"}
    model = architecture_from_config(with_fields(LLAMA_LIKE, quantization_config=quant))
    memory = weight_memory(model, count_parameters(model), Precision.NVFP4)
    assert memory.total_bytes == 7_070_944
