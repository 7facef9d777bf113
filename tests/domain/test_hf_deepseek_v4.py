"""DeepSeek-V4: exact parameters and checkpoint bytes, and the 422 naming its unmodelled cache.

Oracles: hand arithmetic on a tiny config (formula of service/domain/hf_deepseek_v4.py,
read off DeepSeek's inference/model.py), the published DeepSeek-V4-Flash-0731 config.json
and what public sources state about the released checkpoints
(catalog/reference/deepseek_v4.json).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.hf_deepseek_v4 import count_deepseek_v4, deepseek_v4_shape
from tests.domain.reference import REFERENCE_DIR, load_reference

TINY: dict[str, Any] = {
    "model_type": "deepseek_v4",
    "hidden_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "head_dim": 8,
    "qk_rope_head_dim": 2,
    "q_lora_rank": 4,
    "o_lora_rank": 4,
    "o_groups": 2,
    "sliding_window": 4,
    "index_n_heads": 2,
    "index_head_dim": 4,
    "index_topk": 2,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 4,
    "n_shared_experts": 1,
    "num_hash_layers": 1,
    "hc_mult": 2,
    "vocab_size": 10,
    "compress_ratios": [0, 4],
    "expert_dtype": "fp4",
}


@functools.cache
def _flash() -> dict[str, Any]:
    entry: dict[str, Any] = load_reference(REFERENCE_DIR / "deepseek_v4.json")["models"][0]
    return entry


def _checkpoint(repo_id: str) -> dict[str, Any]:
    return next(c for c in _flash()["checkpoints"] if c["repo_id"] == repo_id)


def test_tiny_config_counts_by_hand() -> None:
    """d=8, H=4, h=8, q_r=o_r=4, g=2, E=4 of f=4, m=2, V=10, ratios (0, 4): 3,223 parameters.

    attention 4 + 32 + 128 + 64 + 128 + 64 = 420 and norms 4 + 8 + 16 = 28 per layer;
    ratio-4 compressor 4·2·8 + 2·8·16 + 8 = 328; indexer 4·2·4 + 8·2 + (4·2·4 + 2·8·8 + 4)
    = 212; gate 32 (+ bias 4 on the non-hash layer); experts 4·3·8·4 = 384; shared 96;
    hyper-connections 2·8·2·8 + 2·8 + 2·3 = 278. Layer 0: 1,238; layer 1: 1,782; embed and
    head 160, norm 8, hc_head 32 + 2 + 1: 203.
    """
    count = count_deepseek_v4(deepseek_v4_shape(TINY))
    assert count.total == 1238 + 1782 + 203
    assert count.routed_experts == 2 * 384


def test_active_parameters_leave_out_unrouted_experts() -> None:
    """Active = total - 2 layers x (4 - 2) experts x 3·8·4 = 3,223 - 384."""
    count = count_deepseek_v4(deepseek_v4_shape(TINY))
    assert count.active == count.total - 2 * (4 - 2) * 3 * 8 * 4


def test_hash_layers_store_a_token_table_not_a_router_bias() -> None:
    """num_hash_layers = 1: V·top_k = 20 table entries, outside the parameter count."""
    count = count_deepseek_v4(deepseek_v4_shape(TINY))
    no_hash = count_deepseek_v4(deepseek_v4_shape({**TINY, "num_hash_layers": 0}))
    assert count.routing_table_entries == 10 * 2
    assert no_hash.total - count.total == 4  # the hash layer's E-wide router bias


def test_mtp_layer_is_counted_apart() -> None:
    """One MTP layer at ratio 0 (past the list): a ratio-0 block without the hash table
    (1,238 + 4 bias) + e_proj/h_proj 2·64 + 3 norms 24 + hc_head 35 = 1,429."""
    count = count_deepseek_v4(deepseek_v4_shape({**TINY, "num_nextn_predict_layers": 1}))
    assert count.mtp == 1238 + 4 + 2 * 64 + 3 * 8 + 35
    assert count.total == 3223


def test_flash_checkpoint_bytes_are_the_published_index_total() -> None:
    """Main model + its one MTP layer, FP4 experts and FP8 linears with ue8m0 scales, int64
    hash tables = DeepSeek-V4-Flash's model.safetensors.index.json total_size, to the byte."""
    count = count_deepseek_v4(deepseek_v4_shape(_flash()["config"]))
    published = _checkpoint("deepseek-ai/DeepSeek-V4-Flash")["index_total_size_bytes"]
    assert count.checkpoint_bytes == published


