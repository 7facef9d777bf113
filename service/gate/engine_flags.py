"""The serving engines' command-line flags, as the gate reads them.

Each engine's table says, per flag, what the gate does with it:

* **read** into a deployment field (``tensor_parallel``, ``max_model_len`` …) or an engine
  knob passed to the engine's memory model (``max_num_batched_tokens`` …);
* **no effect** on GPU memory or speed (``--port``): listed as ignored;
* **not modelled** though it changes memory or speed (``--speculative-config``): a warning.

A flag in none of an engine's lists but in another engine's is an error (exit 2): the
engine would refuse to start. A flag in no table at all is a warning naming it, except a
misspelling: vLLM lists its other flags too (``other``: real, neither read nor classified),
so an unknown vLLM flag close to one of them (``--max-modle-len``) is an error with the
flag it resembles (:meth:`EngineFlags.typo_of`); without the whole list (SGLang,
TensorRT-LLM) a real flag could be taken for a typo, so theirs stay warnings.

Sources (flag spellings): vLLM ``vllm/engine/arg_utils.py`` and
``vllm/entrypoints/openai/cli_args.py`` (0.10–0.11); SGLang
``python/sglang/srt/server_args.py`` (0.4–0.5); TensorRT-LLM
``tensorrt_llm/commands/serve.py`` (1.0, click options spelled with underscores). vLLM's
``other`` flags: ``arg_utils.py`` of about 0.7 and of 0.11, a later ``cli_args.py`` and
``argparse_utils.py`` (``--optimization-level``), and a few newer ones (context parallelism,
KV offloading): flags come and go between versions, and a deployment may run any of them.
"""

from __future__ import annotations

import difflib
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


SGLANG_MAX_PREFILL_TOKENS = 16384
"""SGLang's ``--max-prefill-tokens`` default (``ServerArgs.max_prefill_tokens``): the most
prompt tokens one prefill batch takes when prompts are not chunked."""


def sglang_chunk(text: str) -> int:
    """``--chunked-prefill-size`` as the step budget (``max_num_batched_tokens``). SGLang turns
    chunking off for -1 (any value up to 0), and a prefill batch is then bounded by
    ``--max-prefill-tokens`` instead, priced at its default
    (:data:`SGLANG_MAX_PREFILL_TOKENS`)."""
    tokens = int(text)
    return tokens if tokens > 0 else SGLANG_MAX_PREFILL_TOKENS


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


