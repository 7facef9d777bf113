"""The KV cache: bytes per token, per GPU under TP and PP, and for a context with windows."""

from __future__ import annotations

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.kv_cache import (
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    kv_cache_bytes_per_token_per_layer,
    kv_heads_per_gpu,
    kv_layer_groups,
    pipeline_stages,
)
from service.domain.precision import Precision
from tests.domain.reference import GEMMA3_1B, GPT_OSS_20B, arch, config, with_fields

GIB = 2**30


@pytest.mark.parametrize(
    ("model", "bytes_per_token"),
    [
        ("llama2-7b", 524_288),  # 2·32·32·128·2 (Baseten "524288 bytes/token")
        ("llama2-13b", 819_200),  # 2·40·40·128·2 (vLLM paper: OPT-13B shape, "800 KB")
        ("llama3-8b", 131_072),  # 2·32·8·128·2
        ("llama3-70b", 327_680),  # 2·80·8·128·2
        ("gemma-2b", 18_432),  # 2·18·1·256·2 (MQA, h = 256)
        ("gemma-7b", 458_752),  # 2·28·16·256·2
        ("qwen2-7b", 57_344),  # 2·28·4·128·2
        ("deepseek-v3", 70_272),  # MLA: 61·(512 + 64)·2, not ×2 for K and V
    ],
    ids=lambda value: value if isinstance(value, str) else f"{value:,}B",
)
def test_bf16_kv_bytes_per_token(model: str, bytes_per_token: int) -> None:
    """2·L·H_kv·h·2 bytes per token (sheet §2.3, §7); MLA caches the latent + rope key."""
    assert kv_cache_bytes_per_token(arch(model), Precision.BF16) == bytes_per_token


@pytest.mark.parametrize(
    ("model", "bytes_per_token"),
    [("llama3-8b", 65_536), ("llama2-7b", 262_144), ("deepseek-v3", 35_136)],
    ids=["llama3-8b", "llama2-7b", "deepseek-v3-mla"],
)
def test_fp8_kv_halves_the_bytes(model: str, bytes_per_token: int) -> None:
    """An fp8 cache stores one byte per element: half of the bf16 figure."""
    assert kv_cache_bytes_per_token(arch(model), Precision.FP8) == bytes_per_token


@pytest.mark.parametrize(
    ("tp", "bytes_per_token"),
    [(1, 327_680), (2, 163_840), (4, 81_920), (8, 40_960), (16, 40_960)],
    ids=["tp1", "tp2", "tp4", "tp8", "tp16-replicated"],
)
def test_tensor_parallel_splits_kv_heads_until_one_per_gpu(tp: int, bytes_per_token: int) -> None:
    """Llama-3-70B (8 KV heads): per-GPU KV = 2·80·max(1, 8 // t)·128·2 (vLLM
    get_num_kv_heads). At TP16 each GPU still holds one whole head: 40,960, as at TP8 (sheet
    §5 pitfall 17; the sheet's §3.2 "TP16 → 20,480" contradicts its own max(1, ·) rule)."""
    assert kv_cache_bytes_per_token(arch("llama3-70b"), Precision.BF16, tp) == bytes_per_token


def test_kv_heads_are_replicated_not_fractional() -> None:
    """kv_heads_per_gpu never drops below one head."""
    assert kv_heads_per_gpu(arch("llama3-70b"), 16) == 1
    assert kv_heads_per_gpu(arch("gemma-2b"), 8) == 1


def test_mla_caches_one_latent_head_per_gpu() -> None:
    """MLA's latent is one "head" on every rank, whatever the TP degree (vLLM)."""
    assert kv_heads_per_gpu(arch("deepseek-v3"), 8) == 1


@pytest.mark.parametrize("tp", [1, 2, 8, 16], ids=["tp1", "tp2", "tp8", "tp16"])
def test_mla_latent_is_not_divided_by_tp(tp: int) -> None:
    """DeepSeek-V3 caches 70,272 B/token on every rank: the latent is replicated."""
    assert kv_cache_bytes_per_token(arch("deepseek-v3"), Precision.BF16, tp) == 70_272


def test_pipeline_stage_caches_only_its_layers() -> None:
    """Llama-3-8B PP4: each stage holds 8 of the 32 layers: 131,072 / 4 = 32,768 B/token."""
    assert kv_cache_bytes_per_token(arch("llama3-8b"), Precision.BF16, 1, 4) == 32_768


