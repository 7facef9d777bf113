"""SGLang and TensorRT-LLM KV pools, by hand from their source.

SGLang ``ModelRunner.profile_max_num_token``: rest = free_after_load - free_before x (1 - f),
tokens = rest // cell (page size 1). TensorRT-LLM ``KvCacheConfig``: pool = free x 0.9, in
blocks of ``tokens_per_block`` over every layer.
"""

from __future__ import annotations

import pytest

from service.catalog_files import load_engine_profiles
from service.domain.capacity import Deployment, capacity, memory_budget
from service.domain.engines.sglang import default_mem_fraction_static, pool_bytes
from service.domain.engines.trtllm import pool_bytes as trt_pool_bytes
from tests.domain.reference import arch

GIB = 2**30
MIB = 2**20
ENGINES = load_engine_profiles()
SGLANG_046 = ENGINES.get("sglang-0.4.6")
SGLANG_053 = ENGINES.get("sglang-0.5.3")
TRTLLM = ENGINES.get("trtllm-1.0.0")


@pytest.mark.parametrize(
    ("tp", "fraction"),
    [(1, 0.88), (2, 0.87), (4, 0.85), (8, 0.81), (16, 0.79)],
    ids=["tp1", "tp2", "tp4", "tp8", "tp16"],
)
def test_sglang_0_4_default_fraction_by_tensor_parallel(tp: int, fraction: float) -> None:
    """ServerArgs.__post_init__ (0.4.x): 0.88 / 0.87 / 0.85 / 0.81 / 0.79."""
    assert default_mem_fraction_static(SGLANG_046, 80 * GIB, tp, 1) == fraction


@pytest.mark.parametrize(
    ("gpu_mib", "tp", "fraction"),
    [
        (81_559, 1, round((81_559 - (9.5 + 0.5) * 1024) / 81_559, 3)),
        (81_559, 8, round((81_559 - (9.5 + 4) * 1024) / 81_559, 3)),
        (24_564, 1, round((24_564 - (2.8 + 0.1) * 1024) / 24_564, 3)),
        (143_771, 1, round((143_771 - (12 + 0.5) * 1024) / 143_771, 3)),
        (183_359, 1, round((183_359 - 32 * 1024) / 183_359, 3)),
    ],
    ids=["h100-tp1", "h100-tp8", "24gb", "h200", "b200"],
)
def test_sglang_0_5_reserves_by_gpu_memory(gpu_mib: int, tp: int, fraction: float) -> None:
    """(gpu_mem - reserved) / gpu_mem with reserved by GPU class and tp x pp (in MiB)."""
    assert default_mem_fraction_static(SGLANG_053, gpu_mib * MIB, tp, 1) == fraction


def test_sglang_pool_is_the_fraction_of_free_memory_less_weights() -> None:
    """40 GiB free before loading, 20 GiB of weights, f = 0.88: 40 x 0.88 - 20 = 15.2 GiB."""
    assert pool_bytes(40 * GIB, 20 * GIB, 0.88) == int(40 * GIB * 0.88) - 20 * GIB


def test_sglang_pages_single_tokens_over_every_layer() -> None:
    """Llama-3.1-8B: cell = 8 x 128 x 32 x 2 x 2 = 131,072 B; tokens = pool // cell."""
    deployment = Deployment(gpu_memory_bytes=80 * GIB, mem_fraction_static=0.9)
    cap = capacity(arch("llama3-8b"), 16 * GIB, deployment, SGLANG_046, 8192)
    assert cap.kv_cache_tokens == cap.memory.kv_cache // 131_072
    assert cap.kv_cache_bytes_per_sequence == 8192 * 131_072


def test_sglang_free_memory_is_the_total_less_the_context() -> None:
    """free_before = total - CUDA context (and NCCL under TP), from the profile."""
    deployment = Deployment(gpu_memory_bytes=80 * GIB, mem_fraction_static=0.9)
    budget = memory_budget(arch("llama3-8b"), 16 * GIB, deployment, SGLANG_046, 8192)
    free = 80 * GIB - SGLANG_046.non_torch_bytes
    assert budget.kv_cache == int(free * 0.9) - 16 * GIB


def test_trtllm_pool_is_ninety_percent_of_free_memory() -> None:
    """kv_cache_free_gpu_mem_fraction 0.9 of the free memory (12.22 GiB -> 11.00 GiB in the
    tensorrtllm_backend#625 log)."""
    assert trt_pool_bytes(1000, 0.9) == 900
    assert trt_pool_bytes(-5, 0.9) == 0


def test_trtllm_tokens_are_whole_blocks_over_every_layer() -> None:
    """Blocks of 32 tokens x 131,072 B (Llama-3.1-8B); tokens = blocks x 32."""
    deployment = Deployment(gpu_memory_bytes=80 * GIB)
    cap = capacity(arch("llama3-8b"), 16 * GIB, deployment, TRTLLM, 8192)
    assert cap.kv_cache_tokens == cap.memory.kv_cache // (32 * 131_072) * 32
