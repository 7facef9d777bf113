"""The hybrid KV allocator as vLLM lays it out, for the layer kinds of issue 16.

Every expected figure is hand arithmetic from vLLM's own rules:
``HybridAttentionMambaModelConfig.verify_and_update_config`` (attention block raised until
one page holds a state, in multiples of 16 tokens, 64 for MLA), ``get_kv_cache_groups``
(group size, padding layers, ``UniformTypeKVCacheSpecs``), ``_report_kv_cache_config``
(tokens = blocks // groups · block) and the DSA indexer cache (``DeepseekV32IndexerCache``).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.catalog_files import load_engine_profiles
from service.domain.capacity import Deployment, sequence_kv_bytes
from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import (
    LayerKvSpec,
    allocator_tokens,
    fp8_ds_mla_bytes_per_token,
    group_page_bytes,
    hybrid_kv_groups,
    layer_kv_specs,
    unify_page_size,
)
from service.domain.precision import Precision
from tests.domain.reference import DEEPSEEK_V3, with_fields


def _state(nbytes: int) -> LayerKvSpec:
    return LayerKvSpec(kind="state", state_bytes_per_sequence=nbytes)


# Kimi-Linear-48B-A3B at TP2: KDA 32 heads x 128, conv 4, fp32 recurrent state; MLA latent
# 512 + 64 rope, bf16.  State: 3 x 3·4096/2 x 2 B + 16 x 128² x 4 B = 36,864 + 1,048,576.
KDA_STATE_TP2 = 3 * (3 * 4096 // 2) * 2 + 16 * 128 * 128 * 4
MLA_BF16 = (512 + 64) * 2
# Qwen3.6-35B-A3B at TP1: GDN conv 3 x (2·16·128 + 32·128) x 2 B, state 32 x 128² x 4 B;
# gated attention 2 KV heads x 256, fp8 KV: 2 x 2 x 256 x 1 B per token.
GDN_STATE_TP1 = 3 * (2 * 16 * 128 + 32 * 128) * 2 + 32 * 128 * 128 * 4
GQA_FP8 = 2 * 2 * 256


@pytest.mark.parametrize(
    ("attention", "state", "block"),
    [
        # 64 · ceil(1,085,440 / (64 · 1152)) = 64 · 15
        (LayerKvSpec(kind="mla", bytes_per_token=MLA_BF16), KDA_STATE_TP2, 960),
        # 16 · ceil(2,146,304 / (16 · 1024)) = 16 · 131
        (LayerKvSpec(kind="full", bytes_per_token=GQA_FP8), GDN_STATE_TP1, 2096),
    ],
    ids=["mla-kda-aligned-to-64", "gqa-gdn-aligned-to-16"],
)
def test_attention_block_grows_until_a_page_holds_a_state(
    attention: LayerKvSpec, state: int, block: int
) -> None:
    """MLA backends align the raised attention block to 64 tokens, others to 16."""
    blocks = unify_page_size((attention, _state(state)), 16)
    assert blocks[attention] == block


def test_kimi_linear_groups_pad_one_kda_layer_and_log_75840_tokens() -> None:
    """7 MLA + 20 KDA layers: groups of 7 (20 >= 1.25·7), 3 KDA groups with one padding
    layer; 2.30 GiB -> floor(2,469,606,195 / (7 · 960 · 1152)) = 319 blocks;
    tokens 319 // 4 · 960 = 75,840 (vllm#28228 logs 75,840)."""
    specs = (LayerKvSpec(kind="mla", bytes_per_token=MLA_BF16),) * 7 + (_state(KDA_STATE_TP2),) * 20
    groups = hybrid_kv_groups(specs, 16)
    assert [g.spec.kind for g in groups] == ["mla", "state", "state", "state"]
    assert {g.num_layers for g in groups} == {7}
    assert group_page_bytes(groups) == 7 * 960 * 1152
    blocks = round(2.30 * 2**30) // group_page_bytes(groups)
    assert blocks == 319
    assert allocator_tokens(blocks, groups) == 79 * 960


def test_qwen36_gdn_groups_of_ten_on_one_2096_token_page() -> None:
    """10 attention + 30 GDN layers: 4 groups of 10; a block id is 10 pages of 2096 · 1024 B
    (the GDN state of 2,146,304 B fills its page exactly)."""
    specs = (LayerKvSpec(kind="full", bytes_per_token=GQA_FP8),) * 10 + (
        _state(GDN_STATE_TP1),
    ) * 30
    groups = hybrid_kv_groups(specs, 16)
    assert len(groups) == 4
    assert group_page_bytes(groups) == 10 * 2096 * 1024 == 10 * GDN_STATE_TP1


