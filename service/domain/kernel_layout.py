"""Padding an engine adds to weights when it lays them out for its kernels.

vLLM's MXFP4 MoE (``vllm/model_executor/layers/quantization/mxfp4.py``,
``Mxfp4MoEMethod.create_weights``, read at commit 007d500) allocates the expert weights
with the hidden size and the per-rank intermediate size rounded up to the kernel's
alignment, so a checkpoint whose sizes are not multiples occupies more memory than its
safetensors. The alignment depends on the backend vLLM picks for the GPU:

======================  ==============  ===================  =============================
backend                 hidden          intermediate / rank  picked on
======================  ==============  ===================  =============================
Marlin (weight-only)    round_up 256    round_up 128         sm80-89, sm120, and sm90
                                                             without triton_kernels
FlashInfer SM100        round_up 256    round_up 256         sm100 family with FlashInfer
Triton (OAI kernels)    unchanged       round_up 64          sm90 with triton_kernels
======================  ==============  ===================  =============================

On Hopper the gpt-oss-120b log (vLLM docs PR 13666's quoted start-up log: ``Model loading
took 65.9651 GiB`` on one H100) is the Marlin layout: 2880 -> 3072 hidden and 2880 -> 2944
intermediate give 65.90 GiB, the Triton layout would give the checkpoint's 60.8 GiB. The
Marlin row is therefore used for sm90; its weight-only warning
(``marlin_utils_fp4.py``: "Your GPU does not have native support for FP4 computation")
appears in public H100 logs of gpt-oss.
"""

from __future__ import annotations

import math

import msgspec

MXFP4_MARLIN_SOURCE = "vllm mxfp4.py Mxfp4MoEMethod.create_weights (MARLIN): hidden 256, I 128"
MXFP4_FLASHINFER_SOURCE = "vllm mxfp4.py create_weights (SM100_FI_*): hidden 256, I 256"


class ExpertPadding(msgspec.Struct, frozen=True, kw_only=True):
    """Routed-expert matrices are allocated at padded sizes: hidden rounded up to
    ``hidden_multiple``, the per-rank intermediate size to ``intermediate_multiple``."""

    hidden_multiple: int
    intermediate_multiple: int
    backend: str
    source: str

    def padded(self, hidden: int, intermediate_per_rank: int) -> tuple[int, int]:
        """``(round_up(hidden), round_up(intermediate_per_rank))``."""
        return (
            _round_up(hidden, self.hidden_multiple),
            _round_up(intermediate_per_rank, self.intermediate_multiple),
        )


def _round_up(value: int, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


def vllm_mxfp4_expert_padding(compute_capability: str | None) -> ExpertPadding | None:
    """The MXFP4 MoE layout vLLM uses on a GPU of ``compute_capability`` (``"9.0"``).

    None when the capability is unknown (no padding is assumed) or the GPU is not NVIDIA.
    """
    if compute_capability is None:
        return None
    try:
        major = int(compute_capability.split(".")[0])
    except ValueError:
        return None
    if major == 10:
        return ExpertPadding(
            hidden_multiple=256,
            intermediate_multiple=256,
            backend="flashinfer-sm100",
            source=MXFP4_FLASHINFER_SOURCE,
        )
    if major >= 8:
        return ExpertPadding(
            hidden_multiple=256,
            intermediate_multiple=128,
            backend="marlin",
            source=MXFP4_MARLIN_SOURCE,
        )
    return None
