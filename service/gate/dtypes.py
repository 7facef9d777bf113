"""Precision spellings of manifests and ``vllm serve`` flags, mapped to the API's dtype names."""

from __future__ import annotations

from collections.abc import Mapping

#: ``--dtype`` / manifest ``dtype``: vLLM spellings plus the API's quantised weight dtypes.
WEIGHT_DTYPES: Mapping[str, str] = {
    "auto": "auto",
    "bf16": "bf16",
    "bfloat16": "bf16",
    "fp16": "fp16",
    "float16": "fp16",
    "half": "fp16",
    "fp32": "fp32",
    "float32": "fp32",
    "float": "fp32",
    "fp8": "fp8",
    "int8": "int8",
    "int4": "int4",
    "mxfp4": "mxfp4",
}

#: ``--kv-cache-dtype``: vLLM's choices, mapped to what the KV arithmetic distinguishes.
KV_CACHE_DTYPES: Mapping[str, str] = {
    "auto": "auto",
    "bf16": "bf16",
    "bfloat16": "bf16",
    "fp16": "fp16",
    "float16": "fp16",
    "fp8": "fp8",
    "fp8_e4m3": "fp8",
    "fp8_e5m2": "fp8",
}

#: ``--quantization`` methods and the weight format they store; "auto" means the
#: checkpoint's own ``quantization_config`` decides (pre-quantised checkpoints).
QUANTIZATION_METHODS: Mapping[str, str] = {
    "fp8": "fp8",
    "fbgemm_fp8": "fp8",
    "ptpc_fp8": "fp8",
    "experts_int8": "int8",
    "awq": "int4",
    "awq_marlin": "int4",
    "gptq": "int4",
    "gptq_marlin": "int4",
    "gptq_marlin_24": "int4",
    "gptq_bitblas": "int4",
    "marlin": "int4",
    "bitblas": "int4",
    "bitsandbytes": "int4",
    "moe_wna16": "int4",
    "auto-round": "int4",
    "mxfp4": "mxfp4",
    "compressed-tensors": "auto",
    "modelopt": "auto",
    "quark": "auto",
    "gguf": "auto",
}


def _lookup(table: Mapping[str, str], value: str, what: str) -> str:
    key = value.strip().lower()
    if key not in table:
        raise ValueError(f"unknown {what} '{value}'; expected one of: {', '.join(table)}")
    return table[key]


def parse_dtype(value: str) -> str:
    """The weight format a ``--dtype`` value stores (``auto``: the checkpoint's)."""
    return _lookup(WEIGHT_DTYPES, value, "dtype")


def parse_kv_cache_dtype(value: str) -> str:
    """The KV cache format for a ``--kv-cache-dtype`` value."""
    return _lookup(KV_CACHE_DTYPES, value, "KV cache dtype")


def parse_quantization(value: str) -> str:
    """The weight format a ``--quantization`` method stores (``auto``: the checkpoint says)."""
    return _lookup(QUANTIZATION_METHODS, value, "quantization method")


def weight_dtype(dtype: str, quantization: str | None) -> str:
    """The stored weight format: the quantisation method's when it names one, else ``dtype``'s."""
    base = parse_dtype(dtype)
    if quantization is None:
        return base
    quantized = parse_quantization(quantization)
    return base if quantized == "auto" else quantized
