"""Measure prefill and decode step times of a Llama-shaped transformer on a real GPU.

A minimal engine-like forward pass written with PyTorch ops (bf16 matmuls, fused SDPA
attention with a KV cache, decode steps captured in CUDA graphs), over random weights of
a real architecture's shapes. It measures what the roofline's efficiency factors stand for
(achieved fractions of peak FLOP/s and memory bandwidth) on one GPU; it is not vLLM.

Usage (on a machine with a CUDA GPU)::

    python bench/gpu_roofline.py --out results.json

Writes JSON with the device, ``torch.cuda.mem_get_info()`` and one record per measurement.
Run it on CPU with ``--tiny`` to check the script itself.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

LLAMA_3_1_8B = {
    "name": "meta-llama/Llama-3.1-8B",
    "layers": 32,
    "hidden": 4096,
    "heads": 32,
    "kv_heads": 8,
    "head_dim": 128,
    "intermediate": 14336,
    "vocab": 128256,
}
LLAMA_3_2_1B = {
    "name": "meta-llama/Llama-3.2-1B",
    "layers": 16,
    "hidden": 2048,
    "heads": 32,
    "kv_heads": 8,
    "head_dim": 64,
    "intermediate": 8192,
    "vocab": 128256,
}
TINY = {
    "name": "tiny",
    "layers": 2,
    "hidden": 64,
    "heads": 4,
    "kv_heads": 2,
    "head_dim": 16,
    "intermediate": 128,
    "vocab": 256,
}


@dataclass
class Record:
    model: str
    phase: str
    batch: int
    tokens: int
    ms: float
    ms_stdev: float


class Model:
    """Random bf16 weights with a real architecture's shapes (tied to nothing)."""

    def __init__(self, shape: dict[str, Any], device: str, dtype: torch.dtype) -> None:
        self.s = shape
        d, h, kv, hd, f = (
            shape[k] for k in ("hidden", "heads", "kv_heads", "head_dim", "intermediate")
        )

        def w(*size: int) -> torch.Tensor:
            return torch.randn(*size, device=device, dtype=dtype) * 0.02

        self.layers = [
            {
                "qkv": w((h + 2 * kv) * hd, d),
                "o": w(d, h * hd),
                "gate_up": w(2 * f, d),
                "down": w(d, f),
                "n1": torch.ones(d, device=device, dtype=dtype),
                "n2": torch.ones(d, device=device, dtype=dtype),
            }
            for _ in range(shape["layers"])
        ]
        self.embed = w(shape["vocab"], d)
        self.lm_head = w(shape["vocab"], d)
        self.norm = torch.ones(d, device=device, dtype=dtype)

    def forward(
        self, x: torch.Tensor, caches: list[tuple[torch.Tensor, torch.Tensor]] | None, causal: bool
    ) -> torch.Tensor:
        """x: [B, S, d]. Prefill (caches None, causal) or decode (S=1 against caches)."""
        s = self.s
        b, q_len, d = x.shape
        h, kv, hd = s["heads"], s["kv_heads"], s["head_dim"]
        for i, layer in enumerate(self.layers):
            y = F.rms_norm(x, (d,), layer["n1"])
            qkv = y @ layer["qkv"].T
            q, k, v = qkv.split([h * hd, kv * hd, kv * hd], dim=-1)
            q = q.view(b, q_len, h, hd).transpose(1, 2)
            k = k.view(b, q_len, kv, hd).transpose(1, 2)
            v = v.view(b, q_len, kv, hd).transpose(1, 2)
            if caches is not None:
                k, v = caches[i]
            attn = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
            x = x + attn.transpose(1, 2).reshape(b, q_len, h * hd) @ layer["o"].T
            y = F.rms_norm(x, (d,), layer["n2"])
            gate, up = (y @ layer["gate_up"].T).chunk(2, dim=-1)
            x = x + (F.silu(gate) * up) @ layer["down"].T
        x = F.rms_norm(x[:, -1:, :], (d,), self.norm)
        return x @ self.lm_head.T


def _time(fn: Any, device: str, repeats: int) -> tuple[float, float]:
    for _ in range(2):
        fn()
    samples = []
    for _ in range(repeats):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples), statistics.pstdev(samples)


def measure_prefill(model: Model, lengths: list[int], device: str, repeats: int) -> list[Record]:
    records = []
    d = model.s["hidden"]
    for length in lengths:
        x = torch.randn(1, length, d, device=device, dtype=model.embed.dtype)
        with torch.inference_mode():
            ms, sd = _time(lambda x=x: model.forward(x, None, causal=True), device, repeats)
        records.append(Record(model.s["name"], "prefill", 1, length, ms, sd))
        print(f"prefill {model.s['name']} S={length}: {ms:.3f} ms", flush=True)
    return records


def measure_decode(
    model: Model, points: list[tuple[int, int]], device: str, repeats: int
) -> list[Record]:
    records = []
    s = model.s
    for batch, context in points:
        dtype = model.embed.dtype
        caches = [
            (
                torch.randn(
                    batch, s["kv_heads"], context, s["head_dim"], device=device, dtype=dtype
                ),
                torch.randn(
                    batch, s["kv_heads"], context, s["head_dim"], device=device, dtype=dtype
                ),
            )
            for _ in range(s["layers"])
        ]
        x = torch.randn(batch, 1, s["hidden"], device=device, dtype=dtype)
        with torch.inference_mode():
            if device == "cuda":
                stream = torch.cuda.Stream()
                stream.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(stream):
                    model.forward(x, caches, causal=False)
                torch.cuda.current_stream().wait_stream(stream)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    model.forward(x, caches, causal=False)
                step = graph.replay
            else:
                step = functools.partial(model.forward, x, caches, causal=False)

            ms, sd = _time(step, device, repeats)
        records.append(Record(s["name"], "decode", batch, context, ms, sd))
        print(f"decode {s['name']} B={batch} T={context}: {ms:.3f} ms", flush=True)
        del caches
        if device == "cuda":
            torch.cuda.empty_cache()
    return records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="gpu_roofline.json")
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16
    report: dict[str, Any] = {"device": device, "torch": torch.__version__, "records": []}
    if device == "cuda":
        free, total = torch.cuda.mem_get_info()
        report |= {"gpu": torch.cuda.get_device_name(), "mem_get_info": [free, total]}
    plans: list[tuple[dict[str, Any], list[int], list[tuple[int, int]]]]
    if args.tiny:
        plans = [(TINY, [16, 64], [(1, 32), (4, 64)])]
    else:
        plans = [
            (
                LLAMA_3_1_8B,
                [128, 512, 1024, 2048, 4096, 8192],
                [
                    (1, 1024),
                    (8, 1024),
                    (32, 1024),
                    (64, 1024),
                    (128, 1024),
                    (256, 1024),
                    (1, 8192),
                    (16, 8192),
                    (32, 8192),
                    (4, 32768),
                ],
            ),
            (LLAMA_3_2_1B, [512, 2048, 8192], [(1, 1024), (32, 1024), (128, 2048)]),
        ]
    for shape, lengths, points in plans:
        torch.manual_seed(0)
        model = Model(shape, device, dtype)
        report["records"] += [asdict(r) for r in measure_prefill(model, lengths, device, 10)]
        report["records"] += [asdict(r) for r in measure_decode(model, points, device, 20)]
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
