"""The serving engines' command-line flags, as the gate reads them.

Each engine's table says, per flag, what the gate does with it:

* **read** into a deployment field (``tensor_parallel``, ``max_model_len`` …) or an engine
  knob passed to the engine's memory model (``max_num_batched_tokens`` …);
* **no effect** on GPU memory or speed (``--port``): listed as ignored;
* **not modelled** though it changes memory or speed (``--speculative-config``): a warning.

A flag in none of an engine's lists but in another engine's is an error (exit 2): the
engine would refuse to start. A flag in no table at all is a warning naming it.

Sources (flag spellings): vLLM ``vllm/engine/arg_utils.py`` and
``vllm/entrypoints/openai/cli_args.py`` (0.10–0.11); SGLang
``python/sglang/srt/server_args.py`` (0.4–0.5); TensorRT-LLM
``tensorrt_llm/commands/serve.py`` (1.0, click options spelled with underscores).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_SUFFIX = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>[kmgt])", re.IGNORECASE)


def human_int(text: str) -> int:
    """vLLM's counts: ``8192``, ``32k`` (= 32,000) or ``32K`` (= 32,768); 1.5k allowed.

    Source: ``human_readable_int`` in ``vllm/engine/arg_utils.py`` (lower case decimal,
    upper case binary).
    """
    match = _SUFFIX.fullmatch(text.strip())
    if match is None:
        return int(text)
    number, unit = str(match["number"]), str(match["unit"])
    power = "kmgt".index(unit.lower()) + 1
    if unit.isupper():
        return int(int(number) * 1024**power)
    return int(float(number) * 1000**power)


def mm_items(text: str) -> int | None:
    """``--limit-mm-per-prompt`` as one item count: the largest listed modality's limit.

    vLLM takes JSON (``'{"image": 2, "video": 0}'``, a value may be an object with
    ``count``) or the older ``image=2,video=0`` (``vllm/engine/arg_utils.py``,
    ``MultiModalConfig.limit_per_prompt``); a modality left out keeps vLLM's default. capplan
    profiles image-sized items, so the largest limit stands for all of them. Text-only (0)
    needs image and video both listed at 0: vLLM builds a Qwen-VL or InternVL tower for
    either, so ``{"image": 0}`` alone is read as the default (``None``), never as text-only.
    """
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
        if not parsed:
            raise ValueError(text) from None
    if not isinstance(parsed, dict) or not parsed:
        raise ValueError(text)
    counts = []
    for value in parsed.values():
        count = value.get("count") if isinstance(value, dict) else value
        if isinstance(count, bool) or not isinstance(count, int | str):
            raise ValueError(text)
        number = int(count)
        if number < 0:
            raise ValueError(text)
        counts.append(number)
    largest = max(counts)
    if largest == 0 and not {"image", "video"} <= parsed.keys():
        return None
    return largest


@dataclass(frozen=True)
class Read:
    """A flag whose value sets ``key``: a deployment field, or ``option:NAME`` an engine knob.

    ``read`` is ``None`` for a switch (no value; ``True`` when present).
    """

    key: str
    read: Callable[[str], Any] | None


@dataclass(frozen=True)
class EngineFlags:
    engine: str
    program: str
    read: Mapping[str, Read]
    no_effect: frozenset[str]
    no_effect_switches: frozenset[str] = frozenset()
    not_modelled: frozenset[str] = frozenset()
    not_modelled_switches: frozenset[str] = frozenset()
    spelling: dict[str, str] = field(default_factory=dict)

    def knows(self, flag: str) -> bool:
        return (
            flag in self.read
            or flag in self.no_effect
            or flag in self.not_modelled
            or (flag in self.no_effect_switches or flag in self.not_modelled_switches)
        )

    def is_switch(self, flag: str) -> bool:
        known = self.read.get(flag)
        if known is not None:
            return known.read is None
        return flag in self.no_effect_switches or flag in self.not_modelled_switches


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _table(*entries: tuple[str, Callable[[str], Any] | None, tuple[str, ...]]) -> dict[str, Read]:
    return {name: Read(key, read) for key, read, names in entries for name in names}


def _spelling(read: Mapping[str, Read]) -> dict[str, str]:
    """Each key's first (long) flag, for error messages and suggested changes."""
    spelling: dict[str, str] = {}
    for name, entry in read.items():
        spelling.setdefault(entry.key.removeprefix("option:"), name)
    return spelling


