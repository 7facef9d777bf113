"""The dtype a deployment serves the model in, and so what ``auto`` weights and KV become.

vLLM settles one model dtype per deployment (``--dtype``; ``ModelConfig.dtype``): an explicit
``half``/``bfloat16``/``float32`` is taken as asked, ``auto`` is resolved from the checkpoint's
``torch_dtype`` and the GPU by ``_resolve_auto_dtype`` (vllm-project/vllm
``vllm/config/model.py``, called from ``_get_and_verify_dtype``)::

    supported_dtypes = [dtype for dtype in current_platform.supported_dtypes
                        if _is_valid_dtype(model_type, dtype)]
    preferred_dtype = supported_dtypes[0]
    if config_dtype == torch.float32: config_dtype = preferred_dtype   # downcast fp32
    if config_dtype in supported_dtypes: return config_dtype
    logger.warning("Your device %s doesn't support %s. Falling back to %s for compatibility.")
    return preferred_dtype

``CudaPlatformBase.supported_dtypes`` (``vllm/platforms/cuda.py``) is ``[bfloat16, float16,
float32]`` from compute capability 8.0 and ``[float16, float32]`` below it ("Pascal, Volta and
Turing NVIDIA GPUs, BF16 is not supported"), so a bf16 checkpoint is served in fp16 on a T4 or
V100 (vllm#17265, merged 2025-04-27; releases before it refused ``auto`` there too, with
"Bfloat16 is only supported on GPUs with compute capability of at least 8.0"). An explicit
``--dtype bfloat16`` is still refused there (``CudaPlatformBase.check_if_supports_dtype``).

The KV cache's ``auto`` is that model dtype (``kv_cache_dtype_str_to_dtype``,
``vllm/utils/torch_utils.py``: ``return model_config.dtype``). Every question (plan,
max-batch, latency, frontier, the gate, Slack) reads both here: :func:`served_precision`.
"""

from __future__ import annotations

import msgspec

from service.domain.architecture import Architecture
from service.domain.gpu import GpuSpec
from service.domain.precision import Precision, parse_dtype

FP16_UNSTABLE_MODEL_TYPES = frozenset({"gemma2", "gemma3", "gemma3_text", "plamo2", "glm4"})
"""``_FLOAT16_NOT_SUPPORTED_MODELS`` (vllm ``vllm/config/model.py``): "Numerical instability.
Please use bfloat16 or float32 instead." ``auto`` never picks fp16 for these model types."""


def platform_dtypes(gpu: GpuSpec | None) -> tuple[Precision, ...]:
    """The dtypes vLLM runs a model in on ``gpu``, preferred first
    (``CudaPlatformBase.supported_dtypes``): bf16, fp16, fp32, or fp16, fp32 on a chip without
    bf16 (:meth:`GpuSpec.supports`; compute capability below 8.0). No GPU: a bf16 chip."""
    if gpu is None or gpu.supports(Precision.BF16):
        return (Precision.BF16, Precision.FP16, Precision.FP32)
    return (Precision.FP16, Precision.FP32)


def stored_dtype(arch: Architecture) -> Precision:
    """The checkpoint's own unquantised dtype (``torch_dtype``)."""
    return parse_dtype(arch.checkpoint_dtype)


def _resolve_auto(stored: Precision, supported: tuple[Precision, ...]) -> Precision:
    """vLLM's ``_resolve_auto_dtype`` over ``supported`` (preferred first): fp32 is downcast
    to the preferred dtype, a dtype the platform lacks falls back to it."""
    preferred = supported[0]
    if stored is Precision.FP32:
        stored = preferred
    return stored if stored in supported else preferred


def _valid_dtypes(arch: Architecture, gpu: GpuSpec | None) -> tuple[Precision, ...]:
    """The platform's dtypes less fp16 for :data:`FP16_UNSTABLE_MODEL_TYPES`
    (``_is_valid_dtype``)."""
    unstable = arch.model_type in FP16_UNSTABLE_MODEL_TYPES
    return tuple(p for p in platform_dtypes(gpu) if not (unstable and p is Precision.FP16))


