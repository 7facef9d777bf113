"""Families made explicit: aliases, per-family biases and norms, MTP and DSA indexers.

Each expected number is written out from the family's modelling code (file named per test).
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from tests.domain.reference import DEEPSEEK_V3, LLAMA_LIKE, with_fields

# Kimi-K2-Instruct shapes: a DeepSeek-V3 architecture (debaditc/kvfit models.json copy).
KIMI_K2: dict[str, Any] = with_fields(
    DEEPSEEK_V3,
    model_type="kimi_k2",
    num_attention_heads=64,
    num_key_value_heads=64,
    n_routed_experts=384,
    first_k_dense_replace=1,
    vocab_size=163840,
    max_position_embeddings=131072,
)
TINY = with_fields(
    LLAMA_LIKE,
    hidden_size=8,
    num_hidden_layers=1,
    num_attention_heads=2,
    num_key_value_heads=1,
    intermediate_size=16,
    vocab_size=10,
)


@pytest.mark.parametrize("alias", ["kimi_k2", "deepseek_v32", "glm_moe_dsa"])
def test_deepseek_v3_aliases_count_like_deepseek_v3(alias: str) -> None:
    """Kimi K2, DeepSeek-V3.2 and GLM-5 reuse DeepSeek-V3's layers (MLA, routed experts)."""
    as_alias = count_parameters(architecture_from_config(with_fields(KIMI_K2, model_type=alias)))
    as_v3 = count_parameters(
        architecture_from_config(with_fields(KIMI_K2, model_type="deepseek_v3"))
    )
    assert as_alias.total == as_v3.total


def test_kimi_k2_is_about_a_trillion_parameters_not_nine() -> None:
    """The old llama-like guess said 9.3 T; routed experts of 2,048 make it ~1.03 T."""
    total = count_parameters(architecture_from_config(KIMI_K2)).total
    assert 1.0e12 < total < 1.05e12


def test_dsa_indexer_adds_its_projections_to_every_layer() -> None:
    """DeepSeek-V3.2 Indexer (inference/model.py): wq_b 1536·64·128 + wk 7168·128 +
    k_norm 2·128 + weights_proj 7168·64 = 13,959,424 per layer, 61 layers."""
    dsa = with_fields(
        DEEPSEEK_V3,
        model_type="deepseek_v32",
        index_n_heads=64,
        index_head_dim=128,
        index_topk=2048,
    )
    arch = architecture_from_config(dsa)
    assert arch.indexer is not None
    assert arch.indexer.parameters_per_layer == 13_959_424
    delta = (
        count_parameters(arch).total - count_parameters(architecture_from_config(DEEPSEEK_V3)).total
    )
    assert delta == 61 * 13_959_424


def test_mtp_layers_are_counted_beside_the_total() -> None:
    """num_nextn_predict_layers=1 leaves the total alone and reports the MTP layer apart:
    one MoE decoder layer + enorm/hnorm 2d + eh_proj 2d² + head norm d + embed/head 2Vd."""
    base = count_parameters(architecture_from_config(DEEPSEEK_V3))
    with_mtp = count_parameters(
        architecture_from_config(with_fields(DEEPSEEK_V3, num_nextn_predict_layers=1))
    )
    d, vocab = 7168, 129280
    assert with_mtp.total == base.total
    assert with_mtp.mtp > 2 * vocab * d + 2 * d * d
    assert base.mtp == 0


def test_glm4_moe_biases_q_k_v_but_not_o() -> None:
    """modeling_glm4_moe.py: q/k/v_proj bias=attention_bias, o_proj bias=False;
    one layer with 2 heads × 4 and 1 KV head: biases 8 + 4 + 4 = 16."""
    cfg = with_fields(TINY, model_type="glm4_moe", attention_bias=True)
    assert count_parameters(architecture_from_config(cfg)).breakdown.biases == 16


