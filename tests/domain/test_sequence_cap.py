"""The engine's cap on sequences running at once: the request's max_num_seqs, else its default.

vLLM V1 (``EngineArgs.get_batch_defaults``, ``vllm serve``): 1024 on >= 70 GiB GPUs that are
not A100s, else 256. vLLM V0 (``SchedulerConfig``): 256. TensorRT-LLM (``trtllm-serve
--max_batch_size``, ``BuildConfig``): 2048. SGLang (``--max-running-requests`` unset):
``min(tokens // 2, clamp(int(tokens / context_len x 512), 2048, 4096) + extra)``, the extra
slot 1 in 0.4.x and 0 from mid-2025.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from service.catalog_files import load_engine_profiles
from service.domain.capacity import BindingConstraint, Capacity, Deployment, capacity
from service.domain.engines.model_memory import loaded_model_bytes
from service.domain.engines.profile import engine_catalog_from_document
from service.domain.engines.sglang import default_max_running_requests
from service.domain.modifiers_draft import DraftMemory, with_draft_kv
from service.domain.precision import Precision
from service.domain.weights import weight_memory
from tests.domain.reference import A100_80_BYTES, H100_BYTES, H200_BYTES, arch, params

ENGINES = load_engine_profiles()
L4_BYTES = 23_580_639_232  # an L4 24GB as the runtime reports it


def fit(
    model: str,
    engine: str,
    *,
    gpu_bytes: int = H100_BYTES,
    gpu_name: str = "H100 SXM",
    context: int = 100,
    **knobs: Any,
) -> Capacity:
    """``capacity`` of ``model`` in bf16 on one GPU under the catalog profile ``engine``."""
    model_arch = arch(model)
    weights = weight_memory(model_arch, params(model), Precision.BF16, 1).per_gpu_bytes
    deployment = Deployment(
        gpu_memory_bytes=gpu_bytes,
        weight_precision=Precision.BF16,
        kv_precision=Precision.BF16,
        gpu_name=gpu_name,
        **knobs,
    )
    profile = ENGINES.get(engine)
    return capacity(
        model_arch, loaded_model_bytes(model_arch, weights), deployment, profile, context
    )


@pytest.mark.parametrize(
    ("gpu_bytes", "gpu_name", "cap"),
    [
        (H100_BYTES, "H100 SXM", 1024),
        (H200_BYTES, "H200 141GB", 1024),
        (A100_80_BYTES, "A100 80GB SXM", 256),
        (L4_BYTES, "L4", 256),
    ],
    ids=["h100", "h200", "a100-80gb", "l4"],
)
def test_vllm_v1_caps_max_batch_at_its_default_for_the_gpu(
    gpu_bytes: int, gpu_name: str, cap: int
) -> None:
    """Llama-3.2-1B at 100 tokens holds thousands of sequences in KV; vLLM runs the row's
    max_num_seqs of them, and says that is what binds."""
    result = fit("llama3.2-1b", "vllm-0.24.0", gpu_bytes=gpu_bytes, gpu_name=gpu_name)
    assert result.kv_cache_tokens // 112 > cap  # 100 tokens page into 7 blocks of 16
    assert result.max_batch == cap
    assert result.binding_constraint is BindingConstraint.MAX_NUM_SEQS


@pytest.mark.parametrize(
    ("engine", "cap"),
    [("vllm-0.6.5", 256), ("vllm-0.8.5", 256), ("trtllm-1.0.0", 2048)],
    ids=["vllm-v0-scheduler-config", "vllm-v1-0.8-no-rows", "trtllm-max-batch-size"],
)
def test_engines_with_a_fixed_default_cap_at_it(engine: str, cap: int) -> None:
    """vLLM V0's SchedulerConfig (256), vLLM 0.8's `vllm serve` (256, no GPU rows yet) and
    trtllm-serve's --max_batch_size (2048) cap a batch the H100's KV cache would hold."""
    result = fit("llama3.2-1b", engine)
    assert result.max_batch == cap
    assert result.binding_constraint is BindingConstraint.MAX_NUM_SEQS


@pytest.mark.parametrize(
    ("engine", "cap"),
    [("sglang-0.4.6", 4097), ("sglang-0.5.3", 4096)],
    ids=["0.4.6-extra-slot", "0.5.3"],
)
def test_sglang_caps_at_its_request_table(engine: str, cap: int) -> None:
    """Llama-3.2-1B on an H100: a pool of 2.2 M tokens over its 131,072-token context sizes
    the request table at int(2.2 M / 131,072 x 512) = ~8,600, held to 4096 (+1 slot in 0.4.x);
    the KV cache would hold ~20,000 sequences of 100 tokens."""
    result = fit("llama3.2-1b", engine)
    assert result.kv_cache_tokens > 2_000_000
    assert result.max_batch == cap
    assert result.binding_constraint is BindingConstraint.MAX_NUM_SEQS


@pytest.mark.parametrize(
    ("engine", "tokens", "context_len", "expected"),
    [
        ("sglang-0.4.6", 15_387, 40_960, 2049),
        ("sglang-0.5.3", 104_273, 40_960, 2048),
        ("sglang-0.5.3", 600_000, 100_000, 3072),
        ("sglang-0.5.3", 10_000_000, 4096, 4096),
        ("sglang-0.5.3", 3000, 4096, 1500),
    ],
    ids=["0.4.6-log-2049", "0.5.x-log-2048", "pool-over-context", "ceiling-4096", "half-the-pool"],
)
def test_sglang_default_running_requests_follows_its_formula(
    engine: str, tokens: int, context_len: int, expected: int
) -> None:
    """min(tokens // 2, clamp(int(tokens / context_len x 512), 2048, 4096) + extra); the
    first two are the values SGLang logs printed for those pools and contexts."""
    rule = ENGINES.get(engine).running_requests
    assert rule is not None
    assert default_max_running_requests(rule, tokens, context_len) == expected


@pytest.mark.parametrize(
    ("engine", "asked"),
    [("vllm-0.24.0", 2048), ("vllm-0.24.0", 64), ("sglang-0.5.3", 8192), ("trtllm-1.0.0", 16)],
    ids=["vllm-above-default", "vllm-below-default", "sglang", "trtllm"],
)
def test_a_requested_max_num_seqs_replaces_the_default(engine: str, asked: int) -> None:
    """--max-num-seqs / --max-running-requests / --max_batch_size as asked is the cap."""
    result = fit("llama3.2-1b", engine, max_num_seqs=asked)
    assert result.max_batch == asked
    assert result.binding_constraint is BindingConstraint.MAX_NUM_SEQS


def test_the_kv_cache_binds_below_the_default_cap() -> None:
    """Llama-3.1-8B at 32k tokens on an H100: the KV cache holds fewer than 1024."""
    result = fit("llama3-8b", "vllm-0.24.0", context=32_768)
    assert 1 <= result.max_batch < 1024
    assert result.binding_constraint is BindingConstraint.KV_CACHE


def test_each_attention_data_parallel_rank_runs_its_own_default() -> None:
    """Under attention DP each of the 8 ranks is an engine with its own 1024 sequences."""
    model_arch = arch("llama3-8b")
    weights = weight_memory(model_arch, params("llama3-8b"), Precision.BF16, 8).per_gpu_bytes
    deployment = Deployment(
        gpu_memory_bytes=H200_BYTES,
        tensor_parallel=8,
        weight_precision=Precision.BF16,
        kv_precision=Precision.BF16,
        gpu_name="H200 141GB",
        attention_data_parallel=True,
    )
    result = capacity(model_arch, weights, deployment, ENGINES.get("vllm-0.24.0"), 100)
    assert result.max_batch == 8 * 1024
    assert result.binding_constraint is BindingConstraint.MAX_NUM_SEQS


def test_a_draft_kv_that_binds_below_the_cap_says_kv_cache() -> None:
    """A capped fit whose draft KV leaves room for fewer sequences binds on the KV cache."""
    capped = fit("llama3.2-1b", "vllm-0.24.0")
    per_token = capped.kv_cache_pool_bytes // (100 * 500)  # room for ~500 sequences with it
    draft = DraftMemory(weight_bytes=0, kv_bytes_per_token=per_token)
    result = with_draft_kv(capped, draft, 100)
    assert result.max_batch < 1024
    assert result.binding_constraint is BindingConstraint.KV_CACHE


def test_an_sglang_profile_without_its_running_requests_rule_is_refused() -> None:
    """engines.yaml must state how SGLang's default --max-running-requests follows the pool."""
    entry = msgspec.to_builtins(ENGINES.get("sglang-0.5.3"))
    entry.pop("running_requests")
    document = {"default": "sglang-0.5.3", "engines": [{"id": "sglang-0.5.3", **entry}]}
    with pytest.raises(ValueError, match="running_requests"):
        engine_catalog_from_document(document)
