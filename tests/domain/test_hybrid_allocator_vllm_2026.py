"""vLLM's 2026 hybrid-allocator rules for linear-attention state, one table per rule.

Every expected figure is hand arithmetic from published shapes and vLLM's source:
``MambaSpec.max_memory_usage_bytes`` (``align``: 2 state blocks + 1 per speculative token,
else 1 + 1 per speculative token), ``gated_delta_net_state_shape`` (conv rows
``k − 1 + num_spec``), MTP draft layers in the KV groups, and ``get_kv_cache_capacity``
("GPU KV cache size" = ``int(max_concurrency · max_model_len)``).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.catalog_files import load_engine_profiles
from service.domain.capacity import Deployment, kv_layout
from service.domain.engines.profile import engine_catalog_from_document
from service.domain.engines.vllm_v1 import logged_kv_tokens, state_blocks
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import (
    LayerKvSpec,
    concurrency_tokens,
    group_blocks_per_sequence,
    hybrid_kv_groups,
    layer_kv_specs,
    state_blocks_per_sequence,
)
from service.domain.precision import Precision

ENGINES = load_engine_profiles()


def _layer_types(n: int) -> list[str]:
    return ["full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(n)]


# Published Qwen3.6-27B text shapes (64 layers, 16 full-attention, 4 KV heads of 256; GDN
# 16 key / 48 value heads of 128, conv 4, fp32 recurrent state; one MTP layer).
QWEN36_27B = {
    "model_type": "qwen3_5_text",
    "dtype": "float16",
    "hidden_size": 5120,
    "intermediate_size": 17408,
    "num_hidden_layers": 64,
    "num_attention_heads": 24,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "layer_types": _layer_types(64),
    "linear_conv_kernel_dim": 4,
    "linear_key_head_dim": 128,
    "linear_value_head_dim": 128,
    "linear_num_key_heads": 16,
    "linear_num_value_heads": 48,
    "mamba_ssm_dtype": "float32",
    "vocab_size": 248320,
    "max_position_embeddings": 262144,
    "mtp_num_hidden_layers": 1,
}


@pytest.mark.parametrize(
    ("mode", "speculative", "blocks"),
    [("none", 0, 1), ("align", 0, 2), ("none", 3, 4), ("align", 3, 5)],
    ids=["none", "align", "none-mtp3", "align-mtp3"],
)
def test_state_blocks_per_sequence_by_cache_mode(mode: str, speculative: int, blocks: int) -> None:
    """``align`` keeps the previous block's state too; each speculative token adds a block."""
    assert state_blocks_per_sequence(mode, speculative) == blocks


def test_all_mode_is_refused_not_guessed() -> None:
    """``all`` (a state per block of context) is not modelled: an error, not a guess."""
    with pytest.raises(ValueError, match="all"):
        state_blocks_per_sequence("all")


@pytest.mark.parametrize(
    ("speculative", "state_bytes"),
    [
        # conv 3 x (2·16·128 + 48·128)/2 x 2 B + recurrent 24 x 128² x 4 B
        (0, 3 * 5120 * 2 + 24 * 128 * 128 * 4),
        # conv rows 3 + 3 speculative tokens
        (3, 6 * 5120 * 2 + 24 * 128 * 128 * 4),
    ],
    ids=["no-speculation", "mtp3-conv-rows"],
)
def test_gdn_conv_state_grows_by_one_row_per_speculative_token(
    speculative: int, state_bytes: int
) -> None:
    """Qwen3.6-27B at TP2: the conv state keeps ``k − 1 + num_spec`` rows."""
    arch = architecture_from_config(QWEN36_27B)
    specs = layer_kv_specs(arch, Precision.FP8, 2, speculative_tokens=speculative)
    assert {s.state_bytes_per_sequence for s in specs if s.kind == "state"} == {state_bytes}


@pytest.mark.parametrize(
    ("speculative", "full_layers"), [(0, 16), (3, 17)], ids=["plain", "mtp-draft-layer"]
)
def test_mtp_draft_layer_caches_like_a_full_attention_layer(
    speculative: int, full_layers: int
) -> None:
    """With MTP drafting, the one draft layer joins the full-attention layers (fp8, TP2:
    2 KV heads x 256 x 2 x 1 B = 1024 B per token)."""
    arch = architecture_from_config(QWEN36_27B)
    specs = layer_kv_specs(arch, Precision.FP8, 2, speculative_tokens=speculative)
    full = [s for s in specs if s.kind == "full"]
    assert len(full) == full_layers
    assert {s.bytes_per_token for s in full} == {1024}