TYPO_CUTOFF = 0.8
"""How alike (``difflib`` ratio) an unknown flag and a real one must be for the unknown one
to be taken for a typo: ``--max-modle-len`` is 0.93, ``--gpu-memory-utilisation`` 0.96,
``--frobnicate``'s nearest 0.57."""


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
    other: frozenset[str] = frozenset()

    def has(self, flag: str) -> bool:
        """Is ``flag`` the engine's: in a table, in ``other``, or a ``--no-`` switch of one
        (vLLM's boolean flags) or a key of a JSON one (``--compilation-config.level``)?"""
        base = flag.split(".", 1)[0]
        names = [base, "--" + base[5:]] if base.startswith("--no-") else [base]
        return any(self.knows(name) or name in self.other for name in names)

    def typo_of(self, flag: str) -> str | None:
        """The engine's flag that ``flag``, not one of them, is a misspelling of, else ``None``.

        Only for an engine with its whole flag list (``other``), only long flags, and never
        for the start of a real flag: argparse takes an unambiguous prefix as the flag.
        """
        if not self.other or not flag.startswith("--") or self.has(flag):
            return None
        tables = (self.read, self.no_effect, self.no_effect_switches, self.not_modelled)
        flags = sorted({*self.not_modelled_switches, *self.other}.union(*tables))
        if any(name.startswith(flag) for name in flags):
            return None
        close = difflib.get_close_matches(flag, flags, n=1, cutoff=TYPO_CUTOFF)
        return close[0] if close else None

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
    other=_names(
        "--additional-config --aggregate-engine-logging --allow-credentials "
        "--allowed-local-media-path --allowed-media-domains --attention-backend "
        "--cohere-format --cohere-is-reasoning-model --config --convert "
        "--cp-kv-cache-interleave-size --cudagraph-capture-sizes "
        "--data-parallel-backend --data-parallel-external-lb "
        "--data-parallel-hybrid-lb --data-parallel-multi-port-external-lb "
        "--data-parallel-rank --data-parallel-supervisor-port "
        "--dbo-decode-token-threshold --dbo-prefill-token-threshold "
        "--dcp-kv-cache-interleave-size --decode-context-parallel-size "
        "--default-chat-template-kwargs --default-mm-loras --device "
        "--disable-access-log-for-endpoints --disable-async-output-proc "
        "--disable-chunked-mm-input --disable-hybrid-kv-cache-manager "
        "--disable-logprobs-during-spec-decoding --disable-mm-preprocessor-cache "
        "--disable-nccl-for-dp-synchronization "
        "--dp-supervisor-probe-failure-threshold --dp-supervisor-probe-interval-s "
        "--dp-supervisor-probe-timeout-s --enable-elastic-ep "
        "--enable-flash-late-interaction --enable-log-deltas --enable-log-outputs "
        "--enable-lora-bias --enable-mm-embeds "
        "--enable-multimodal-encoder-data-parallel --enable-offline-docs "
        "--enable-per-request-metrics --enable-prompt-adapter --enable-prompt-embeds "
        "--enable-return-routed-experts --enable-ssl-refresh "
        "--enable-tokenizer-info-endpoint --eplb-config --eplb-log-balancedness "
        "--eplb-step-interval --eplb-window-size "
        "--exclude-tools-when-tool-choice-none --fingerprint-mode "
        "--fingerprint-value --fully-sharded-loras --grpc "
        "--guided-decoding-disable-additional-properties "
        "--guided-decoding-disable-any-whitespace --guided-decoding-disable-fallback "
        "--h11-max-header-count --h11-max-incomplete-event-size --hf-config-path "
        "--hf-token --ignore-patterns --interleave-mm-strings "
        "--intial-incremental-detokenization-offset --io-processor-plugin "
        "--kv-offloading-backend --kv-offloading-size --kv-sharing-fast-prefill "
        "--log-error-stack --logits-processor-pattern --logprobs-mode "
        "--long-lora-scaling-factors --lora-dtype --lora-extra-vocab-size "
        "--mamba-block-size --mamba-cache-dtype --mamba-ssm-cache-dtype "
        "--max-cudagraph-capture-size --max-long-partial-prefills "
        "--max-prompt-adapter-token --max-prompt-adapters --media-io-kwargs "
        "--mm-encoder-attn-backend --mm-encoder-tp-mode --mm-processor-cache-gb "
        "--mm-processor-cache-type --mm-shm-cache-max-object-size-mb --model-impl "
        "--model-loader-extra-config --multi-step-stream-outputs "
        "--ngram-prompt-lookup-max --ngram-prompt-lookup-min --num-lookahead-slots "
        "--num-redundant-experts --num-speculative-tokens --optimization-level "
        "--override-attention-dtype --override-neuron-config "
        "--override-pooler-config --pooler-config --prefill-context-parallel-size "
        "--prefix-caching-hash-algo --prompt-adapters --pt-load-map-location "
        "--qlora-adapter-name-or-path --ray-workers-use-nsight --runner "
        "--safetensors-load-strategy --scheduler-cls --scheduler-delay-factor "
        "--show-hidden-metrics-for-version --skip-mm-profiling "
        "--spec-decoding-acceptance-method --speculative-disable-by-batch-size "
        "--speculative-disable-mqa-scorer --speculative-draft-tensor-parallel-size "
        "--speculative-max-model-len --speculative-model "
        "--speculative-model-quantization --ssl-ca-certs --ssl-cert-reqs "
        "--ssl-ciphers --task --tokenizer-pool-extra-config --tokenizer-pool-size "
        "--tokenizer-pool-type --tokens-only --tool-server "
        "--trust-request-chat-template --typical-acceptance-sampler-posterior-alpha "
        "--typical-acceptance-sampler-posterior-threshold --uds --use-tqdm-on-load "
        "--use-v2-block-manager --video-pruning-rate --worker-extension-cls -asc "
        "-dcp -dpa -dpb -dpl -dpn -dpp -dpr -pcp"
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
    ("option:max_num_batched_tokens", sglang_chunk, ("--chunked-prefill-size",)),
    ("option:scheduler_recv_interval", int, ("--scheduler-recv-interval",)),
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
