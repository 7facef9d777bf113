"""Test models: Llama-3.2-1B's real config with safetensors shapes that sum to its exact total."""

from __future__ import annotations

import copy
from typing import Any

from tests.domain.reference import reference_models

LLAMA_1B_ID = "meta-llama/Llama-3.2-1B"
LLAMA_1B_TOTAL = 1_235_814_400
REPO = "capplan-test/llama-3.2-1b"
"""Not a seed id, so the catalog sync at app start-up never owns it."""

SHA_1 = "1" * 40
SHA_2 = "2" * 40

MAMBA_CONFIG: dict[str, Any] = {
    "architectures": ["MambaForCausalLM"],
    "model_type": "mamba",
    "hidden_size": 768,
    "num_hidden_layers": 24,
    "state_size": 16,
    "vocab_size": 50280,
}


def llama_1b_config() -> dict[str, Any]:
    """meta-llama/Llama-3.2-1B's config.json from catalog/reference/models.json (a copy)."""
    [entry] = [m for m in reference_models() if m["repo_id"] == LLAMA_1B_ID]
    assert entry["total_params"] == LLAMA_1B_TOTAL
    return copy.deepcopy(entry["config"])


def llama_tensors(config: dict[str, Any], dtype: str = "BF16") -> dict[str, tuple[str, list[int]]]:
    """The tensors a llama checkpoint stores for ``config`` (tied embeddings stored once)."""
    d, f, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or d // heads
    kv = config.get("num_key_value_heads", heads) * head_dim
    tensors = {"model.embed_tokens.weight": (dtype, [vocab, d])}
    for i in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{i}"
        shapes = {
            "self_attn.q_proj": [heads * head_dim, d],
            "self_attn.k_proj": [kv, d],
            "self_attn.v_proj": [kv, d],
            "self_attn.o_proj": [d, heads * head_dim],
            "mlp.gate_proj": [f, d],
            "mlp.up_proj": [f, d],
            "mlp.down_proj": [d, f],
            "input_layernorm": [d],
            "post_attention_layernorm": [d],
        }
        tensors.update({f"{prefix}.{name}.weight": (dtype, s) for name, s in shapes.items()})
    tensors["model.norm.weight"] = (dtype, [d])
    if not config.get("tie_word_embeddings", False):
        tensors["lm_head.weight"] = (dtype, [vocab, d])
    return tensors
