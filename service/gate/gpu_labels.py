"""The GPU a Kubernetes pod asks for: node labels mapped to catalog GPU ids.

Label keys read, in this order: ``nvidia.com/gpu.product`` (NVIDIA GPU Feature Discovery:
the ``nvidia-smi`` product name with spaces as dashes, e.g. ``NVIDIA-H100-80GB-HBM3``,
``Tesla-T4``; see the GPU Operator's GFD docs), ``cloud.google.com/gke-accelerator`` (GKE:
``nvidia-l4``, ``nvidia-h100-80gb``, ``nvidia-tesla-a100``; see GKE's "GPUs" docs) and
``amd.com/gpu.product-name`` (AMD GPU operator labeller). A label matching no rule, or a MIG
slice, is an error naming the label: capplan models whole GPUs only.
"""

from __future__ import annotations

import re

GPU_LABEL_KEYS = (
    "nvidia.com/gpu.product",
    "cloud.google.com/gke-accelerator",
    "amd.com/gpu.product-name",
)

#: (tokens that must all appear, catalog id or None for "known, but not in the catalog");
#: the first matching rule wins, so the more specific come first.
_RULES: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("gb300",), "gb300"),
    (("gb200",), "gb200"),
    (("b300",), "b300"),
    (("b200",), "b200"),
    (("h200", "nvl"), None),
    (("h200",), "h200-sxm"),
    (("h100", "nvl"), "h100-nvl"),
    (("h100", "pcie"), "h100-pcie"),
    (("h100",), "h100-sxm"),
    (("a100", "pcie", "80gb"), "a100-pcie-80gb"),
    (("a100", "pcie"), None),
    (("a100", "80gb"), "a100-sxm-80gb"),
    (("a100",), "a100-sxm-40gb"),
    (("l40s",), "l40s"),
    (("l40",), "l40"),
    (("l4",), "l4"),
    (("a10g",), "a10g"),
    (("a10",), "a10"),
    (("t4",), "t4"),
    (("v100", "32gb"), "v100-sxm-32gb"),
    (("4090",), "rtx-4090"),
    (("3090",), "rtx-3090"),
    (("mi325x",), "mi325x"),
    (("mi300x",), "mi300x"),
    (("mi250x",), "mi250x"),
    (("gaudi3",), "gaudi3"),
    (("gaudi2",), "gaudi2"),
)


class UnknownGpuLabel(ValueError):
    """A node label names a GPU capplan cannot map to its catalog."""


def gpu_from_label(value: str) -> str:
    """The catalog id for a GPU product label value, or :class:`UnknownGpuLabel`."""
    tokens = set(re.split(r"[-_ .]+", value.strip().lower()))
    if any(token.startswith("mig") for token in tokens):
        raise UnknownGpuLabel(f"'{value}' is a MIG slice; capplan models whole GPUs (use --gpu)")
    for needed, gpu in _RULES:
        if tokens.issuperset(needed):
            if gpu is None:
                break
            return gpu
    raise UnknownGpuLabel(f"'{value}' is not a GPU in capplan's catalog (use --gpu ID)")