def test_olmo2_qk_norms_span_all_heads() -> None:
    """modeling_olmo2.py: q_norm over H·h = 8, k_norm over H_kv·h = 4; plus two layer norms
    (post-attention, post-feedforward) 2·8 and the final norm 8: 12 + 16 + 8 = 36."""
    cfg = with_fields(TINY, model_type="olmo2")
    assert count_parameters(architecture_from_config(cfg)).breakdown.norms == 36


def test_starcoder2_plain_mlp_with_biases_and_layer_norms() -> None:
    """modeling_starcoder2.py (use_bias): q/k/v/o biases 8+4+4+8, c_fc/c_proj 2·8·16 with
    biases 16+8, LayerNorms 2·(2·8) + final 2·8, tied embedding 10·8.
    Attention 8·(8+4+4) + 8·8 = 192; total 80 + 192 + 256 + 48 + 48 = 624."""
    cfg = with_fields(TINY, model_type="starcoder2", use_bias=True)
    counted = count_parameters(architecture_from_config(cfg))
    b = counted.breakdown
    assert (b.attention, b.mlp, b.biases, b.norms) == (192, 256, 48, 48)
    assert counted.total == 624


def test_seed_oss_output_bias_has_its_own_key() -> None:
    """modeling_seed_oss.py: attention_bias for q/k/v, attention_out_bias for o_proj."""
    cfg = with_fields(TINY, model_type="seed_oss", attention_bias=True, attention_out_bias=False)
    assert count_parameters(architecture_from_config(cfg)).breakdown.biases == 16


def test_smollm3_nope_layers_change_no_shape() -> None:
    """SmolLM3's no_rope_layers only switch RoPE off: the count is Llama's."""
    smol = with_fields(TINY, model_type="smollm3", no_rope_layers=[1])
    llama = with_fields(TINY, model_type="llama")
    assert (
        count_parameters(architecture_from_config(smol)).total
        == count_parameters(architecture_from_config(llama)).total
    )


LLAMA4_TEXT: dict[str, Any] = {
    # Llama-4-Scout text_config shapes (catalog/reference/models_2025.json), 8 layers.
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
    "interleave_moe_layer_step": 1,
    "attention_chunk_size": 8192,
    "max_position_embeddings": 10485760,
    "vocab_size": 202048,
}


def test_llama4_nope_layers_attend_fully_and_rope_layers_by_chunk() -> None:
    """Without no_rope_layers, every 4th layer is NoPE (full); the others cache one chunk."""
    layers = architecture_from_config(LLAMA4_TEXT).layer_attention
    kinds = [layer.kind.value for layer in layers]
    assert kinds == ["chunked", "chunked", "chunked", "full"] * 2
    assert {layer.window_tokens for layer in layers if layer.kind.value == "chunked"} == {8192}


def test_llama4_interleaves_moe_layers_with_dense_ones() -> None:
    """interleave_moe_layer_step 2 (Maverick): odd layers hold 16 experts + a shared expert,
    even layers a dense MLP of intermediate_size_mlp: 3·5120·16384 each."""
    arch = architecture_from_config(with_fields(LLAMA4_TEXT, interleave_moe_layer_step=2))
    assert arch.moe is not None
    assert arch.moe.moe_layers == (1, 3, 5, 7)
    assert arch.moe.num_shared_experts == 1
    assert count_parameters(arch).breakdown.mlp == 4 * 3 * 5120 * 16384


