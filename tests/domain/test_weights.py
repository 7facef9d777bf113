"""Weight memory by precision, and on the busiest GPU under tensor and pipeline parallelism."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.hf_config import architecture_from_config
from service.domain.kernel_layout import vllm_mxfp4_expert_padding
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from service.domain.weights import WeightsSource, weight_memory
from tests.domain.reference import arch, params


def test_bf16_weights_are_two_bytes_per_parameter(reference_model: dict[str, Any]) -> None:
    """Unquantised weights: bytes = 2·P (kipply: "multiply by two"; NVIDIA 7B → 14 GB)."""
    model = architecture_from_config(reference_model["config"])
    counted = count_parameters(model)
    memory = weight_memory(model, counted, Precision.BF16)
    assert memory.total_bytes == 2 * reference_model["total_params"]
    assert memory.per_gpu_bytes == memory.total_bytes


def test_fp32_weights_are_four_bytes_per_parameter() -> None:
    """fp32 keeps every tensor, large and small, at 4 bytes."""
    assert weight_memory(arch("gpt2"), params("gpt2"), Precision.FP32).total_bytes == (
        4 * 124_439_808
    )


SHEET_3_1_QUANTISED = [
    ("llama2-7b", Precision.FP8, 7.00),
    ("llama2-7b", Precision.INT4, 3.89),
    ("llama3-8b", Precision.FP8, 9.08),
    ("llama3-8b", Precision.INT4, 5.73),
    ("llama3-70b", Precision.FP8, 72.66),
    ("llama3-70b", Precision.INT4, 39.77),
    ("mistral-7b-v0.1", Precision.FP8, 7.50),
    ("mistral-7b-v0.1", Precision.INT4, 4.15),
    ("mixtral-8x7b", Precision.FP8, 46.96),
    ("mixtral-8x7b", Precision.INT4, 24.65),
    ("gemma-2b", Precision.FP8, 3.03),
    ("gemma-2b", Precision.INT4, 2.08),
    ("qwen2-7b", Precision.FP8, 8.71),
    ("qwen2-7b", Precision.INT4, 5.57),
]


@pytest.mark.parametrize(
    ("model", "precision", "gigabytes"),
    SHEET_3_1_QUANTISED,
    ids=[f"{model}-{precision.value}" for model, precision, _ in SHEET_3_1_QUANTISED],
)
def test_quantised_weights_keep_embeddings_16_bit(
    model: str, precision: Precision, gigabytes: float
) -> None:
    """Linear layers at fp8 / int4-g128, embeddings, lm_head, norms, routers at 16 bit:
    the sheet's §3.1 table (e.g. Llama-3-8B int4 = 5.73 GB, not 8.03·0.52 = 4.17 GB)."""
    total = weight_memory(arch(model), params(model), precision).total_bytes
    assert total / 1e9 == pytest.approx(gigabytes, rel=0.005)


def test_mxfp4_linear_weights_cost_4_25_bits() -> None:
    """mxfp4 Llama-3-8B: 6,979,321,856 linear weights at 4.25/8 B = 3,707,764,736 B, plus
    1,050,939,392 16-bit embedding, lm_head and norm parameters at 2 B = 2,101,878,784 B."""
    total = weight_memory(arch("llama3-8b"), params("llama3-8b"), Precision.MXFP4).total_bytes
    assert total == 3_707_764_736 + 2_101_878_784


def test_tensor_parallel_halves_weights_but_replicates_norms() -> None:
    """Llama-3-8B TP2: 16,060,522,496 / 2 plus half of the 266,240 replicated norm
    parameters' 532,480 bytes = 8,030,527,488 B per GPU."""
    memory = weight_memory(arch("llama3-8b"), params("llama3-8b"), Precision.BF16, 2)
    assert memory.per_gpu_bytes == 16_060_522_496 // 2 + 266_240
    assert memory.total_bytes == 16_060_522_496


def test_kv_projections_are_replicated_when_tp_exceeds_kv_heads() -> None:
    """Llama-3-70B TP16 (8 KV heads): each rank keeps one whole KV head of k and v.

    Per layer per rank: (q + o) 2·8192²/16 = 8,388,608 + k, v 2·8192·128 = 2,097,152, i.e.
    1,048,576 more than a clean 1/16 split; over 80 layers at 2 B that is 167,772,160 B on top
    of 141,107,412,992/16 = 8,819,213,312, plus 15/16 of the 1,318,912 replicated norm
    parameters at 2 B (2,472,960): 8,989,458,432 B.
    """
    memory = weight_memory(arch("llama3-70b"), params("llama3-70b"), Precision.BF16, 16)
    assert memory.per_gpu_bytes == 8_819_213_312 + 167_772_160 + 2_472_960


