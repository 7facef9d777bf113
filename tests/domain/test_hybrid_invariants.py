"""Invariants over random hybrid configs: counts add up, state splits cleanly across ranks."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from service.domain.weights import weight_memory

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def qwen_next_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Random Gated DeltaNet / attention hybrids (n_v a multiple of n_k), with or without MoE."""
    key_heads = draw(st.sampled_from([1, 2, 4, 8]))
    config: dict[str, Any] = {
        "model_type": "qwen3_next",
        "hidden_size": draw(st.sampled_from([64, 128, 256])),
        "num_hidden_layers": draw(st.integers(1, 12)),
        "num_attention_heads": 4,
        "num_key_value_heads": draw(st.sampled_from([1, 2, 4])),
        "head_dim": draw(st.sampled_from([16, 32, 64])),
        "intermediate_size": draw(st.sampled_from([128, 256])),
        "vocab_size": draw(st.integers(10, 5000)),
        "linear_num_key_heads": key_heads,
        "linear_num_value_heads": key_heads * draw(st.sampled_from([1, 2, 4])),
        "linear_key_head_dim": draw(st.sampled_from([16, 32])),
        "linear_value_head_dim": draw(st.sampled_from([16, 32])),
        "linear_conv_kernel_dim": draw(st.sampled_from([2, 4])),
        "full_attention_interval": draw(st.integers(1, 4)),
    }
    if draw(st.booleans()):
        config |= {
            "num_experts": draw(st.sampled_from([4, 8])),
            "num_experts_per_tok": 2,
            "moe_intermediate_size": 32,
            "shared_expert_intermediate_size": draw(st.sampled_from([0, 32])),
        }
    return config


@st.composite
def nemotron_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Random Nemotron-H block patterns over Mamba2, attention and MLP blocks."""
    pattern = "".join(draw(st.lists(st.sampled_from("M*-"), min_size=1, max_size=16)))
    heads = draw(st.sampled_from([4, 8, 16]))
    return {
        "model_type": "nemotron_h",
        "hidden_size": draw(st.sampled_from([64, 128])),
        "num_hidden_layers": len(pattern),
        "hybrid_override_pattern": pattern,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 32,
        "intermediate_size": 128,
        "vocab_size": draw(st.integers(10, 5000)),
        "mamba_num_heads": heads,
        "mamba_head_dim": draw(st.sampled_from([8, 16])),
        "n_groups": draw(st.sampled_from([g for g in (1, 2, 4) if heads % g == 0])),
        "ssm_state_size": draw(st.sampled_from([8, 16])),
        "conv_kernel": 4,
    }


hybrid_configs = st.one_of(qwen_next_configs(), nemotron_configs())


@SETTINGS
@given(hybrid_configs)
def test_every_layer_is_attention_state_or_mlp_only(config: dict[str, Any]) -> None:
    """Attention, state and mixer-free layers partition the layers."""
    arch = architecture_from_config(config)
    mixer_free = arch.num_layers - len(arch.attention_layers) - len(arch.state_layers)
    assert mixer_free >= 0
    assert mixer_free == sum(1 for kind in arch.mixers if kind.value == "none")


@SETTINGS
@given(hybrid_configs)
def test_breakdown_sums_to_the_total_and_bf16_is_two_bytes_each(config: dict[str, Any]) -> None:
    """No parameter lost or doubled, and one bf16 GPU holds exactly 2 bytes per parameter."""
    arch = architecture_from_config(config)
    counted = count_parameters(arch)
    assert counted.breakdown.total == counted.total
    memory = weight_memory(arch, counted, Precision.BF16, 1, 1)
    assert memory.total_bytes == memory.per_gpu_bytes == 2 * counted.total


@SETTINGS
@given(hybrid_configs, st.sampled_from([1, 2, 4]))
def test_state_per_rank_never_grows_with_tensor_parallelism(
    config: dict[str, Any], tensor_parallel: int
) -> None:
    """Each rank holds at most the unsplit state, and all ranks together at least all of it."""
    state = architecture_from_config(config).state
    if state is None:
        return
    for elements in (state.conv_elements, state.state_elements):
        per_rank = elements(tensor_parallel)
        assert per_rank <= elements(1) <= tensor_parallel * per_rank
