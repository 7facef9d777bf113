"""Shared inputs of the domain specs: reference configs, GPUs from the formula sheet, profiles.

Every expected number in these tests comes from an independent source: the formula sheet
(the team's inference-arithmetic notes, cited as "sheet §N"), the exact totals in
``catalog/reference/models.json`` (vendored public configs, each with its source), a published
config, or a hand calculation written out in the test.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from service.domain.architecture import Architecture
from service.domain.engine import EngineProfile
from service.domain.gpu import GpuSpec
from service.domain.hf_config import architecture_from_config
from service.domain.latency import Efficiency
from service.domain.parameters import ParameterCount, count_parameters

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT / "catalog" / "reference"
MODELS_JSON = REFERENCE_DIR / "models.json"
VLLM_MEMORY_JSON = REFERENCE_DIR / "vllm_memory.json"


def load_reference(path: Path) -> dict[str, Any]:
    """A file of ``catalog/reference``; a missing one fails the run, never skips."""
    if not path.is_file():
        pytest.fail(
            f"reference data {path} is missing: the domain oracles read catalog/reference/",
            pytrace=False,
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@functools.cache
def reference_models() -> list[dict[str, Any]]:
    """The 15 configs of models.json with their exact published parameter totals."""
    models: list[dict[str, Any]] = load_reference(MODELS_JSON)["models"]
    return models


# Short names used in the test tables -> models.json repo ids.
REFERENCE_NAMES = {
    "llama2-7b": "meta-llama/Llama-2-7b-hf",
    "llama3-8b": "meta-llama/Llama-3.1-8B",
    "llama3-70b": "meta-llama/Llama-3.1-70B",
    "llama3.2-1b": "meta-llama/Llama-3.2-1B",
    "mistral-7b-v0.1": "mistralai/Mistral-7B-v0.1",
    "mixtral-8x7b": "mistralai/Mixtral-8x7B-v0.1",
    "gemma-2b": "google/gemma-2b",
    "gemma-2-2b": "google/gemma-2-2b",
    "qwen2-7b": "Qwen/Qwen2-7B",
    "qwen3-0.6b": "Qwen/Qwen3-0.6B",
    "qwen3-30b-a3b": "Qwen/Qwen3-30B-A3B",
    "phi-3.5-mini": "microsoft/Phi-3.5-mini-instruct",
    "deepseek-v2-lite": "deepseek-ai/DeepSeek-V2-Lite",
    "gpt2": "openai-community/gpt2",
    "tinyllama-1.1b": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
}

# Models of the formula sheet that models.json does not carry, from their published configs.
LLAMA2_13B: dict[str, Any] = {
    "model_type": "llama",
    "vocab_size": 32000,
    "hidden_size": 5120,
    "num_hidden_layers": 40,
    "num_attention_heads": 40,
    "num_key_value_heads": 40,
    "intermediate_size": 13824,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
}
LLAMA2_70B: dict[str, Any] = {
    "model_type": "llama",
    "vocab_size": 32000,
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "intermediate_size": 28672,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
}
GEMMA_7B: dict[str, Any] = {
    # google/gemma-7b config.json: head_dim 256 although hidden/heads = 3072/16 = 192.
    "model_type": "gemma",
    "vocab_size": 256000,
    "hidden_size": 3072,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "head_dim": 256,
    "intermediate_size": 24576,
    "max_position_embeddings": 8192,
    "torch_dtype": "bfloat16",
}
DEEPSEEK_V3: dict[str, Any] = {
    # deepseek-ai/DeepSeek-V3 config.json (the fields that shape parameters and the cache).
    "model_type": "deepseek_v3",
    "vocab_size": 129280,
    "hidden_size": 7168,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_rope_head_dim": 64,
    "qk_nope_head_dim": 128,
    "v_head_dim": 128,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "moe_layer_freq": 1,
    "topk_method": "noaux_tc",
    "tie_word_embeddings": False,
    "max_position_embeddings": 163840,
    "torch_dtype": "bfloat16",
}
# google/gemma-3-1b-it config.json (text-only Gemma 3): 5 local layers per global one.
GEMMA3_1B: dict[str, Any] = {
    "model_type": "gemma3_text",
    "vocab_size": 262144,
    "hidden_size": 1152,
    "num_hidden_layers": 26,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 256,
    "intermediate_size": 6912,
    "max_position_embeddings": 32768,
    "sliding_window": 512,
    "sliding_window_pattern": 6,
    "torch_dtype": "bfloat16",
}

# openai/gpt-oss-20b config.json: explicit layer_types, 128-token window, mxfp4 experts.
GPT_OSS_20B: dict[str, Any] = {
    "model_type": "gpt_oss",
    "vocab_size": 201088,
    "hidden_size": 2880,
    "num_hidden_layers": 24,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "intermediate_size": 2880,
    "num_local_experts": 32,
    "num_experts_per_tok": 4,
    "experts_per_token": 4,
    "sliding_window": 128,
    "max_position_embeddings": 131072,
    "attention_bias": True,
    "tie_word_embeddings": False,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "quant_method": "mxfp4",
        "modules_to_not_convert": [
            "model.layers.*.self_attn",
            "model.layers.*.mlp.router",
            "model.embed_tokens",
            "lm_head",
        ],
    },
}

LLAMA_LIKE: dict[str, Any] = {
    "hidden_size": 512,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "intermediate_size": 1024,
    "vocab_size": 1000,
    "max_position_embeddings": 4096,
}


INLINE_CONFIGS = {
    "llama2-13b": LLAMA2_13B,
    "llama2-70b": LLAMA2_70B,
    "gemma-7b": GEMMA_7B,
    "deepseek-v3": DEEPSEEK_V3,
}

# models.json's Llama-2-7B preset says 2048 positions; Llama 2 was trained on 4096 (Llama 2
# paper §2.2, and Meta's own config.json). The sheet's Llama-2-7B capacity rows use 4096.
OVERRIDES: dict[str, dict[str, Any]] = {"llama2-7b": {"max_position_embeddings": 4096}}


def config(name: str) -> dict[str, Any]:
    """A fresh, mutable copy of a named model's config.json dict."""
    if name in INLINE_CONFIGS:
        return copy.deepcopy(INLINE_CONFIGS[name])
    by_repo = {m["repo_id"]: m["config"] for m in reference_models()}
    base = copy.deepcopy(by_repo[REFERENCE_NAMES[name]])
    base.update(OVERRIDES.get(name, {}))
    return base