def test_pipeline_stage_holds_its_layers_and_one_vocabulary_matrix() -> None:
    """Llama-3-8B PP2: half of the 13,959,176,192 non-vocabulary bytes plus the larger of
    embedding and lm_head (1,050,673,152 B) = 8,030,261,248 B on the busiest stage."""
    memory = weight_memory(arch("llama3-8b"), params("llama3-8b"), Precision.BF16, 1, 2)
    assert memory.per_gpu_bytes == 13_959_176_192 // 2 + 1_050_673_152


def test_pipeline_with_odd_layer_count_rounds_the_stage_up() -> None:
    """GPT-2's 12 layers over 5 stages: the busiest holds ceil(12/5) = 3 layers, i.e. a
    quarter of the layer bytes, plus the (tied) embedding and positions."""
    model, counted = arch("gpt2"), params("gpt2")
    b = counted.breakdown
    memory = weight_memory(model, counted, Precision.BF16, 1, 5)
    vocabulary = 2 * (b.embedding + b.position_embedding)
    layers = 2 * counted.total - vocabulary
    assert memory.per_gpu_bytes == pytest.approx(layers / 4 + vocabulary, abs=1)


def test_mla_attention_is_split_evenly_across_tp() -> None:
    """MLA projections have no KV heads to replicate: DeepSeek-V3 TP8 holds 1/8 of them."""
    model, counted = arch("deepseek-v3"), params("deepseek-v3")
    tp1 = weight_memory(model, counted, Precision.BF16, 1).per_gpu_bytes
    tp8 = weight_memory(model, counted, Precision.BF16, 8).per_gpu_bytes
    replicated = 2 * (counted.breakdown.router + counted.breakdown.norms)
    assert tp8 == pytest.approx((tp1 - replicated) / 8 + replicated, abs=1)


def test_checkpoint_bytes_replace_the_config_total() -> None:
    """Safetensors bytes of the served checkpoint are the weight total, source checkpoint."""
    config_figure = weight_memory(arch("llama3-8b"), params("llama3-8b"), Precision.BF16)
    exact = config_figure.total_bytes + 1_048_576  # e.g. a checkpoint storing an extra buffer
    memory = weight_memory(
        arch("llama3-8b"), params("llama3-8b"), Precision.BF16, checkpoint_bytes=exact
    )
    assert (memory.total_bytes, memory.source) == (exact, WeightsSource.CHECKPOINT)


def test_checkpoint_bytes_scale_the_per_gpu_share() -> None:
    """Under TP the per-GPU figure keeps the config's split, scaled to the checkpoint's total."""
    config_tp2 = weight_memory(arch("llama3-8b"), params("llama3-8b"), Precision.BF16, 2)
    exact = 2 * config_tp2.total_bytes
    memory = weight_memory(
        arch("llama3-8b"), params("llama3-8b"), Precision.BF16, 2, checkpoint_bytes=exact
    )
    assert memory.per_gpu_bytes == pytest.approx(2 * config_tp2.per_gpu_bytes, abs=2)


def test_a_what_if_precision_ignores_the_checkpoint_bytes() -> None:
    """Asking for fp8 of a bf16 checkpoint prices the config: its safetensors do not apply."""
    memory = weight_memory(
        arch("llama3-8b"), params("llama3-8b"), Precision.FP8, checkpoint_bytes=1
    )
    assert memory.source is WeightsSource.CONFIG
    assert memory.total_bytes > 1


def test_expert_padding_leaves_dense_models_alone() -> None:
    """The MXFP4 MoE layout pads routed experts only: a dense model gains nothing."""
    padding = vllm_mxfp4_expert_padding("9.0")
    memory = weight_memory(
        arch("llama3-8b"), params("llama3-8b"), Precision.MXFP4, expert_padding=padding
    )
    assert memory.padding_bytes == 0


@settings(max_examples=30, deadline=None)
@given(
    precision=st.sampled_from(
        [Precision.FP8, Precision.INT8, Precision.INT4, Precision.MXFP4, Precision.NVFP4]
    ),
    layers=st.integers(min_value=1, max_value=8),
    hidden=st.sampled_from([256, 512, 1024]),
    tp=st.sampled_from([1, 2, 4]),
)
def test_quantised_weights_never_exceed_bf16(
    precision: Precision, layers: int, hidden: int, tp: int
) -> None:
    """Any what-if format, scales included, is at most the bf16 size, in total and per GPU."""
    model = architecture_from_config(
        {
            "model_type": "llama",
            "hidden_size": hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "intermediate_size": 4 * hidden,
            "vocab_size": 1000,
        }
    )
    counted = count_parameters(model)
    narrow = weight_memory(model, counted, precision, tp)
    wide = weight_memory(model, counted, Precision.BF16, tp)
    assert narrow.total_bytes <= wide.total_bytes
    assert narrow.per_gpu_bytes <= wide.per_gpu_bytes