_VLLM_READ = _table(
    ("model", str, ("--model",)),
    ("tensor_parallel", int, ("--tensor-parallel-size", "-tp")),
    ("pipeline_parallel", int, ("--pipeline-parallel-size", "-pp")),
    ("data_parallel", int, ("--data-parallel-size", "-dp")),
    ("max_model_len", human_int, ("--max-model-len",)),
    ("max_num_seqs", int, ("--max-num-seqs",)),
    ("gpu_memory_utilization", float, ("--gpu-memory-utilization",)),
    ("dtype", str, ("--dtype",)),
    ("kv_cache_dtype", str, ("--kv-cache-dtype",)),
    ("quantization", str, ("--quantization", "-q")),
    ("option:max_num_batched_tokens", human_int, ("--max-num-batched-tokens",)),
    ("option:kv_cache_memory_bytes", human_int, ("--kv-cache-memory-bytes",)),
    ("option:cpu_offload_gb", float, ("--cpu-offload-gb",)),
    ("option:block_size_tokens", int, ("--block-size",)),
    ("option:enforce_eager", None, ("--enforce-eager",)),
    ("option:enable_chunked_prefill", None, ("--enable-chunked-prefill",)),
    ("option:enable_prefix_caching", None, ("--enable-prefix-caching",)),
    ("expert_parallel", None, ("--enable-expert-parallel",)),
    ("option:mm_items_per_prompt", mm_items, ("--limit-mm-per-prompt",)),
)
VLLM = EngineFlags(
    engine="vllm",
    program="vllm serve",
    read=_VLLM_READ,
    spelling=_spelling(_VLLM_READ),
    no_effect=_names(
        "--allowed-headers --allowed-methods --allowed-origins --api-key --api-server-count "
        "--chat-template --chat-template-content-format --code-revision "
        "--collect-detailed-traces --config-format --data-parallel-address "
        "--data-parallel-rpc-port --data-parallel-size-local --data-parallel-start-rank "
        "--distributed-executor-backend --download-dir --generation-config "
        "--guided-decoding-backend --host --kv-events-config --load-format --log-config-file "
        "--logits-processors --lora-modules --max-log-len --max-logprobs "
        "--max-parallel-loading-workers --middleware --otlp-traces-endpoint "
        "--override-generation-config --port --preemption-mode --reasoning-parser "
        "--response-role --revision --root-path --scheduling-policy --seed "
        "--served-model-name --ssl-certfile --ssl-keyfile --structured-outputs-config "
        "--tokenizer --tokenizer-mode --tokenizer-revision --tool-call-parser "
        "--tool-parser-plugin --uvicorn-log-level --worker-cls"
    ),
    no_effect_switches=_names(
        "--async-scheduling --disable-fastapi-docs --disable-frontend-multiprocessing "
        "--disable-log-requests --disable-log-stats --disable-uvicorn-access-log "
        "--enable-auto-tool-choice --enable-force-include-usage --enable-log-requests "
        "--enable-prompt-tokens-details --enable-request-id-headers "
        "--enable-server-load-tracking --headless --no-enable-chunked-prefill "
        "--no-enable-prefix-caching --return-tokens-as-token-ids --skip-tokenizer-init "
        "--trust-remote-code"
    ),
    not_modelled=_names(
        "--all2all-backend --calculate-kv-scales --compilation-config --cuda-graph-sizes "
        "--expert-placement-strategy --hf-overrides --kv-transfer-config "
        "--long-prefill-token-threshold --max-cpu-loras --max-lora-rank "
        "--max-loras --max-num-partial-prefills --max-seq-len-to-capture "
        "--mm-processor-kwargs --num-gpu-blocks-override --num-scheduler-steps --rope-scaling "
        "--rope-theta --speculative-config --swap-space -O"
    ),
    not_modelled_switches=_names(
        "--disable-cascade-attn --disable-custom-all-reduce --disable-sliding-window "
        "--enable-dbo --enable-eplb --enable-lora --enable-sleep-mode"
    ),
)