@functools.cache
def arch(name: str) -> Architecture:
    """The normalised Architecture of a named model."""
    return architecture_from_config(config(name))


@functools.cache
def params(name: str) -> ParameterCount:
    """The ParameterCount of a named model."""
    return count_parameters(arch(name))


# GPUs as the formula sheet's §3 table describes them (dense peaks, decimal bandwidth). Its worked
# examples run matmuls at the datasheet peak, so these chips reach it (achievable = dense BF16;
# GpuSpec.matmul_efficiency and its use are tested on their own).
H100_BYTES = 85_520_809_984  # nvidia-smi 81,559 MiB on an H100 80GB HBM3 (sheet §3)
H200_BYTES = 150_109_880_320  # torch mem_get_info total on an H200 (sheet §6)
A100_80_BYTES = 80 * 2**30  # the A100 "80GB" is 80 GiB (sheet §5 pitfall 8)

H100 = GpuSpec(
    id="h100-sxm",
    name="H100 SXM",
    memory_bytes=H100_BYTES,
    memory_bandwidth_bytes_per_s=3.35e12,
    dense_tflops_bf16=989.0,
    achievable_tflops_bf16=989.0,
    dense_tflops_fp16=989.0,
    dense_tflops_fp8=1979.0,
    dense_tops_int8=1979.0,
    interconnect="nvlink4",
    interconnect_bandwidth_bytes_per_s=450e9,
    price_per_hour_usd=3.0,
)
H200 = GpuSpec(
    id="h200",
    name="H200",
    memory_bytes=H200_BYTES,
    memory_bandwidth_bytes_per_s=4.8e12,
    dense_tflops_bf16=989.0,
    achievable_tflops_bf16=989.0,
    dense_tflops_fp16=989.0,
    dense_tflops_fp8=1979.0,
    interconnect="nvlink4",
    interconnect_bandwidth_bytes_per_s=450e9,
    price_per_hour_usd=4.0,
)
A100_80 = GpuSpec(
    id="a100-80",
    name="A100 80GB",
    memory_bytes=A100_80_BYTES,
    memory_bandwidth_bytes_per_s=2.039e12,
    dense_tflops_bf16=312.0,
    achievable_tflops_bf16=312.0,
    dense_tflops_fp16=312.0,
    dense_tops_int8=624.0,
    interconnect="nvlink3",
    interconnect_bandwidth_bytes_per_s=300e9,
    price_per_hour_usd=1.8,
)
A10 = GpuSpec(
    id="a10",
    name="A10",
    memory_bytes=24 * 2**30,
    memory_bandwidth_bytes_per_s=600e9,
    dense_tflops_bf16=125.0,
    achievable_tflops_bf16=125.0,
    dense_tflops_fp16=125.0,
    price_per_hour_usd=0.75,
)
L4 = GpuSpec(
    id="l4",
    name="L4",
    memory_bytes=24 * 2**30,
    memory_bandwidth_bytes_per_s=300e9,
    dense_tflops_bf16=121.0,
    achievable_tflops_bf16=121.0,
    dense_tflops_fp16=121.0,
    dense_tflops_fp8=242.0,
    max_gpus_per_node=1,
    price_per_hour_usd=0.8,
)
T4_LIKE = GpuSpec(
    # Turing has no bf16 (the catalog's convention: dense_tflops_bf16 = 0).
    id="t4",
    name="T4",
    memory_bytes=16 * 2**30,
    memory_bandwidth_bytes_per_s=320e9,
    dense_tflops_bf16=0.0,
    dense_tflops_fp16=65.0,
    price_per_hour_usd=0.35,
)

ZERO_OVERHEAD = EngineProfile(
    # The sheet's §3.3 closed form: nothing but weights stands between usable memory and KV,
    # and no sequence cap below what the KV cache holds (the sampler term is 0, so the cap
    # changes no memory).
    name="zero-overhead",
    version="test",
    max_num_seqs=1 << 30,
    activation_bytes_per_token_width=0.0,
    sampler_bytes_per_logit=0.0,
    non_torch_bytes=0,
    nccl_bytes=0,
    cudagraph_bytes=0,
)

IDEAL = Efficiency(
    # MFU = MBU = 1 and no fixed costs: the sheet's §3.4/§3.5 rooflines.
    prefill_mfu=1.0,
    prefill_mbu=1.0,
    decode_mbu=1.0,
    decode_mfu=1.0,
    step_overhead_ms=0.0,
    all_reduce_latency_us=0.0,
)


def with_fields(base: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``fields`` set (None values delete the key)."""
    out = dict(base)
    for key, value in fields.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
