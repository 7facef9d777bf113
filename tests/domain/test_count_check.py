"""The independent count check: Hub safetensors totals against capplan's exact count."""

from __future__ import annotations

from math import prod
from typing import Any

import pytest

from service.domain.count_check import CountVerdict, check_hub_total
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from tests.domain.reference import (
    DEEPSEEK_V3,
    REFERENCE_DIR,
    arch,
    load_reference,
    params,
    with_fields,
)


def _entry(repo_id: str) -> dict[str, Any]:
    models = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    [entry] = [m for m in models if m["repo_id"] == repo_id]
    return entry


def test_equal_totals_are_exact() -> None:
    """Nemotron-Nano-9B-v2: the Hub's BF16 total equals the count."""
    entry = _entry("nvidia/NVIDIA-Nemotron-Nano-9B-v2")
    model = architecture_from_config(entry["config"])
    check = check_hub_total(
        model, count_parameters(model), {"BF16": entry["hub_safetensors_total"]}, quantized=False
    )
    assert check is not None
    assert check.verdict is CountVerdict.EXACT


def test_an_undeclared_mtp_layer_is_explained() -> None:
    """Qwen3-Next-80B ships one MTP layer its config does not declare: explained, and named."""
    entry = _entry("Qwen/Qwen3-Next-80B-A3B-Instruct")
    model = architecture_from_config(entry["config"])
    check = check_hub_total(
        model, count_parameters(model), {"BF16": entry["hub_safetensors_total"]}, quantized=False
    )
    assert check is not None
    assert check.verdict is CountVerdict.EXPLAINED
    assert "1 MTP layer" in check.explanation