def test_pipeline_stages_are_contiguous_and_cover_every_layer() -> None:
    """80 layers over 3 stages: ceil(80/3) = 27, 27, 26."""
    stages = list(pipeline_stages(arch("llama3-70b"), 3))
    assert [len(stage) for stage in stages] == [27, 27, 26]
    assert [i for stage in stages for i in stage] == list(range(80))


@pytest.mark.parametrize(
    ("model", "tokens", "expected"),
    [
        ("llama2-70b", 1024, 335_544_320),  # Databricks Table 3: 0.3125 GiB at batch 1
        ("llama2-7b", 4096, 2 * GIB),  # NVIDIA: "1 * 4096 * 2 * 32 * 4096 * 2 bytes ~2 GB"
        ("llama2-13b", 2048, 1_677_721_600),  # vLLM paper: "as much as 1.6 GB" per request
    ],
    ids=["llama2-70b-1k-databricks", "llama2-7b-4k-nvidia", "llama2-13b-2k-vllm-paper"],
)
def test_kv_bytes_of_one_sequence(model: str, tokens: int, expected: int) -> None:
    """A full-attention sequence of T tokens holds T · bytes_per_token."""
    assert kv_cache_bytes(arch(model), Precision.BF16, tokens) == expected


def test_sliding_window_caps_mistral_v01_at_its_window() -> None:
    """Mistral-7B-v0.1 at 32,768 tokens: 4096·131,072 = 536,870,912 B, 8× less than the
    4,294,967,296 B of an unwindowed cache (arXiv:2310.06825 reports the 8× saving)."""
    windowed = arch("mistral-7b-v0.1")
    unwindowed = architecture_from_config(
        with_fields(config("mistral-7b-v0.1"), sliding_window_size=None)
    )
    assert kv_cache_bytes(windowed, Precision.BF16, 32_768) == 536_870_912
    assert kv_cache_bytes(unwindowed, Precision.BF16, 32_768) == 4_294_967_296


def test_sliding_window_does_not_cap_short_contexts() -> None:
    """Below its window a sliding layer holds every token: Mistral at 1,000 = 1,000·131,072."""
    assert kv_cache_bytes(arch("mistral-7b-v0.1"), Precision.BF16, 1000) == 131_072_000


def test_hybrid_local_global_cache() -> None:
    """Gemma-2-2B at 8,192 tokens: 13 global layers hold 8,192, 13 local layers 4,096;
    2·4·256·2 = 4,096 B per token per layer → (13·8192 + 13·4096)·4096 = 654,311,424 B."""
    assert kv_cache_bytes(arch("gemma-2-2b"), Precision.BF16, 8192) == 654_311_424


def test_per_layer_bytes_are_the_per_token_figure_over_layers() -> None:
    """One layer of Llama-3-8B: 2·8·128·2 = 4,096 B per token (vLLM page 65,536 / 16)."""
    assert kv_cache_bytes_per_token_per_layer(arch("llama3-8b"), Precision.BF16) == 4096


def test_layer_groups_separate_full_and_sliding_layers() -> None:
    """Gemma 3 1B: 4 global layers and 22 local (512) layers, 2·1·256·2 = 1,024 B each."""
    groups = kv_layer_groups(architecture_from_config(GEMMA3_1B), Precision.BF16)
    summary = {(g.kind, g.window_tokens): (g.num_layers, g.bytes_per_token) for g in groups}
    assert summary == {("full", None): (4, 4 * 1024), ("sliding", 512): (22, 22 * 1024)}


def test_layer_groups_of_mla_are_one_latent_group() -> None:
    """DeepSeek-V3: one MLA group of 61 layers caching 1,152 B each per token."""
    groups = kv_layer_groups(arch("deepseek-v3"), Precision.BF16)
    assert [(g.kind, g.num_layers, g.bytes_per_token) for g in groups] == [("mla", 61, 61 * 1152)]


def test_gpt_oss_sliding_layers_hold_128_tokens() -> None:
    """gpt-oss-20b at 10,000 tokens: 12 full layers · 10,000 + 12 sliding · 128 tokens,
    2·8·64·2 = 2,048 B per token per layer → 248,905,728 B."""
    model = architecture_from_config(GPT_OSS_20B)
    assert kv_cache_bytes(model, Precision.BF16, 10_000) == (12 * 10_000 + 12 * 128) * 2048