def auto_model_dtype(arch: Architecture, gpu: GpuSpec | None = None) -> Precision:
    """``--dtype auto`` on ``gpu``: vLLM's ``_resolve_auto_dtype`` (module doc)."""
    return _resolve_auto(stored_dtype(arch), _valid_dtypes(arch, gpu))


def model_dtype(
    arch: Architecture, gpu: GpuSpec | None = None, weight_dtype: str = "auto"
) -> Precision:
    """The deployment's model dtype: a 16/32-bit ``weight_dtype`` is ``--dtype`` itself
    (``fp16`` is ``--dtype half``); ``auto`` and a quantised format (``--quantization``,
    ``--dtype`` left at auto) resolve as :func:`auto_model_dtype`."""
    if weight_dtype != "auto":
        requested = parse_dtype(weight_dtype)
        if not requested.is_quantized:
            return requested
    return auto_model_dtype(arch, gpu)


class ServedPrecision(msgspec.Struct, frozen=True, kw_only=True):
    """The weights and KV cache a question's dtypes come to on one GPU; ``note`` says why
    ``auto`` weights are not the checkpoint's own dtype (empty when they are)."""

    weights: Precision
    kv: Precision
    note: str = ""


def served_precision(
    arch: Architecture,
    gpu: GpuSpec | None = None,
    weight_dtype: str = "auto",
    kv_cache_dtype: str = "auto",
) -> ServedPrecision:
    """What ``weight_dtype`` and ``kv_cache_dtype`` become on ``gpu`` (module doc).

    Weights ``auto``: a quantised checkpoint's own format, else the model dtype (a bf16
    checkpoint on a chip without bf16 is served in fp16, with a note); an explicit format is
    taken as asked (``bf16`` on such a chip is then refused, as vLLM refuses
    ``--dtype bfloat16``). KV ``auto``: the model dtype."""
    model = model_dtype(arch, gpu, weight_dtype)
    kv = model if kv_cache_dtype == "auto" else parse_dtype(kv_cache_dtype)
    if weight_dtype != "auto":
        return ServedPrecision(weights=parse_dtype(weight_dtype), kv=kv)
    if arch.quantization is not None:
        return ServedPrecision(weights=parse_dtype(arch.quantization.weight_dtype), kv=kv)
    return ServedPrecision(weights=model, kv=kv, note=_cast_note(arch, gpu, model))


def _cast_note(arch: Architecture, gpu: GpuSpec | None, served: Precision) -> str:
    """Why ``auto`` serves the checkpoint in ``served`` rather than its own dtype ('' when
    it does not)."""
    stored = stored_dtype(arch)
    if served is stored:
        return ""
    reasons = []
    if stored is Precision.FP32:
        reasons.append("vLLM's --dtype auto downcasts fp32 checkpoints")
    elif gpu is not None and stored not in platform_dtypes(gpu):
        capability = gpu.compute_capability
        chip = f"{gpu.name} (compute capability {capability})" if capability else gpu.name
        reasons.append(
            f"{chip} has no {stored.value}: vLLM's --dtype auto falls back to {served.value} "
            "with a warning"
        )
    without_refusal = _resolve_auto(stored, platform_dtypes(gpu))  # fp16 left in
    if without_refusal is Precision.FP16 and served is not Precision.FP16:
        reasons.append(f"vLLM refuses fp16 for {arch.model_type} (numerical instability)")
    return (
        f"{stored.value} checkpoint served in {served.value} ({'; '.join(reasons)}), cast at load"
    )


def weight_execution(
    gpu: GpuSpec, weights: Precision, mxfp4_activations: Precision, cast_note: str = ""
) -> str:
    """How the chip runs ``weights`` (:meth:`GpuSpec.execution`), after ``cast_note``
    (:attr:`ServedPrecision.note`: why ``auto`` chose them) when there is one."""
    execution = gpu.execution(weights, mxfp4_activations).note
    return f"{cast_note}; {execution}" if cast_note else execution