def test_flash_totals_match_the_model_card() -> None:
    """Model card: 284B total, 13B active (rounded to the billion)."""
    count = count_deepseek_v4(deepseek_v4_shape(_flash()["config"]))
    assert round(count.total / 1e9) == 284
    assert int(count.active / 1e9) == 13


def test_dspark_stages_are_outside_the_count() -> None:
    """0731's index holds three DSpark stages capplan does not count: its total is larger."""
    count = count_deepseek_v4(deepseek_v4_shape(_flash()["config"]))
    published = _checkpoint("deepseek-ai/DeepSeek-V4-Flash-0731")["index_total_size_bytes"]
    assert count.checkpoint_bytes < published


def test_published_config_is_refused_naming_the_kv_cache() -> None:
    """422 names the compressed/sliding/indexer cache and states the counted size."""
    config = _flash()["config"]
    with pytest.raises(UnsupportedArchitecture) as raised:
        architecture_from_config(config)
    count = count_deepseek_v4(deepseek_v4_shape(config))
    assert "DeepSeek-V4 compressed/sparse attention KV cache" in raised.value.feature
    assert f"{count.total:,} parameters" in raised.value.detail


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"q_lora_rank": None}, "q_lora_rank"),
        ({"compress_ratios": [0]}, "compress_ratios"),
        ({"compress_ratios": [0, 8]}, "compress_ratios"),
        ({"o_groups": 3}, "o_groups"),
        ({"num_key_value_heads": 4}, "num_key_value_heads"),
        ({"expert_dtype": "int4"}, "expert_dtype"),
        ({"num_experts_per_tok": 5}, "num_experts_per_tok"),
    ],
    ids=[
        "missing-q-lora",
        "short-ratios",
        "unknown-ratio",
        "groups-not-dividing-heads",
        "several-kv-heads",
        "unknown-expert-dtype",
        "more-active-than-experts",
    ],
)
def test_malformed_config_is_400_naming_the_field(changes: dict[str, Any], field: str) -> None:
    """A malformed DeepSeek-V4 config is InvalidConfig (400) on the key, before the 422."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config({**TINY, **changes})
    assert raised.value.field == field


@given(
    experts=st.integers(min_value=2, max_value=16),
    layers=st.integers(min_value=1, max_value=4),
    width=st.sampled_from([32, 64]),
)
def test_experts_are_three_matrices_each(experts: int, layers: int, width: int) -> None:
    """Each routed expert adds 3·d·f parameters and a gate row d per layer (a bias on non-hash
    layers); stored: ½ B per FP4 weight, 1 B per 32-wide scale, bf16 gate, fp32 bias."""
    config = {**TINY, "num_hidden_layers": layers, "compress_ratios": [0, 4, 128, 4]}
    config["moe_intermediate_size"] = width
    fewer = count_deepseek_v4(deepseek_v4_shape({**config, "n_routed_experts": experts}))
    more = count_deepseek_v4(deepseek_v4_shape({**config, "n_routed_experts": experts + 1}))
    d, f = TINY["hidden_size"], width
    unhashed = layers - 1  # num_hash_layers = 1
    assert more.total - fewer.total == layers * (3 * d * f + d) + unhashed
    scales = 2 * f * (d // 32) + d * (f // 32)  # w1, w3 (f x d) and w2 (d x f)
    assert (
        more.checkpoint_bytes - fewer.checkpoint_bytes
        == layers * (3 * d * f // 2 + scales + 2 * d) + 4 * unhashed
    )
