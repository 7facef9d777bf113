"""Map the names used in published measurements onto catalog models and GPUs.

Measurements name models loosely ("Llama 3.3 70B", "meta-llama/Meta-Llama-3-8B") and GPUs
by marketing name ("H100 80GB HBM3"). Each maps onto a catalog ``config.json`` (with the
measured checkpoint's precision applied separately) or, where the catalog has no copy, onto
a config built from published values, said in :data:`CONSTRUCTED`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from service.db.seed_loader import load_catalog
from service.domain.architecture import Architecture
from service.domain.gpu import GpuSpec
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import ParameterCount, count_parameters
from service.validation.reference import CATALOG_DIR

LLAMA_2_13B: dict[str, Any] = {
    "model_type": "llama",
    "num_hidden_layers": 40,
    "hidden_size": 5120,
    "num_attention_heads": 40,
    "num_key_value_heads": 40,
    "intermediate_size": 13824,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
}
"""Llama-2-13B from the Llama 2 paper (Touvron et al. 2023, Table 1) and the HF config values:
40 layers, hidden 5120, 40 heads (MHA), intermediate 13824, vocab 32000. Not in the catalog."""

LLAMA_2_70B: dict[str, Any] = {
    "model_type": "llama",
    "num_hidden_layers": 80,
    "hidden_size": 8192,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "intermediate_size": 28672,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
}
"""Llama-2-70B from the Llama 2 paper (Touvron et al. 2023, Table 1: 70B with GQA) and the HF
config values: 80 layers, hidden 8192, 64 heads over 8 KV heads, intermediate 28672, vocab
32000. Not in the catalog."""

CONSTRUCTED: Mapping[str, dict[str, Any]] = {
    "meta-llama/Llama-2-13b-hf": LLAMA_2_13B,
    "meta-llama/Llama-2-70b-hf": LLAMA_2_70B,
}

MODEL_ALIASES: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    "Llama 3.3 70B": ("meta-llama/Llama-3.3-70B-Instruct", {}),
    "Llama 3.1 405B": ("meta-llama/Llama-3.1-405B", {}),
    "Llama 3.1 8B": ("meta-llama/Llama-3.1-8B", {}),
    "Qwen3-235B-A22B": ("Qwen/Qwen3-235B-A22B-FP8", {}),
    "Qwen3-30B-A3B": ("Qwen/Qwen3-30B-A3B", {}),
    "meta-llama/Llama-2-7B-hf": ("meta-llama/Llama-2-7b-hf", {}),
    "meta-llama/Llama-2-13B-hf": ("meta-llama/Llama-2-13b-hf", {}),
    "meta-llama/Llama-2-70B-hf": ("meta-llama/Llama-2-70b-hf", {}),
    "meta-llama/Llama-3.1-8B-Instruct": ("meta-llama/Llama-3.1-8B", {}),
    # R1 is a post-training of V3: the same config.json shapes (671B, MLA, 256 experts).
    "DeepSeek-R1-0528": ("deepseek-ai/DeepSeek-V3", {}),
    "DeepSeek-V3-0324": ("deepseek-ai/DeepSeek-V3", {}),
    "DeepSeek-R1": ("deepseek-ai/DeepSeek-V3", {}),
    "gpt-oss-120b": ("openai/gpt-oss-120b", {}),
    # DeepSeek-V3.1 keeps V3's config.json shapes (DeepseekV3ForCausalLM, 671B, MLA).
    "DeepSeek-V3.1": ("deepseek-ai/DeepSeek-V3", {}),
    # Qwen3-Coder-Next: qwen3_next with Qwen3-Next-80B-A3B's shapes (48 layers, 512 experts,
    # top-10, moe_intermediate_size 512, d 2048, its config.json on the Hub).
    "Qwen3-Coder-Next": ("Qwen/Qwen3-Next-80B-A3B-Instruct", {}),
    # Same shapes as Llama-3.1-8B; its config.json has 8192 positions and no RoPE scaling.
    "meta-llama/Meta-Llama-3-8B": (
        "meta-llama/Llama-3.1-8B",
        {"max_position_embeddings": 8192, "rope_scaling": None},
    ),
}
"""Published name -> (catalog repo id or :data:`CONSTRUCTED` key, config overrides)."""

GPU_ALIASES: tuple[tuple[str, str], ...] = (
    (r"\bGB200\b", "gb200"),
    (r"\bB200\b", "b200"),
    (r"\bB300\b", "b300"),
    (r"\bH200\b", "h200-sxm"),
    (r"\bH20\b", "h20"),
    (r"\bH100\b", "h100-sxm"),
    (r"\bA100 80GB\b", "a100-sxm-80gb"),
    (r"\bMI300X\b", "mi300x"),
    (r"\bMI355X\b", "mi355x"),
    (r"\bMI325X\b", "mi325x"),
    (r"\bL40S\b", "l40s"),
    (r"\bRTX 4090\b", "rtx-4090"),
    (r"\bRTX 3090\b", "rtx-3090"),
)
"""First match wins (GB200 before B200). An 'H100 80GB HBM3' is the SXM part."""


class Model(msgspec.Struct, frozen=True, kw_only=True):
    repo_id: str
    architecture: Architecture
    parameters: ParameterCount
    constructed: bool


class UnknownName(LookupError):
    """A published model or GPU name that maps onto nothing in the catalog."""


@functools.lru_cache(maxsize=4)
def _catalog(catalog_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, GpuSpec]]:
    catalog = load_catalog(catalog_dir)
    fields = set(GpuSpec.__struct_fields__)
    gpus = {
        seed.id: GpuSpec(**{k: v for k, v in msgspec.structs.asdict(seed).items() if k in fields})
        for seed in catalog.gpus
    }
    configs = {entry.seed.repo_id: dict(entry.seed.config) for entry in catalog.models}
    return configs, gpus


def resolve_model(name: str, catalog_dir: Path = CATALOG_DIR) -> Model:
    """The architecture and parameter count behind a published model name."""
    configs, _ = _catalog(catalog_dir)
    repo_id, overrides = MODEL_ALIASES.get(name, (name, {}))
    if repo_id not in CONSTRUCTED and repo_id not in configs:
        repo_id = _loose_match(repo_id, [*CONSTRUCTED, *configs])
    if repo_id in CONSTRUCTED:
        config, constructed = CONSTRUCTED[repo_id], True
    elif repo_id in configs:
        config, constructed = configs[repo_id], False
    else:
        raise UnknownName(f"model '{name}' maps onto no catalog entry ('{repo_id}')")
    merged = {**config, **overrides}
    arch = architecture_from_config({k: v for k, v in merged.items() if v is not None})
    return Model(
        repo_id=repo_id,
        architecture=arch,
        parameters=count_parameters(arch),
        constructed=constructed,
    )


_VARIANT = re.compile(r"[-_](instruct|chat|it|hf|base)$")


def _loose_key(repo_id: str) -> str:
    """``org/Name-Instruct`` -> ``name``: no org, case or fine-tune suffix (same shapes)."""
    key = repo_id.split("/")[-1].lower()
    while (stripped := _VARIANT.sub("", key)) != key:
        key = stripped
    return key


def _loose_match(repo_id: str, known: list[str]) -> str:
    wanted = _loose_key(repo_id)
    matches = sorted(k for k in known if _loose_key(k) == wanted)
    return matches[0] if matches else repo_id


def resolve_gpu(name: str, catalog_dir: Path = CATALOG_DIR) -> GpuSpec:
    """The catalog GPU behind a published name such as 'H100 80GB HBM3'."""
    _, gpus = _catalog(catalog_dir)
    for pattern, gpu_id in GPU_ALIASES:
        if re.search(pattern, name):
            return gpus[gpu_id]
    raise UnknownName(f"GPU '{name}' maps onto no catalog entry")
