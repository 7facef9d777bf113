"""Expert parallelism and attention data parallelism, from an engine's flags to capplan's terms.

capplan prices both as the API's ``expert_parallel`` and ``attention_data_parallel``
(:mod:`service.domain.moe`): experts spread whole over the replica's ``tensor_parallel``
GPUs (EP degree = ``tensor_parallel``, ``⌈E/N⌉`` experts per GPU), and attention run whole
on each of those GPUs for its share of the sequences. The engines say it differently:

* vLLM ``--enable-expert-parallel`` spreads the experts over TP x DP GPUs, the attention
  staying TP-sharded inside each DP rank (EP size = TP x DP, vLLM
  ``docs/serving/expert_parallel_deployment.md``): ``tensor_parallel = TP x DP`` with
  ``attention_data_parallel`` when DP > 1 (with TP > 1 too, capplan holds the attention
  whole on each GPU: a warning says so). Without it, ``--data-parallel-size D`` is D
  replicas of the whole model.
* SGLang ``--ep-size N`` (``--enable-ep-moe``: N = ``--tp-size``) puts EP over N of the TP
  GPUs; ``--enable-dp-attention`` with ``--dp-size D`` splits the ``--tp-size`` GPUs into D
  attention groups of ``tp / D`` GPUs (``compute_dp_attention_world_info`` in
  ``python/sglang/srt/layers/dp_attention.py``): no more GPUs, no replicas.
* TensorRT-LLM ``--ep_size N``: MoE EP x MoE TP = ``--tp_size``
  (``tensorrt_llm/llmapi/llm_args.py`` ``moe_expert_parallel_size``); attention DP
  (``enable_attention_dp``) is set in ``--extra_llm_api_options``, which the gate does not
  read: say ``attention_data_parallel: true`` in a manifest.

capplan has one EP degree (the whole TP group) and attention DP with one GPU per group, so
an EP degree other than 1 or the TP degree, and an attention-DP size other than the TP
degree, are refused (exit 2) rather than priced as something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.gate.target import InputError


def parallel_fields(
    engine: str, fields: Mapping[str, Any], spelling: Mapping[str, str], source: str
) -> tuple[dict[str, Any], list[str]]:
    """``fields`` with ``ep_size`` and the DP degree folded into ``tensor_parallel``,
    ``expert_parallel``, ``attention_data_parallel`` and ``data_parallel`` (replicas), and
    the warnings the folding needs."""
    out = dict(fields)
    warnings: list[str] = []
    tp = out.get("tensor_parallel", 1)
    dp = out.pop("data_parallel", 1)
    ep_size = out.pop("ep_size", None)
    for name, value in (("data_parallel", dp), ("ep_size", ep_size)):
        if value is not None and value < 1:
            raise InputError(source, spelling.get(name, name), f"must be >= 1, got {value}")
    if ep_size is not None and ep_size > 1:
        if ep_size != tp:
            raise InputError(
                source,
                spelling["ep_size"],
                f"{ep_size} with {spelling['tensor_parallel']} {tp}: capplan models expert "
                f"parallelism over the whole tensor-parallel group, so the EP size must be 1 "
                f"or {tp}",
            )
        out["expert_parallel"] = True
    if engine == "vllm" and out.get("expert_parallel", False):
        out["tensor_parallel"] = tp * dp
        out["attention_data_parallel"] = dp > 1
        if dp > 1 and tp > 1:
            warnings.append(
                f"{spelling['data_parallel']} {dp} with {spelling['tensor_parallel']} {tp}: "
                f"experts spread over {tp * dp} GPUs; capplan prices each GPU's attention "
                f"whole (attention DP), vLLM shards it over {tp}: attention weights over-counted"
            )
        dp = 1
    elif out.get("attention_data_parallel", False):
        if dp != tp or tp < 2:
            raise InputError(
                source,
                spelling.get("data_parallel", "data_parallel"),
                f"{dp} with --enable-dp-attention and {spelling['tensor_parallel']} {tp}: the "
                f"TP GPUs form {dp} attention groups of {tp // max(dp, 1)}; capplan models "
                "attention data parallelism with one GPU per group, so the DP size must equal "
                f"the TP size (> 1)",
            )
        dp = 1
    out["data_parallel"] = dp
    return out, warnings