_SGLANG_READ = _table(
    ("model", str, ("--model-path", "--model")),
    ("tensor_parallel", int, ("--tp-size", "--tp", "--tensor-parallel-size")),
    ("pipeline_parallel", int, ("--pp-size", "--pipeline-parallel-size")),
    ("data_parallel", int, ("--dp-size", "--dp", "--data-parallel-size")),
    ("max_model_len", int, ("--context-length",)),
    ("max_num_seqs", int, ("--max-running-requests",)),
    ("dtype", str, ("--dtype",)),
    ("kv_cache_dtype", str, ("--kv-cache-dtype",)),
    ("quantization", str, ("--quantization",)),
    ("option:mem_fraction_static", float, ("--mem-fraction-static",)),
    ("option:chunked_prefill_size", int, ("--chunked-prefill-size",)),
    ("ep_size", int, ("--ep-size", "--ep", "--expert-parallel-size")),
    ("expert_parallel", None, ("--enable-ep-moe",)),
    ("attention_data_parallel", None, ("--enable-dp-attention",)),
    ("option:disable_radix_cache", None, ("--disable-radix-cache",)),
    ("option:disable_cuda_graph", None, ("--disable-cuda-graph",)),
)
SGLANG = EngineFlags(
    engine="sglang",
    program="python -m sglang.launch_server",
    read=_SGLANG_READ,
    spelling=_spelling(_SGLANG_READ),
    no_effect=_names(
        "--api-key --attention-backend --chat-template --device --dist-init-addr "
        "--download-dir --file-storage-path --grammar-backend --host "
        "--json-model-override-args --load-format --log-level --moe-a2a-backend --nnodes "
        "--node-rank --port --random-seed --reasoning-parser --revision --sampling-backend "
        "--schedule-conservativeness --schedule-policy --served-model-name --stream-interval "
        "--tokenizer-mode --tokenizer-path --tool-call-parser --watchdog-timeout"
    ),
    no_effect_switches=_names(
        "--enable-metrics --enable-mixed-chunk --is-embedding --log-requests "
        "--skip-server-warmup --skip-tokenizer-init --trust-remote-code"
    ),
    not_modelled=_names(
        "--cpu-offload-gb --cuda-graph-max-bs --hicache-ratio --hicache-size --max-lora-rank "
        "--max-prefill-tokens --max-total-tokens --page-size --speculative-algorithm "
        "--speculative-draft-model-path --speculative-num-steps"
    ),
    not_modelled_switches=_names(
        "--enable-deepep-moe --enable-hierarchical-cache --enable-lora --enable-torch-compile"
    ),
)

_TRTLLM_READ = _table(
    ("tensor_parallel", int, ("--tp_size",)),
    ("pipeline_parallel", int, ("--pp_size",)),
    ("max_model_len", int, ("--max_seq_len",)),
    ("max_num_seqs", int, ("--max_batch_size",)),
    ("option:max_num_batched_tokens", int, ("--max_num_tokens",)),
    ("ep_size", int, ("--ep_size",)),
    ("option:kv_cache_free_gpu_mem_fraction", float, ("--kv_cache_free_gpu_memory_fraction",)),
)
TRTLLM = EngineFlags(
    engine="trtllm",
    program="trtllm-serve",
    read=_TRTLLM_READ,
    spelling=_spelling(_TRTLLM_READ),
    no_effect=_names(
        "--backend --cluster_size --gpus_per_node --host --log_level --max_beam_width "
        "--metadata_server_config_file --num_postprocess_workers --port --reasoning_parser "
        "--server_role --tokenizer"
    ),
    no_effect_switches=frozenset({"--trust_remote_code"}),
    not_modelled=frozenset({"--extra_llm_api_options", "--config"}),
)

ENGINES: dict[str, EngineFlags] = {flags.engine: flags for flags in (VLLM, SGLANG, TRTLLM)}


def other_engines_with(flag: str, engine: str) -> list[str]:
    """The other engines that have ``flag`` (so the user mixed engines up)."""
    return [name for name, flags in ENGINES.items() if name != engine and flags.knows(flag)]
