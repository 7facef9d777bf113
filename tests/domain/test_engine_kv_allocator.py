"""vLLM V1's hybrid KV allocator as kv_cache.py lays it out: groups, padding, page sizes.

Hand arithmetic from ``vllm/v1/core/kv_cache_utils.py`` (``get_kv_cache_groups``,
``_get_kv_cache_groups_uniform_page_size``, ``get_num_blocks``) and
``vllm/v1/kv_cache_interface.py`` (``SlidingWindowSpec.max_memory_usage_bytes``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.architecture import Architecture
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import (
    KvCacheGroup,
    LayerKvSpec,
    allocator_blocks,
    allocator_tokens,
    blocks_per_sequence,
    group_page_bytes,
    hybrid_kv_groups,
    layer_groups,
    layer_kv_specs,
    unify_page_size,
)
from service.domain.precision import Precision
from tests.domain.reference import GPT_OSS_20B, arch

FULL = LayerKvSpec(kind="full", bytes_per_token=4096)
SLIDING = LayerKvSpec(kind="sliding", bytes_per_token=4096, window_tokens=1024)


def groups_of(*counts: tuple[LayerKvSpec, int]) -> tuple[KvCacheGroup, ...]:
    specs = tuple(spec for spec, n in counts for _ in range(n))
    return hybrid_kv_groups(specs, 16)


def test_uniform_model_is_one_group_of_every_layer() -> None:
    """Llama-3.1-8B: 32 full layers, one group; a block is 32 layers x 16 tokens x 4 KiB."""
    groups = hybrid_kv_groups(layer_kv_specs(arch("llama3-8b"), Precision.BF16), 16)
    assert [(g.spec.kind, g.num_layers) for g in groups] == [("full", 32)]
    assert group_page_bytes(groups) == 32 * 16 * 4096


def test_equal_halves_make_two_groups_and_tokens_divide_by_them() -> None:
    """Gemma-2 style 23 sliding + 23 full: two groups of 23; "GPU KV cache size" is
    num_blocks // 2 x 16 (the 0.19.0 gemma-2-27b log: 58,672 tokens from 20.59 GiB)."""
    groups = groups_of((SLIDING, 23), (FULL, 23))
    assert sorted(g.num_layers for g in groups) == [23, 23]
    blocks = allocator_blocks(23 * 16 * 4096 * 1000 + 5, groups)
    assert blocks == 1000
    assert allocator_tokens(blocks, groups) == 500 * 16


@pytest.mark.parametrize(
    ("full", "sliding", "sizes"),
    [(5, 3, [3, 3, 3]), (10, 9, [10, 10]), (40, 8, [8, 8, 8, 8, 8, 8])],
    ids=["pad-one-layer", "within-1.25x-uses-largest", "ratio-5"],
)
def test_group_size_is_the_smallest_count_unless_within_a_quarter(
    full: int, sliding: int, sizes: list[int]
) -> None:
    """group_size = min count, or max count when max < 1.25 x min; the last group of a kind
    is padded to group_size (vLLM's "Add N padding layers" warning)."""
    groups = groups_of((FULL, full), (SLIDING, sliding))
    assert sorted(g.num_layers for g in groups) == sizes


def test_pages_are_unified_by_growing_the_smaller_block() -> None:
    """Two attention kinds of 1 KiB and 2 KiB per token: the 1 KiB one pages 32 tokens."""
    small = LayerKvSpec(kind="full", bytes_per_token=1024)
    large = LayerKvSpec(kind="sliding", bytes_per_token=2048, window_tokens=512)
    assert unify_page_size((small, large), 16) == {small: 32, large: 16}


def test_attention_block_grows_to_hold_one_mamba_state() -> None:
    """A 1,000,000-byte state beside 4 KiB/token attention: block = 16 x ceil(1e6 / 64 KiB)
    = 256 tokens (HybridAttentionMambaModelConfig); the state page pads to 1 MiB."""
    state = LayerKvSpec(kind="state", state_bytes_per_sequence=1_000_000)
    blocks = unify_page_size((FULL, state), 16)
    assert blocks[FULL] == 256
    groups = groups_of((FULL, 4), (state, 4))
    assert group_page_bytes(groups) == 4 * 256 * 4096


