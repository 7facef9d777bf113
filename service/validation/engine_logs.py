"""Read one ``engine_memory_logs.json`` datapoint into the question capplan answers.

Datapoints state settings as published: numbers, or text such as ``"not stated (default)"``
or ``"log says \\"The current --gpu-memory-utilization=0.9764\\""``. A setting is taken when
the text holds it, the engine default when the text says "default", and is otherwise
*unknown*: the datapoint is then reported as not checkable, never guessed. Datapoints whose
model capplan cannot build (not in the catalog, a local build, an architecture it does not
model yet) are reported as "not modelled" with the reason.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from service.domain.engine import EngineCatalog, EngineProfile, version_key
from service.domain.units import GIB

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")

CHECKPOINTS: dict[str, tuple[str, str]] = {
    "RedHatAI/Llama-3.3-70B-Instruct-fp8-dynamic": ("meta-llama/Llama-3.3-70B-Instruct", "fp8"),
    "Qwen3-14B (Qwen3ForCausalLM; exact repo id not stated, presumably Qwen/Qwen3-14B)": (
        "Qwen/Qwen3-14B",
        "auto",
    ),
    "RedHatAI/Mistral-Small-3.1-24B-Instruct-2503-quantized.w8a8": (
        "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
        "int8",
    ),
}
"""Names in the logs -> (catalog model, weight dtype). The FP8 checkpoint's base and format
are what its repository name states (FP8 linear layers; capplan keeps embeddings and
lm_head 16-bit); the SGLang log names the architecture Qwen3ForCausalLM with a 14B size and
bf16 weights, which only Qwen/Qwen3-14B matches (the datapoint's own reading). The W8A8
Mistral-Small-3.1 checkpoint's base config is the one the catalog's Mistral-Small-3.2 entry
carries (it is Mistral-Small-3.1's config.json, same architecture; see its source): INT8
linear layers of the language model, embeddings, lm_head and the Pixtral tower 16-bit."""

NOT_MODELLED: tuple[tuple[str, str], ...] = (
    (
        r"kimi-linear",
        "Kimi-Linear AWQ: the log has no weights line, no vLLM version and a malformed "
        "--gpu-memory-utilization, so the budget is not predicted",
    ),
    (
        r"deepseek-v4-pro",
        "DeepSeek-V4-Pro: no published config.json of it in the catalog, so its weights are not "
        "counted; and the DeepSeek-V4 KV cache layout is not modelled",
    ),
    (
        r"deepseek-v4",
        "DeepSeek-V4 compressed/sparse attention KV cache (compressed, sliding-window, indexer "
        "and compressor-state groups) not modelled; its weights are (hf_deepseek_v4)",
    ),
    (
        r"qwen3\.[5-9]|qwen3-next",
        "Qwen3.5+ gated-DeltaNet local builds: no Hub repo id, so the quantised weights "
        "(and with them the KV budget) are not predicted",
    ),
    (
        r"minimax",
        "MiniMax-M2.7 AWQ (full-attention GQA, not lightning): repo id and the DGX Spark "
        "memory not stated; the 0.85 figures are the reporter's summary",
    ),
    (
        r"gemma-4",
        "Gemma 4 (gemma4) is modelled, but no verbatim published config of these "
        "checkpoints is in the catalog (google/gemma-4-26B-A4B is gated)",
    ),
)
"""Architectures capplan cannot price from these logs yet (issue 16); reported, not dropped.
Llama 4 is priced: its vision tower is loaded sharded over the TP ranks (vLLM ``mllama4.py``
ColumnParallelLinear / RowParallelLinear unless ``mm_encoder_tp_mode`` is ``data``)."""

NOT_MODELLED_SETUPS: tuple[tuple[str, str], ...] = (
    (
        r"lmcache|kv-transfer-config|kv_connector",
        "an LMCache / KV-transfer connector is configured (its GPU buffers are not modelled)",
    ),
)
"""Deployment features capplan does not price, read from the log excerpt and settings."""


class LogSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a datapoint states, as numbers; ``None`` where it does not."""

    profile: EngineProfile
    tensor_parallel: int
    pipeline_parallel: int
    gpu_total_bytes: int | None
    utilization: float | None
    max_model_len: int | None
    max_num_seqs: int | None
    max_num_batched_tokens: int | None
    kv_cache_dtype: str
    enforce_eager: bool
    block_size_tokens: int | None
    prefix_caching: bool | None = None
    num_speculative_tokens: int = 0


def number(value: Any) -> float | None:
    """A number, or the first number in a text (thousands commas allowed); else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return None
    match = _NUMBER.search(str(value))
    return float(match.group().replace(",", "")) if match else None


def stated_int(value: Any) -> int | None:
    """An integer setting when stated ("not stated (default)" is ``None`` = default)."""
    found = number(value)
    return None if found is None else int(found)


def engine_profile(point: dict[str, Any], engines: EngineCatalog) -> EngineProfile:
    """The newest profile of the datapoint's engine not newer than its stated version (the
    oldest when the version predates them all; "pre-0.10.1": the newest older than it); with
    no version ("not stated ..."), the newest released by the source's date ("2026-08-04" or
    "logs dated 06-26, 2026"); else the newest."""
    name = str(point.get("engine", "vllm"))
    profiles = sorted(
        (p for p in engines.profiles.values() if p.name == name),
        key=lambda p: version_key(p.version),
    )
    if not profiles:
        return engines.resolve(name)
    text = str(point.get("engine_version", ""))
    before = re.search(r"pre-v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if before:
        bound = tuple(int(g or 0) for g in before.groups())
        earlier = [p for p in profiles if version_key(p.version) < bound]
        return earlier[-1] if earlier else profiles[0]
    # "not stated (... PyTorch 2.9.0 ...)": numbers there are not the engine's version
    match = (
        None
        if text.lower().startswith("not stated")
        else re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    )
    if match:
        wanted = tuple(int(g or 0) for g in match.groups())
        older = [p for p in profiles if version_key(p.version) <= wanted]
        return older[-1] if older else profiles[0]
    source = str(point.get("source", ""))
    date = re.search(r"(\d{4})-(\d{2})-\d{2}", source)
    dated = re.search(r"dated (\d{2})-\d{2}, (\d{4})", source)  # "logs dated 06-26, 2026"
    stamp = ""
    if date:
        stamp = f"{date.group(1)}-{date.group(2)}"
    elif dated:
        stamp = f"{dated.group(2)}-{dated.group(1)}"
    if stamp:
        released = [p for p in profiles if p.released and p.released <= stamp]
        if released:
            return released[-1]
    return profiles[-1]


def utilization(value: Any, profile: EngineProfile) -> float | None:
    """A stated fraction (<= 1), the engine default when the text says so, else unknown."""
    found = number(value)
    if found is not None and 0 < found <= 1:
        return found
    if isinstance(value, str) and "default" in value.lower():
        return profile.gpu_memory_utilization
    return None


def gpu_total(point: dict[str, Any]) -> int | None:
    """The runtime total the log itself prints (GiB), if any."""
    reported = point.get("reported", {})
    snapshot = reported.get("worker_init_snapshot", {})
    for value in (
        point.get("gpu_memory_GiB_reported_by_log_if_any"),
        snapshot.get("total_GiB") if isinstance(snapshot, dict) else None,
        reported.get("total_GiB"),
    ):
        if isinstance(value, int | float):
            return round(value * GIB)
    return None


def log_settings(point: dict[str, Any], engines: EngineCatalog) -> LogSettings:
    """Every setting the datapoint states (module doc)."""
    profile = engine_profile(point, engines)
    kv = str(point.get("kv_cache_dtype", "auto")).lower()
    eager = point.get("enforce_eager")
    block = point.get("reported", {}).get("tokens_per_block") or point.get("block_size")
    return LogSettings(
        profile=profile,
        tensor_parallel=stated_int(point.get("tensor_parallel_size")) or 1,
        pipeline_parallel=stated_int(point.get("pipeline_parallel_size")) or 1,
        gpu_total_bytes=gpu_total(point),
        utilization=utilization(point.get("gpu_memory_utilization"), profile),
        max_model_len=stated_int(point.get("max_model_len")),
        max_num_seqs=stated_int(point.get("max_num_seqs")),
        max_num_batched_tokens=stated_int(point.get("max_num_batched_tokens")),
        kv_cache_dtype="fp8" if kv.startswith("fp8") else "auto",
        enforce_eager=eager is True or (isinstance(eager, str) and eager.startswith("True")),
        block_size_tokens=stated_int(block),
        prefix_caching=prefix_caching(point),
        num_speculative_tokens=speculative_tokens(point),
    )


def prefix_caching(point: dict[str, Any]) -> bool | None:
    """``--enable-prefix-caching`` as the log's arguments state it; None when they do not."""
    text = str(point.get("log_excerpt", ""))
    if re.search(r"'enable_prefix_caching': True|--enable[-_]prefix[-_]caching\b", text):
        return True
    if re.search(r"'enable_prefix_caching': False|--no-enable-prefix-caching", text):
        return False
    return None


def speculative_tokens(point: dict[str, Any]) -> int:
    """MTP ``num_speculative_tokens``: the datapoint's field (with its source) or the log's
    speculative_config; 0 without speculative decoding."""
    stated = stated_int(point.get("num_speculative_tokens"))
    if stated is not None:
        return stated
    found = re.search(r"'num_speculative_tokens': (\d+)", str(point.get("log_excerpt", "")))
    return int(found.group(1)) if found else 0


def unmodelled_architecture(point: dict[str, Any]) -> str | None:
    """Why capplan cannot price this datapoint yet (architecture or deployment feature)."""
    text = f"{point.get('model', '')} {point.get('model_family_arch', '')}".lower()
    for pattern, reason in NOT_MODELLED:
        if re.search(pattern, text):
            return reason
    setup = f"{point.get('log_excerpt', '')} {point.get('settings_certainty', '')}".lower()
    for pattern, reason in NOT_MODELLED_SETUPS:
        if re.search(pattern, setup):
            return reason
    return None