def test_qwen36_27b_mtp3_log_reproduced_token_for_token() -> None:
    """club-3090#487 (TP2, fp8 KV, 262,144, prefix caching, MTP 3): state 1,634,304 B ->
    block 16 · ceil(1,634,304 / 16,384) = 1600; 17 full + 48 GDN -> groups of 17 (1 full,
    3 GDN); 10.85 GiB // (17 · 1600 · 1024) = 418 blocks; per request ceil(262144 / 1600)
    = 164 + 3 · (2 + 3) = 179; int(418 / 179 · 262144) = 612,157 (the log's figure)."""
    arch = architecture_from_config(QWEN36_27B)
    deployment = Deployment(
        gpu_memory_bytes=0,
        tensor_parallel=2,
        kv_precision=Precision.FP8,
        max_model_len=262144,
        prefix_caching=True,
        num_speculative_tokens=3,
    )
    profile = ENGINES.get("vllm-0.21.0")
    layout = kv_layout(arch, deployment, profile, 262144)
    assert [g.num_layers for g in layout.groups] == [17, 17, 17, 17]
    assert {g.block_tokens for g in layout.groups if g.spec.kind == "full"} == {1600}
    assert layout.block_bytes == 17 * 1600 * 1024
    blocks = layout.num_blocks(round(10.85 * 2**30))
    assert blocks == 418
    assert layout.sequence_bytes(262144) == 179 * layout.block_bytes
    assert logged_kv_tokens(profile, layout.groups, blocks, 262144, 8192) == 612_157


@pytest.mark.parametrize(
    ("profile", "tokens"),
    [
        # pool: 300 // 4 groups · 2096
        ("vllm-0.19.0", 75 * 2096),
        # concurrency: int(300 / (63 + 3 · 2) · 131072)
        ("vllm-0.24.0", 569_878),
    ],
    ids=["0.19-pool", "0.24-concurrency"],
)
def test_logged_kv_tokens_follow_the_release(profile: str, tokens: int) -> None:
    """Qwen3.6-35B-A3B-shaped groups (10 full + 30 GDN, 2096-token blocks), 300 blocks,
    131,072 context, align mode: what each release prints as "GPU KV cache size"."""
    full = LayerKvSpec(kind="full", bytes_per_token=1024)
    state = LayerKvSpec(kind="state", state_bytes_per_sequence=2_146_304, state_blocks=2)
    groups = hybrid_kv_groups((full,) * 10 + (state,) * 30, 16)
    assert logged_kv_tokens(ENGINES.get(profile), groups, 300, 131072, 8192) == tokens


@pytest.mark.parametrize(
    ("profile", "prefix_caching", "blocks"),
    [
        ("vllm-0.19.0", True, 1),
        ("vllm-0.21.0", True, 2),
        ("vllm-0.24.0", True, 2),
        ("vllm-0.24.0", False, 1),
        ("vllm-0.24.0", None, 1),
    ],
    ids=["0.19-none", "0.21-align", "0.24-align", "0.24-no-prefix-caching", "0.24-default"],
)
def test_state_blocks_follow_the_release_and_prefix_caching(
    profile: str, prefix_caching: bool | None, blocks: int
) -> None:
    """The mode is data of the profile; without prefix caching it is ``none``."""
    arch = architecture_from_config(QWEN36_27B)
    deployment = Deployment(gpu_memory_bytes=0, prefix_caching=prefix_caching)
    assert state_blocks(arch, ENGINES.get(profile), deployment) == blocks


def test_a_profile_with_an_unmodelled_cache_mode_is_refused() -> None:
    """``engines.yaml`` naming a mode capplan does not model fails to load."""
    document = {
        "default": "vllm-9.0.0",
        "engines": [
            {
                "id": "vllm-9.0.0",
                "name": "vllm",
                "version": "9.0.0",
                "kind": "vllm-v1",
                "mtp_shares_lm_head": True,
                "mamba_cache_mode_prefix_caching": "all",
            }
        ],
    }
    with pytest.raises(ValueError, match="mamba_cache_mode"):
        engine_catalog_from_document(document)


@given(
    blocks=st.integers(min_value=0, max_value=100_000),
    context=st.integers(min_value=1, max_value=1_048_576),
    state_blocks_=st.integers(min_value=1, max_value=8),
)
def test_concurrency_tokens_never_exceed_the_pool(
    blocks: int, context: int, state_blocks_: int
) -> None:
    """``int(concurrency · max_model_len)`` is at most the pool's tokens: a request's blocks
    cover its context in the attention group alone."""
    full = LayerKvSpec(kind="full", bytes_per_token=1024)
    state = LayerKvSpec(kind="state", state_bytes_per_sequence=1000, state_blocks=state_blocks_)
    groups = hybrid_kv_groups((full,) * 4 + (state,) * 12, 16)
    block = groups[0].block_tokens
    assert group_blocks_per_sequence(groups[1], context, 0) == state_blocks_
    assert concurrency_tokens(blocks, groups, context, 0) <= blocks * block