def test_a_state_layer_takes_one_block_whatever_the_context() -> None:
    """Mamba / linear attention: one page per sequence, at 1 token or 1M."""
    state = LayerKvSpec(kind="state", state_bytes_per_sequence=1_000_000)
    group = KvCacheGroup(spec=state, num_layers=1, block_tokens=1)
    assert blocks_per_sequence((group,), 1, 2048) == 1
    assert blocks_per_sequence((group,), 1_000_000, 2048) == 1


def test_gpt_oss_sliding_group_holds_window_plus_a_chunk_and_one_block() -> None:
    """gpt-oss-20b at 131,072 tokens, chunk 8,192: full group ceil(131072/16) = 8,192 blocks;
    the 128-token window group ceil((127 + 8192)/16) + 1 = 521 blocks."""
    groups = hybrid_kv_groups(layer_kv_specs(arch_of(GPT_OSS_20B), Precision.BF16), 16)
    assert sorted(g.num_layers for g in groups) == [12, 12]
    assert blocks_per_sequence(groups, 131_072, 8192) == 8192 + 521


def test_without_the_hybrid_allocator_sliding_layers_page_like_full_ones() -> None:
    """disable_hybrid_kv_cache_manager: one group; a sequence pages its whole context."""
    specs = layer_kv_specs(arch_of(GPT_OSS_20B), Precision.BF16)
    groups = hybrid_kv_groups(specs, 16, hybrid=False)
    assert [g.num_layers for g in groups] == [24]
    assert blocks_per_sequence(groups, 131_072, 8192) == 8192


def test_v0_layout_counts_layers_without_padding() -> None:
    """vLLM V0: a block spans every layer, grouped only by spec (5 full + 3 sliding)."""
    specs = (FULL,) * 5 + (SLIDING,) * 3
    assert sorted(g.num_layers for g in layer_groups(specs, 16)) == [3, 5]


def test_mla_caches_the_latent_in_every_layer() -> None:
    """DeepSeek-V2-Lite: 27 layers of (512 + 64) x 2 B; one block = 27 x 16 x 1,152 B."""
    specs = layer_kv_specs(arch("deepseek-v2-lite"), Precision.BF16)
    assert {s.kind for s in specs} == {"mla"}
    assert group_page_bytes(hybrid_kv_groups(specs, 16)) == 27 * 16 * 1152


def test_pipeline_stage_specs_cover_only_its_layers() -> None:
    """layers=range(16, 32): the second stage of Llama-3.1-8B caches 16 layers."""
    assert len(layer_kv_specs(arch("llama3-8b"), Precision.BF16, 1, range(16, 32))) == 16


def arch_of(config: dict[str, Any]) -> Architecture:
    """An inline config as its Architecture."""
    return architecture_from_config(config)


@settings(max_examples=200, deadline=None)
@given(
    full=st.integers(1, 64),
    sliding=st.integers(1, 64),
    window=st.integers(1, 8192),
)
def test_groups_hold_every_layer_with_under_one_group_of_padding(
    full: int, sliding: int, window: int
) -> None:
    """Each kind's groups cover its layers, padded by less than one group."""
    windowed = LayerKvSpec(kind="sliding", bytes_per_token=4096, window_tokens=window)
    groups = groups_of((FULL, full), (windowed, sliding))
    size = groups[0].num_layers
    assert all(g.num_layers == size for g in groups)
    for spec, count in ((FULL, full), (windowed, sliding)):
        held = sum(g.num_layers for g in groups if g.spec == spec)
        assert 0 <= held - count < size


@settings(max_examples=200, deadline=None)
@given(
    window=st.integers(1, 65_536),
    context=st.integers(1, 300_000),
    more=st.integers(0, 100_000),
    chunk=st.sampled_from([512, 2048, 8192]),
)
def test_sliding_pages_never_exceed_full_ones_nor_shrink_with_context(
    window: int, context: int, more: int, chunk: int
) -> None:
    """A window group needs at most the full group's blocks, and never fewer for more tokens."""
    windowed = KvCacheGroup(
        spec=LayerKvSpec(kind="sliding", bytes_per_token=4096, window_tokens=window),
        num_layers=1,
        block_tokens=16,
    )
    full = KvCacheGroup(spec=FULL, num_layers=1, block_tokens=16)
    assert blocks_per_sequence((windowed,), context, chunk) <= blocks_per_sequence(
        (full,), context, chunk
    )
    assert blocks_per_sequence((windowed,), context + more, chunk) >= blocks_per_sequence(
        (windowed,), context, chunk
    )