def test_llama4_no_rope_layers_of_the_wrong_length_are_invalid() -> None:
    """A per-layer list that does not cover the layers is a 400 naming it."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(with_fields(LLAMA4_TEXT, no_rope_layers=[1, 0]))
    assert raised.value.field == "no_rope_layers"


def test_minimax_m2_counts_per_layer_qk_norms_and_routing_bias() -> None:
    """modeling_minimax_m2.py, d=8, 1 layer, 2 heads × 4, 1 KV head, 4 experts of 16:
    embed+head 160, q/k/v/o 192, q/k norms 8+4, layer norms 16 + final 8,
    experts 4·3·8·16 = 1536, router 32 + e_score_correction_bias 4 -> 1960."""
    cfg = with_fields(
        TINY,
        model_type="minimax_m2",
        num_local_experts=4,
        num_experts_per_tok=2,
        use_qk_norm=True,
        qk_norm_type="per_layer",
        use_routing_bias=True,
        tie_word_embeddings=False,
    )
    assert count_parameters(architecture_from_config(cfg)).total == 1960


def test_minimax_lightning_layers_are_refused() -> None:
    """attn_type_list 0 marks MiniMax-01 lightning-attention layers: refused by name."""
    cfg = with_fields(
        TINY,
        model_type="minimax_m2",
        num_local_experts=4,
        num_experts_per_tok=2,
        attn_type_list=[0],
    )
    with pytest.raises(UnsupportedArchitecture, match="lightning"):
        architecture_from_config(cfg)


def test_ernie45_moe_layers_shared_experts_and_biases() -> None:
    """modular_ernie4_5_moe.py, d=8, 2 layers (MoE from index 1), 4 experts of 4, one shared
    MLP of 4, use_bias: embed/head 160 + head bias 10; q/k/v/o 2·192, their biases 2·24;
    norms 2·16 + 8; layer 0 dense 3·8·16 + biases 40; layer 1 experts 4·(96 + 16),
    gate 32 + correction bias 4, shared 96 + biases 16 -> 1662."""
    cfg = with_fields(
        TINY,
        model_type="ernie4_5_moe",
        num_hidden_layers=2,
        moe_num_experts=4,
        moe_k=2,
        moe_intermediate_size=4,
        moe_num_shared_experts=1,
        moe_layer_start_index=1,
        moe_layer_end_index=1,
        moe_layer_interval=1,
        use_bias=True,
        tie_word_embeddings=False,
    )
    arch = architecture_from_config(cfg)
    assert arch.moe is not None
    assert arch.moe.moe_layers == (1,)
    assert count_parameters(arch).total == 1662


def test_dsa_indexer_caches_an_fp8_key_and_scale_per_token() -> None:
    """DeepSeek-V3.2 index_head_dim 128: 128 fp8 bytes + one 4-byte scale = 132 B/token/layer."""
    dsa = with_fields(
        DEEPSEEK_V3,
        model_type="deepseek_v32",
        index_n_heads=64,
        index_head_dim=128,
        index_topk=2048,
    )
    indexer = architecture_from_config(dsa).indexer
    assert indexer is not None
    assert indexer.cache_bytes_per_token == 132


def test_declared_mtp_layers_are_noted_as_speculative_only() -> None:
    """The notes say MTP layers are apart from the total and loaded only for speculation."""
    arch = architecture_from_config(with_fields(DEEPSEEK_V3, num_nextn_predict_layers=1))
    assert any("speculative decoding" in note for note in arch.notes)


def test_shared_indexer_layers_carry_no_indexer_weights() -> None:
    """GLM-5 indexer_types: 'shared' layers reuse an earlier layer's top-k and hold no indexer;
    2 'full' of 61 layers keep 2 · 13,959,424 indexer parameters."""
    kinds = ["full", "full"] + ["shared"] * 59
    dsa = with_fields(
        DEEPSEEK_V3,
        model_type="glm_moe_dsa",
        index_n_heads=64,
        index_head_dim=128,
        index_topk=2048,
        indexer_types=kinds,
    )
    base = count_parameters(architecture_from_config(DEEPSEEK_V3)).total
    assert count_parameters(architecture_from_config(dsa)).total - base == 2 * 13_959_424


def test_indexer_types_of_the_wrong_length_are_invalid() -> None:
    """A per-layer indexer list that does not cover the layers is a 400 naming it."""
    dsa = with_fields(
        DEEPSEEK_V3,
        model_type="glm_moe_dsa",
        index_n_heads=64,
        index_head_dim=128,
        index_topk=2048,
        indexer_types=["full"],
    )
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(dsa)
    assert raised.value.field == "indexer_types"


def test_mlp_layer_types_place_the_experts() -> None:
    """GLM-5 mlp_layer_types: the 'sparse' layers hold experts, whatever first_k_dense says."""
    kinds = ["dense"] * 5 + ["sparse"] * 56
    arch = architecture_from_config(
        with_fields(DEEPSEEK_V3, model_type="glm_moe_dsa", mlp_layer_types=kinds)
    )
    assert arch.moe is not None
    assert arch.moe.moe_layers == tuple(range(5, 61))


HUNYUAN = with_fields(
    TINY,
    model_type="hunyuan_v1_moe",
    num_experts=4,
    moe_topk=2,
    moe_intermediate_size=4,
    use_mixed_mlp_moe=True,
    num_shared_expert=1,
    use_qk_norm=True,
    tie_word_embeddings=False,
)


def test_hunyuan_moe_counts_experts_shared_mlp_and_qk_norms() -> None:
    """vLLM hunyuan_v1.py, d=8, 1 layer: embed + head 160, final norm 8; q/k/v/o
    64 + 32 + 32 + 64, query/key_layernorm 2·4, norms 16; gate 4·8, experts 4·3·8·4,
    shared MLP (intermediate_size 16 · 1) 3·8·16 -> 1184."""
    assert count_parameters(architecture_from_config(HUNYUAN)).total == 1184


def test_hunyuan_reads_uniform_per_layer_lists_and_attention_head_dim() -> None:
    """moe_topk / num_experts / moe_intermediate_size may be per-layer lists (Hunyuan-A13B);
    attention_head_dim stands for head_dim."""
    listed = with_fields(
        HUNYUAN,
        num_experts=[4],
        moe_topk=[2],
        moe_intermediate_size=[4],
        num_shared_expert=[1],
        attention_head_dim=4,
    )
    arch = architecture_from_config(listed)
    assert arch.head_dim == 4
    assert arch.moe is not None
    assert arch.moe.experts_per_token == 2
    assert count_parameters(arch).total == 1184


def test_hunyuan_refuses_differing_layer_shapes_and_cla() -> None:
    two = with_fields(HUNYUAN, num_hidden_layers=2, moe_intermediate_size=[4, 8])
    with pytest.raises(UnsupportedArchitecture, match="moe_intermediate_size"):
        architecture_from_config(two)
    with pytest.raises(InvalidConfig, match="moe_topk"):
        architecture_from_config(with_fields(HUNYUAN, moe_topk=[2, 2]))
    with pytest.raises(UnsupportedArchitecture, match="use_cla"):
        architecture_from_config(with_fields(HUNYUAN, use_cla=True, cla_share_factor=2))


def test_hunyuan_dense_is_a_gated_mlp_with_qk_norms() -> None:
    """hunyuan_v1_dense: attention 192 + q/k norms 8 + norms 16 + MLP 3·8·16 = 600 per layer,
    embed + head 160, final norm 8 -> 768."""
    dense = with_fields(TINY, model_type="hunyuan_v1_dense", use_qk_norm=True, num_experts=1)
    assert count_parameters(architecture_from_config(dense)).total == 768


def test_gpt_oss_attention_is_biased_unless_the_config_says_otherwise() -> None:
    """configuration_gpt_oss.py: attention_bias defaults to True, so a config without the key
    still has q/k/v/o biases (d=8, H=2, KV=1, h=4: 8 + 4 + 4 + 8 = 24 per layer)."""
    oss = with_fields(TINY, model_type="gpt_oss", num_local_experts=2, num_experts_per_tok=1)
    without_key = count_parameters(architecture_from_config(oss)).total
    no_bias = with_fields(oss, attention_bias=False)
    assert without_key - count_parameters(architecture_from_config(no_bias)).total == 24