DSA = with_fields(
    DEEPSEEK_V3,
    model_type="deepseek_v32",
    index_n_heads=64,
    index_head_dim=128,
    index_topk=2048,
)


@pytest.mark.parametrize(
    ("precision", "latent"),
    [(Precision.FP8, 512 + 512 // 128 * 4 + 64 * 2), (Precision.BF16, (512 + 64) * 2)],
    ids=["fp8-ds-mla-656", "bf16-latent-1152"],
)
def test_dsa_layers_cache_the_latent_and_the_indexer_key(precision: Precision, latent: int) -> None:
    """Each DeepSeek-V3.2 layer caches its latent (656 B fp8_ds_mla, or 1152 B bf16) and a
    132 B indexer key; both are full-attention specs of one block size, so vLLM keeps one
    group whose page is their sum over the 61 layers."""
    arch = architecture_from_config(DSA)
    specs = layer_kv_specs(arch, precision)
    assert sorted({s.bytes_per_token for s in specs}) == sorted({latent, 132})
    (group,) = hybrid_kv_groups(specs, 64)
    assert group.spec.bytes_per_token == 61 * (latent + 132)
    assert group_page_bytes((group,)) == 64 * 61 * (latent + 132)


def test_fp8_ds_mla_is_656_bytes_for_deepseek_v32() -> None:
    """512 fp8 latent + 4 fp32 scales (16 B) + 64 bf16 RoPE (128 B) = 656 B."""
    assert fp8_ds_mla_bytes_per_token(architecture_from_config(DSA)) == 656


def test_shared_indexer_layers_cache_no_indexer_key() -> None:
    """GLM-5 'shared' layers reuse an earlier top-k: only the 2 'full' layers add 132 B."""
    kinds = ["full", "full"] + ["shared"] * 59
    arch = architecture_from_config(with_fields(DSA, model_type="glm_moe_dsa", indexer_types=kinds))
    specs = layer_kv_specs(arch, Precision.BF16)
    assert sum(s.bytes_per_token == 132 for s in specs) == 2


@given(
    per_token=st.integers(min_value=64, max_value=8192),
    state=st.integers(min_value=1, max_value=8 * 2**20),
    mla=st.booleans(),
)
def test_a_raised_attention_page_always_holds_one_state(
    per_token: int, state: int, mla: bool
) -> None:
    """Whatever the widths, the unified attention page is >= the state and its block is a
    multiple of the backend alignment."""
    attention = LayerKvSpec(kind="mla" if mla else "full", bytes_per_token=per_token)
    block = unify_page_size((attention, _state(state)), 16)[attention]
    assert block * per_token >= state
    assert block % (64 if mla else 16) == 0


LLAMA4_8_LAYERS = {
    # Llama-4-Scout text shapes, 8 layers: 6 chunked (8192-token chunks) + 2 NoPE full.
    "model_type": "llama4_text",
    "hidden_size": 5120,
    "num_hidden_layers": 8,
    "num_attention_heads": 40,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "intermediate_size": 8192,
    "intermediate_size_mlp": 16384,
    "num_local_experts": 16,
    "num_experts_per_tok": 1,
    "attention_chunk_size": 8192,
    "max_position_embeddings": 10485760,
    "vocab_size": 202048,
}


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        # flag off: one group of 8 full layers, 131072 tokens x 8 x 512 B
        ("vllm-0.10.1", 131072 * 8 * 512),
        # flag on: 3 chunked groups + 1 full group of 2 layers, page 2 x 16 x 512 B;
        # full 8192 blocks + 3 x ceil((8192 + 8192) / 16) = 3072 chunked blocks
        ("vllm-0.19.0", (8192 + 3 * 1024) * 2 * 16 * 512),
    ],
    ids=["0.10.1-chunked-as-full", "0.19.0-chunked-hybrid"],
)
def test_llama4_chunked_layers_follow_the_releases_hybrid_default(
    profile: str, expected: int
) -> None:
    """VLLM_ALLOW_CHUNKED_LOCAL_ATTN_WITH_HYBRID_KV_CACHE was off from vllm#21761 (0.10.1):
    chunked layers then cache the whole context; on again in later releases."""
    arch = architecture_from_config(LLAMA4_8_LAYERS)
    deployment = Deployment(gpu_memory_bytes=80 * 2**30, tensor_parallel=8, gpu_name="H100")
    engine = load_engine_profiles().get(profile)
    assert sequence_kv_bytes(arch, deployment, engine, 131072, 131072) == expected