def test_stored_rotary_buffers_are_explained() -> None:
    """Llama-3-8B plus 32 layers · 64 inv_freq floats: a known export convention."""
    counted = params("llama3-8b")
    hub = {"BF16": counted.total, "F32": 32 * 128 // 2}
    check = check_hub_total(arch("llama3-8b"), counted, hub, quantized=False)
    assert check is not None
    assert check.verdict is CountVerdict.EXPLAINED
    assert "inv_freq" in check.explanation


def test_an_unexplained_difference_is_a_mismatch_with_both_numbers() -> None:
    """A difference of 12,345 elements matches no convention: mismatch, numbers named."""
    counted = params("llama3-8b")
    check = check_hub_total(
        arch("llama3-8b"), counted, {"BF16": counted.total + 12_345}, quantized=False
    )
    assert check is not None
    assert check.verdict is CountVerdict.MISMATCH
    assert "+12,345" in check.explanation


@pytest.mark.parametrize(
    ("counts", "quantized"),
    [({}, False), ({"F8_E4M3": 1000, "F32": 10}, True)],
    ids=["no-safetensors", "quantised"],
)
def test_nothing_comparable_gives_no_verdict(counts: dict[str, int], quantized: bool) -> None:
    """No safetensors, or packed quantised storage: no verdict rather than a false one."""
    assert (
        check_hub_total(arch("llama3-8b"), params("llama3-8b"), counts, quantized=quantized) is None
    )


def _moe_mla_layer(
    d: int, q_rank: int, heads: int, qk: int, v: int, experts: int
) -> list[list[int]]:
    """One MLA + MoE decoder layer's tensor shapes (kv_lora_rank 512, rope 64, expert width
    2048, one shared expert), as the checkpoints list them."""
    return [
        [d], [d],  # input_layernorm, post_attention_layernorm
        [q_rank, d], [q_rank], [heads * qk, q_rank],  # q_a_proj, q_a_layernorm, q_b_proj
        [512 + 64, d], [512], [heads * (qk - 64 + v), 512],  # kv_a_proj, kv_a_layernorm, kv_b
        [d, heads * v],  # o_proj
        *[[2048, d]] * (3 * experts),  # routed experts' gate/up/down
        [experts, d], [experts],  # router and its e_score_correction_bias
        [2048, d], [2048, d], [d, 2048],  # shared expert
    ]  # fmt: skip


# model.layers.78 of zai-org/GLM-5.1 as its published tensor list gives it (the checkpoint
# report cited in models_2025.json): the decoder layer with its DSA indexer (wq_b [4096, 2048],
# wk [128, 6144], k_norm weight and bias [128], weights_proj [32, 6144]), eh_proj [6144, 12288],
# enorm, hnorm, shared_head.norm [6144]; no embed_tokens, no shared_head.head.
GLM_51_MTP_SHAPES = [
    *_moe_mla_layer(6144, 2048, 64, 256, 256, 256),
    [4096, 2048], [128, 6144], [128], [128], [32, 6144],
    [6144, 2 * 6144], [6144], [6144], [6144],
]  # fmt: skip
# model.layers.61 of deepseek-ai/DeepSeek-V3 (config shapes; vLLM deepseek_mtp.py): the
# decoder layer, eh_proj, enorm, hnorm, shared_head.norm, and its own embed_tokens and
# shared_head.head [129280, 7168].
DEEPSEEK_V3_MTP_SHAPES = [
    *_moe_mla_layer(7168, 1536, 128, 192, 128, 256),
    [7168, 2 * 7168], [7168], [7168], [7168],
    [129280, 7168], [129280, 7168],
]  # fmt: skip
# deepseek-ai/DeepSeek-V3's Hub total: 671,026,419,200 model + 13,463,426,304 MTP elements
# (BF16 + F8 tensors plus the F32 router biases; tests/domain/test_latency_speculative_draft).
DEEPSEEK_V3_HUB_TOTAL = 684_489_845_504


def _glm_51() -> tuple[dict[str, Any], int]:
    entry = _entry("zai-org/GLM-5.1")
    return entry["config"], entry["hub_safetensors_total"]


@pytest.mark.parametrize(
    ("config", "hub_total", "mtp_shapes", "sharing"),
    [
        (
            with_fields(DEEPSEEK_V3, num_nextn_predict_layers=1),
            DEEPSEEK_V3_HUB_TOTAL,
            DEEPSEEK_V3_MTP_SHAPES,
            False,
        ),
        (*_glm_51(), GLM_51_MTP_SHAPES, True),
    ],
    ids=["deepseek-v3-own-embedding-and-head", "glm-5.1-shared-embedding-and-head"],
)
def test_both_mtp_checkpoint_conventions_are_explained(
    config: dict[str, Any], hub_total: int, mtp_shapes: list[list[int]], sharing: bool
) -> None:
    """The published total less the count is the MTP layer summed from its tensor shapes,
    named with its convention (own embed_tokens/shared_head.head copies, or shared)."""
    model = architecture_from_config(config)
    counted = count_parameters(model)
    mtp_by_hand = sum(prod(shape) for shape in mtp_shapes)
    check = check_hub_total(model, counted, {"BF16": hub_total}, quantized=False)
    assert check is not None
    assert hub_total - counted.total == mtp_by_hand
    assert check.verdict is CountVerdict.EXPLAINED
    assert f"({mtp_by_hand:,})" in check.explanation
    assert ("sharing the main embedding and head" in check.explanation) is sharing


def test_glm_51_main_model_is_its_published_tensors_less_the_mtp_layer() -> None:
    """GLM-5.1 by hand from its published shapes: embedding and head 154,880 x 6,144 each,
    78 layers (3 dense with MLP 12,288, 75 MoE), each with its indexer, and the final norm."""
    config, hub_total = _glm_51()
    d, vocab = 6144, 154_880
    layer = _moe_mla_layer(d, 2048, 64, 256, 256, 256)
    moe_only = 3 * 256 * 2048 * d + 256 * d + 256 + 3 * 2048 * d
    indexer = 4096 * 2048 + 128 * d + 2 * 128 + 32 * d
    moe_layer = sum(prod(shape) for shape in layer) + indexer
    dense_layer = moe_layer - moe_only + 3 * 12_288 * d
    by_hand = 2 * vocab * d + 3 * dense_layer + 75 * moe_layer + d
    assert count_parameters(architecture_from_config(config)).total == by_hand
    assert hub_total == by_hand + sum(prod(shape) for shape in GLM_51_MTP_SHAPES)


def test_two_mtp_conventions_never_explain_one_difference_together() -> None:
    """A difference equal to both GLM-5.1 MTP readings at once is a mismatch: one checkpoint
    stores its MTP layer once, in one convention."""
    config, _ = _glm_51()
    model = architecture_from_config(config)
    counted = count_parameters(model)
    shared = sum(prod(shape) for shape in GLM_51_MTP_SHAPES)
    own = shared + 2 * 154_880 * 6144
    hub = {"BF16": counted.total + shared + own}
    check = check_hub_total(model, counted, hub, quantized=False)
    assert check is not None
    assert check.verdict is CountVerdict.MISMATCH
