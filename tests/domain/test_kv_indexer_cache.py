"""The DSA indexer's key cache counts in every per-token KV figure, not only in vLLM's allocator."""

from __future__ import annotations

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import (
    indexer_bytes_per_token,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    layer_kv_specs,
)
from service.domain.precision import Precision
from tests.domain.reference import DEEPSEEK_V3, with_fields

DSA = with_fields(
    DEEPSEEK_V3, model_type="deepseek_v32", index_n_heads=64, index_head_dim=128, index_topk=2048
)
GLM5_LIKE = with_fields(DSA, model_type="glm_moe_dsa", indexer_types=["full"] * 2 + ["shared"] * 59)
LATENT_BF16 = (512 + 64) * 2  # kv_lora_rank + qk_rope_head_dim, 2 bytes each


@pytest.mark.parametrize(
    ("config", "indexer_layers"), [(DSA, 61), (GLM5_LIKE, 2)], ids=["every-layer", "shared"]
)
def test_bf16_bytes_per_token_add_one_indexer_key_per_indexer_layer(
    config: dict[str, object], indexer_layers: int
) -> None:
    """61 MLA layers · 1,152 B latent + indexer layers · 132 B (fp8 key + 4 B scale)."""
    arch = architecture_from_config(config)
    assert indexer_bytes_per_token(arch) == indexer_layers * 132
    expected = 61 * LATENT_BF16 + indexer_layers * 132
    assert kv_cache_bytes_per_token(arch, Precision.BF16) == expected


def test_a_sequence_holds_its_indexer_keys_for_every_token() -> None:
    """1,000 tokens of DeepSeek-V3.2 in bf16: 1,000 · 61 · (1,152 + 132) B."""
    arch = architecture_from_config(DSA)
    assert kv_cache_bytes(arch, Precision.BF16, 1000) == 1000 * 61 * (LATENT_BF16 + 132)


def test_pipeline_stages_split_the_indexer_keys_with_their_layers() -> None:
    """GLM-5-like, PP2 (31 + 30 layers): both indexer layers sit in the first, busiest stage."""
    arch = architecture_from_config(GLM5_LIKE)
    assert kv_cache_bytes_per_token(arch, Precision.BF16, 1, 2) == 31 * LATENT_BF16 + 2 * 132


def test_generic_figure_agrees_with_the_allocator_specs() -> None:
    """The per-token sum equals the sum of vLLM's layer specs (latent and indexer layers)."""
    for config in (DSA, GLM5_LIKE):
        arch = architecture_from_config(config)
        specs = layer_kv_specs(arch, Precision.BF16)
        assert sum(spec.bytes_per_token for spec in specs) == kv_cache_bytes_per_token(
            arch, Precision.BF16
        )
