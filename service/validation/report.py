"""``docs/validation.md``: predicted vs measured for every reference datapoint, summarised.

Deterministic for given inputs (no timestamps beyond the calibration's own fit date), so a
re-run without changes leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.domain.calibration import Calibration
from service.validation.cases import Metric
from service.validation.evaluate import FAMILY_OF, CaseResult, Validation, median_abs
from service.validation.svg import Panel, Point, render


def _pct(value: float) -> str:
    return f"{value:+.2f} %" if abs(value) < 1 else f"{value:+.1f} %"


def _num(value: float) -> str:
    return f"{value:,.1f}" if value >= 100 else f"{value:.3g}"


def summary_table(validation: Validation) -> list[str]:
    """Median |error| per family: in-sample beside both held-out kinds; target on published."""
    rows = [
        "| family | n | in-sample median | leave-one-GPU-out median | leave-one-model-out median "
        "| target (held-out, published) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in validation.summaries:
        target = "not gated (our own run)"
        if s.target is not None:
            verdict = "met" if s.held_out_median <= s.target else "**not met**"
            target = f"<= {s.target:.0f} %: {verdict}"
        rows.append(
            f"| {s.family.value} | {s.count} | {s.in_sample_median:.1f} % | "
            f"{s.gpu_out_median:.1f} % | {s.model_out_median:.1f} % | {target} |"
        )
    return rows


def replay_table(validation: Validation) -> list[str]:
    """Families of serving sweeps: held-out medians of the closed-loop replay beside the
    gated steady-state figures (``service/domain/benchmark_sim.py``; never gated)."""
    rows = [
        "| family (closed-loop replay, not gated) | n | leave-one-GPU-out median | "
        "leave-one-model-out median | steady state (gated): GPU / model |",
        "|---|---:|---:|---:|---|",
    ]
    for s in validation.summaries:
        if s.replay_gpu_out_median is None or s.replay_model_out_median is None:
            continue
        rows.append(
            f"| {s.family.value} | {s.count} | {s.replay_gpu_out_median:.1f} % | "
            f"{s.replay_model_out_median:.1f} % | {s.gpu_out_median:.1f} % / "
            f"{s.model_out_median:.1f} % |"
        )
    return rows


def engine_table(validation: Validation) -> list[str]:
    """Serving sweeps per engine kind: held-out medians of each published family (the
    gate is on all of them together; this says where the misses are)."""
    rows = [
        "| family | engine kind | n | leave-one-GPU-out median | leave-one-model-out median |",
        "|---|---|---:|---:|---:|",
    ]
    for metric in (Metric.TTFT_AT_CONCURRENCY, Metric.TPOT_AT_CONCURRENCY):
        results = [r for r in validation.results if r.case.metric is metric]
        for kind in sorted({r.case.engine_kind for r in results}):
            members = [r for r in results if r.case.engine_kind == kind]
            gpu_out = median_abs([r.gpu_out_error_pct for r in members])
            model_out = median_abs([r.model_out_error_pct for r in members])
            rows.append(
                f"| {FAMILY_OF[metric].value} | {kind or 'not named'} | {len(members)} | "
                f"{gpu_out:.1f} % | {model_out:.1f} % |"
            )
    return rows


def kv_table(validation: Validation) -> list[str]:
    rows = [
        "| datapoint | GPU (log total) | TP | max_model_len | engine profile | measured tokens "
        "(from) | predicted tokens | error |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    rows.extend(
        f"| `{k.id}` | {k.gpu} | {k.tensor_parallel} | {k.max_model_len} | {k.engine} | "
        f"{k.measured_tokens:,.0f} ({k.measured_from}) | {k.predicted_tokens:,} | "
        f"{_pct(k.error_pct)} |"
        for k in validation.kv
    )
    return rows


def factors_table(calibration: Calibration) -> list[str]:
    shared = calibration.shared
    rows = [
        "| GPU | decode MBU | decode MFU | prefill MFU | measurements |",
        "|---|---:|---:|---:|---:|",
        f"| shared (any other GPU) | {shared.decode_mbu:.3f} | {shared.decode_mfu:.3f} | "
        f"{shared.prefill_mfu:.3f} | {len(calibration.data)} |",
    ]
    for gpu, f in calibration.gpus.items():
        rows.append(
            f"| {gpu} | {f.decode_mbu:.3f} | {f.decode_mfu:.3f} | {f.prefill_mfu:.3f} | "
            f"{len(f.points)} |"
        )
    rows.append("")
    rows.append(
        f"Shared fixed costs per forward pass: {shared.step_overhead_ms:.3f} ms + "
        f"{shared.layer_overhead_us:.1f} µs per decoder layer; collectives "
        f"{shared.all_reduce_latency_us:.1f} µs per message plus their bytes at "
        f"{shared.link_efficiency:.0%} of the link bandwidth. Shrinkage λ = "
        f"{calibration.shrinkage:g}. Fitted on {calibration.fitted_on} by "
        f"`{calibration.script}`."
    )
    return rows


def bands_table(calibration: Calibration) -> list[str]:
    if calibration.bands is None:
        return ["(no error bands in the calibration file)"]
    rows = [
        "| group | calibrated GPU: measured/predicted | extrapolated GPU | basis |",
        "|---|---|---|---|",
    ]
    for group, band in calibration.bands.calibrated.items():
        other = calibration.bands.extrapolated.get(group)
        extrapolated = f"{other.low:.2f} – {other.high:.2f}" if other else ""
        rows.append(
            f"| {group} | {band.low:.2f} – {band.high:.2f} | {extrapolated} | {band.basis} |"
        )
    return rows


def cases_table(results: Sequence[CaseResult]) -> list[str]:
    rows = [
        "| datapoint | engine | GPU | TP | precision | metric | B / C | measured | in-sample "
        "(error) | GPU held out (error) | model held out (error) |",
        "|---|---|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r.case
        load = c.concurrency or c.batch
        rows.append(
            f"| `{c.id}` | {c.engine} | {c.gpu} | {c.tensor_parallel} | {c.precision} | "
            f"{c.metric.value} ({c.unit}) | {load} | {_num(c.measured)} | "
            f"{_num(r.in_sample)} ({_pct(r.in_sample_error_pct)}) | {_num(r.gpu_out)} "
            f"({_pct(r.gpu_out_error_pct)}) | {_num(r.model_out)} "
            f"({_pct(r.model_out_error_pct)}) |"
        )
    return rows


def figure(validation: Validation) -> str:
    """The SVG: times, throughput and KV capacity panels."""
    times: list[Point] = []
    rates: list[Point] = []
    for r in validation.results:
        target = rates if r.case.unit == "tok/s" else times
        for held_out, predicted in ((False, r.in_sample), (True, r.gpu_out)):
            target.append(
                Point(
                    measured=r.case.measured,
                    predicted=predicted,
                    dataset=r.case.dataset,
                    held_out=held_out,
                    label=f"{r.case.id}: measured {r.case.measured:.4g}, predicted "
                    f"{predicted:.4g} ({'GPU held out' if held_out else 'in-sample'})",
                )
            )
    kv = [
        Point(
            measured=k.measured_tokens,
            predicted=k.predicted_tokens,
            dataset="vllm_memory.json",
            held_out=True,
            label=f"{k.id}: {k.error_pct:+.2f} %",
        )
        for k in validation.kv
    ]
    return render(
        [
            Panel(title="Time per step / request", unit="ms", points=times),
            Panel(title="Saturated throughput", unit="tokens/s", points=rates),
            Panel(title="KV cache capacity", unit="tokens", points=kv),
        ]
    )


ENGINE_MEMORY = """\
Two findings make one model fit all four logs (constants in `catalog/engines.yaml`):

* **The activation peak is the larger of the forward pass and the sampler warm-up, not
  their sum.** The RTX 3090 logs grow 0.92 GiB for 9,000 more batched tokens (6 B per token
  per unit of f/t + d). At 8,192 tokens that predicts 0.84 GiB on the H100, yet vLLM logged
  1.26 GiB — and the same 1.26 GiB at TP2, where the MLP activations halve. A term that
  ignores TP and exceeds the forward pass at short contexts is the V0 sampler warm-up on
  `[max_num_seqs = 256, vocab = 128,256]` logits, gathered to the full vocabulary on the
  driver rank: 41.2 B per logit, about ten fp32-sized buffers (logits, sorted logits and
  their int64 indices, softmax, cumulative sum, log-softmax, exponential draws).
* **"non_torch_memory" means different things in different vLLM versions.** v0.6.4 (the
  3090 logs) measured device-used minus torch-allocated after `empty_cache`, in absolute
  terms: the CUDA context and cuBLAS workspaces, 0.35 GiB. The profiler of PR #10511 (the
  H100 logs, Dec 2024) measured the growth since device init minus weights minus the change
  in torch *allocated* bytes, so the caching allocator's reserved-but-unallocated segments
  count as non-torch (PR #11809 switched to `memory_reserved()`; afterwards an H100 logs
  0.16 GiB, PR #12126): 1.79 GiB at TP1, and 1.79 GiB more at TP2 for NCCL / custom
  all-reduce buffers. Neither GPU generation nor memory size explains the difference
  (0.35/23.58 GiB = 1.5 %, 1.79/79.22 GiB = 2.3 %); the profiler version does, so the
  constant is stored per engine version and the profile is chosen by the log's version.

Also: vLLM's "model weights take" includes the RoPE cos/sin cache (Llama-3.1-8B: 14.957 GiB of
parameters + 0.031 GiB = the logged 14.9888 GiB), and V0 switches chunked prefill on (512
tokens per step) above a 32K `max_model_len`, which caps the profile run.
"""

FITTED_VS_DERIVED = """\
**Derived (no fitting):** parameter counts, weight bytes per precision and TP rank, KV bytes
per token (GQA, MLA, sliding windows, TP replication), FLOPs, the vLLM budget formula
(`total × util − weights − activation − non-torch`), block rounding, the RoPE cache loaded
with the weights, MoE experts touched per batch, TP all-reduce bytes, the saturated-batch
size from the KV cache (TensorRT-LLM `GUARANTEED_NO_EVICT`, trtllm-bench's 4096 cap and
prefill chunk `clamp(B(1+ISL/OSL), 2048, 32768)`), the steady-state throughput formula and
the M/D/1 queue (`service/domain/saturation.py`), and an offline benchmark's schedule: its
`num_requests` fixed-length requests queued at once, stepped through the scheduler
(`service/domain/offline_benchmark.py`; it never depends on step times, so
it is computed once and priced under any factors).

**Read off logs (engine constants, `catalog/engines.yaml`):** the forward-pass activation
slope (6 B per token per unit of f/t + d; the 3090 logs at 20k/29k tokens), the sampler
warm-up peak (41.2 B per `max_num_seqs × vocab` logit; the H100 TP1 log, confirmed by the TP2
log's identical 1.26 GiB), non-torch memory per vLLM version (0.35 GiB with the v0.6.4
profiler; 1.79 GiB with the PR #10511 profiler) and +1.79 GiB once TP > 1 (the TP2 log:
this datapoint is therefore in-sample for the NCCL term).

**Measured on the chips, not fitted here (`catalog/gpus.yaml`):** each GPU's fastest BF16
matmul (`achievable_tflops_bf16`, stas00/ml-engineering's Maximum Achievable Matmul FLOPS
table: from 51 % of the datasheet peak on an MI300X to 97 % on a Gaudi 2; the table's median,
78 %, for a chip nobody measured). Every tensor-core rate is the datasheet peak times that
share, so the fitted MFUs are shares of what a chip can do and carry across chips: with it,
held-out TPOT went from 20.3 % to 15.0 % by GPU, end-to-end from 15.7 % to 14.7 %.

**A model form checked by the back-test:** a matmul's time is its weight read and its math
joined at a rounded knee, `(m⁴ + c⁴)^(1/4)` (`service/domain/latency.py`,
`roofline_seconds`), not the sharp `max`: near the ridge point a kernel reaches neither roof.
Against `max` it lowered every held-out median (GPU / model out: max-throughput 10.4 / 10.9 ->
10.4 / 9.9 %, end-to-end 14.7 / 9.7 -> 14.1 / 9.4 %, TTFT 22.5 / 20.8 -> 19.2 / 20.7 %, TPOT
15.0 / 10.1 -> 14.4 / 9.8 %, on the 36 TTFT and 24 TPOT rows of then); exponent 3 did
about as well, 2 raised TPOT to 18.4 % by GPU, 6 is nearly `max`.

**Fitted to latency measurements (`catalog/calibration.yaml`, `bench/calibrate.py`):** per
GPU decode MBU, decode MFU and prefill MFU (ridge-shrunk to shared values), shared fixed
costs (per step and per layer), and the collectives' cost `α + bytes/(η·B_link)` per
all-reduce or all-to-all: the per-message latency α and the share η of the GPU-to-GPU link
bandwidth the engines' communication library reaches (NCCL's bus bandwidth at the few-MB
messages of inference is well below the link's). No per-model factor exists anywhere.
"""

LIMITS = """\
* NeMo rows (Llama-2, small batch) contradict each other as published: Llama-2-7B on one
  H100 at batch 8 (10 ms per output token) is slower than Llama-2-13B on two at batch 4
  (4.4 ms), although each GPU reads about the same weight bytes per step; the same table
  was questioned publicly (https://github.com/NVIDIA/NeMo/discussions/8455). They stay in
  the fit (the only A100 row and 3 of the 7 H100 rows): without them held-out
  max-throughput moves to 16.8 % by GPU and 22.2 % by model, so the factors lean on them.
* Rows whose `latency.json` entry says `"fit": false` (TensorRT-LLM v0.5/v0.6.1 tables,
  vLLM nightly latency tests of unstated version) are held-out tests only.
* The H200 PyTorch reference is not an engine; it is in the fit because it measures exactly
  what the factors mean, and never gated. Serving sweeps name the catalog engine profile
  nearest to their engine (`engine_profile`); NIM's step budget is not stated and is taken
  as TensorRT-LLM's default 8,192 tokens.
* Serving sweeps are priced as their client measured them: at the mean lengths it sent (its
  printed totals, else `(1 + r)/2·L` for a range ratio `r`), with the server flags the row
  states (`server`: step budget, running-request cap, memory fraction, context length,
  SGLang's `--scheduler-recv-interval`), and
  a client that averages over a stated `num_prompts` N (`vllm bench serve`,
  `sglang.bench_serving`, InferenceX's client) is compared with
  `(C·burst + (N − C)·steady)/N`: its first C prompts arrive together. NIM's AIPerf tables
  state no count and are compared with the steady state alone.
* A prompt step SGLang runs eagerly (its 2025 releases: no prefill CUDA graph) lasts at least
  its host's kernel launches, `dense layers x 461 us + MoE layers x 1,401 us`
  (`service/domain/host_launch.py`, figures read off sglang#12160 and sfllm#46 into
  `catalog/engines.yaml`). On the 105 serving rows held before it, TTFT went from 49.5 / 49.4 %
  to 28.8 / 29.8 % held out (DeepSeek-R1 on 8xB300 at ~920-token prompts: 71-77 ms measured,
  41 ms priced before, 82.6 ms now).
* A busy SGLang scheduler started with `--scheduler-recv-interval P` looks for new requests
  every P decode steps (`SchedulerRecvSkipper`), so an arrival waits P/2 steps on average
  (`service/domain/batching.py`; the replay holds arrivals until the next look).
  InferenceX's DeepSeek-R1 recipes on B200/B300 set P = 10, or 30 from 16 users at TP8 (34
  TTFT rows); with it priced, TTFT went from 41.2 / 39.7 % to 36.1 / 34.6 % held out, and 12
  of the 16 rows of ~920-token prompts on 4x and 8xB300 at 2-64 users are within 15 % (-17
  to -82 % before). TTFT still misses most on SGLang with DeepSeek-R1 on H200 at 4-64 users
  (-32 to -68 %, no recv interval set), at ~7,400-token prompts on 8xB200 and 8xB300 (-38 to
  -53 % whatever the load: a long prefill slower than the TensorRT-LLM-fitted prefill MFU
  says), at 2-8 and 64 users on 8xB200 (-34 to -54 %) and at one user on 8xB200 with SGLang
  0.5.12 (160 ms measured, the release that measures 71-77 ms on 8xB300). TensorRT-LLM's
  PyTorch backend also runs context steps outside CUDA graphs; no log gives its figure, and
  its DeepSeek-R1 rows on 8xB200 are priced 40-79 % fast. No factor here is fitted to
  serving sweeps (they only test the model). The SGLang cookbook's one-user rows average 10
  prompts and carry cold first requests (Llama 4 Scout on MI300X: 4,247 ms at one user, 124
  ms at 16 users; DeepSeek-V3.1 on 8xMI300X: 558 ms in its first scenario, 157 ms in the
  next with the same prompt lengths). The other way, Llama 3.1 70B on 8xA100 (the same
  cookbook) is priced slow with long prompts: +43 % at one user with ~4,200-token prompts,
  +143 to +618 % at 16-100 users, where the first wave's burst is priced with its large
  all-reduces at the fitted 40 % link share (the collectives bullet below: one share for
  every message size). Older misses: NIM 500/2000 at 5 users (56 ms priced, 127 ms measured)
  and Mistral-7B on an RTX 4090 at 16-48 users (-43 to -59 % with the first wave counted).
* The closed-loop replay (`service/domain/benchmark_sim.py`: N clients, `num_prompts` the
  row's count or ten per client, lengths spread by the client's `random_range_ratio`, the
  engine's scheduler, step budget and recv interval) is reported beside the gated figures
  and does not do better: with fixed lengths it keeps each wave's prompts together for good,
  while real runs drift apart (Mistral-7B on the RTX 4090 at 4-16 users +77 % to +302 %:
  four 256-token bf16 prompts in one step need 90 ms at the card's 165 TFLOP/s peak, 63 ms
  was measured, and that table's output tok/s over req/s gives 100 output tokens per
  request, not 128). The replay's TPOT is the benchmarks' (e2e − TTFT)/(OSL − 1); the steady
  state folds one user's own prompt into its TPOT.
* AMD: MI300X has factors of its own, fitted to AMD's published vLLM 0.11.1 latency table
  (Llama 3.1 70B and 405B FP8 at TP8, batch 1-128). With the GPU held out it is priced
  up to 36 % fast at batch 64-128 (41 % before its measured matmul rate, 51 % of its
  datasheet peak, was used; the rest of the gap is factors fitted on NVIDIA GPUs only).
  The table's latency command sets no `--kv-cache-dtype`, so its rows are priced with a
  16-bit KV cache. The OCI 405B rows
  (engine version unstated) stay held out. Other AMD GPUs (MI325X, MI350X, MI355X) have no
  measurement here and borrow the AMD group's factors (one ROCm software stack), never
  NVIDIA's; no datapoint tests that borrowing yet.
* Collectives: with the per-message latency and the link share fitted (about 23 us and 39 %
  on 2026-12-02), TP layouts stop biasing the other factors: decode MFU rose from 0.31 to
  0.44, and Llama 3.3 70B at TP1 and Llama 3.1 405B at TP4/TP8 no longer err in opposite
  directions when one of them is held out. The share is an effective figure: NCCL reaches
  about 82 % of an H100's NVLink on large messages (370 of 450 GB/s, its maintainer in
  https://github.com/NVIDIA/nccl-tests/issues/212), so it also carries what tensor
  parallelism costs beside the bytes (smaller GEMM shards, synchronisation, mid-size messages
  below the bulk rate), and one share for every message size overprices long TP8 prefills
  (DeepSeek-R1 AWQ TTFT at 3-8k tokens +34 to +92 %). Fixed at 82 % instead, the fit moves
  that cost into decode MFU (0.44 -> 0.31) and prices TP1 decode slow (gpt-oss-120b on MI300X
  TPOT +146 to +184 % in-sample); a per-size protocol model is the way out, not yet landed.
* MoE: the grouped-GEMM waste `g(n) = n/(n + min(n½, 128))` is bounded by one kernel tile (128 rows)
  and taken at the rows of the experts a step touches, so decode at a few rows per expert stays
  bound by the experts' weight read. Each token's routing through its `k` experts moves `L_moe·k·(2d
  + 3I/t)` bf16 activations, written and read (`service/domain/moe.py` `routing_bytes_per_token`),
  priced as memory traffic of kernels of its own (gather, activation, scatter), added to attention
  rather than hidden under its FLOPs; with it, TensorRT-LLM's Qwen3 and DeepSeek-R1 DEP rows on
  B200/GB200 (a newer doc, held out) land within -27 to +13 %, but MoE models with few active
  parameters still run slower than priced the longer the prompt: Qwen3-30B-A3B on one B200
  (2048/128: +84 to +109 % held out) and gpt-oss-20b/120b, on B200/GB200 within -33 to +35 % (W4A8,
  below) but on H200/H100 (16-bit maths) prompt-heavy rows up to +37 % and long-output rows down to
  -68 % (the doc's columns say FP4/FP8 but list no gpt-oss checkpoint, so the rows price OpenAI's
  MXFP4 experts); DeepSeek-R1 on H200 DEP8 at 8k-33k outputs is priced +20 to +90 % fast
  (unexplained; +129 to +136 % before the offline rows were priced as their benchmark ran, since
  1,500 requests at a batch of 1,462 leave a last wave of 38 that decodes alone). DeepSeek-R1 AWQ
  decode on 8xH100 is flat at ~16 ms whatever the prompt, far above its weight read. gpt-oss-120b on
  one MI300X at 64-256 users is priced +77 to +204 % slow (TPOT): at two rows per expert the
  tile-waste term prices its grouped GEMMs as compute, and the MI300X's measured matmul rate (51 %
  of its peak) makes that worse (+9 to +71 % before it was used); small-M MoE kernels (16-row tiles,
  swapped operands) are what the term does not yet know. MoE "attention DP" layouts follow the
  tables.
* Attention DP: each rank caches its own sequences unsharded (every KV head, MLA's whole
  latent), so a DP group holds `t` times one rank's batch; the KV bytes a GPU reads per
  decode step are `1/t` of its sequences' whole caches. Before, MLA models under attention
  DP were given the TP layout's replicated latent: `t` times too few sequences.
* Short prefills in the H200 reference (Llama-3.2-1B at 512 tokens, Llama-3.1-8B at 128)
  run eagerly (prefill is not in CUDA graphs there) and are bound by kernel launches; the
  fixed costs, fitted mostly on graph-captured decode steps, underestimate them.
* The FLOP count sends every prompt position through `lm_head` (formula sheet §2.4); engines
  compute logits for the last position only, so prefill FLOPs are high by V·d/N (7 % for
  Llama-3.1-8B, 21 % for Llama-3.2-1B, < 2 % above 70B) — absorbed by the fitted prefill MFU.
* FP4 rows price their weight matmuls at the FP4 dense peak of B200/GB200 and NVFP4 weight
  bytes (4.5 bits); FP8 rows at the FP8 peak; both with an FP8 KV cache (ModelOpt
  checkpoints), so their attention runs at the FP8 rate (attention follows the KV cache's
  precision, never the weights' 4-bit rate). MXFP4 checkpoints (gpt-oss) run W4A8 on
  Blackwell under TensorRT-LLM, MXFP4 weights with MXFP8 activations at the FP8 rate
  (`ModelConfig.get_mxfp4_quant_algo` picks `W4A8_MXFP4_MXFP8` on sm100+; vLLM's default
  keeps bf16 activations, `mxfp4_activations` in `catalog/engines.yaml`), and weight-only
  at 16 bit on Hopper; priced at the W4A4 rate before, gpt-oss prompt-heavy rows on
  B200/GB200 ran up to +64 % faster than measured, now up to +35 %.
* vLLM V1: the `vllm-0.8.5` profile (chunked prefill always on, 2048-token steps, 0.2 GiB
  non-torch) is built from vLLM defaults and public logs but **not validated**: no V1 start-up
  log is in the reference set. The V0 profiles are validated on two GPUs and two versions.
* Non-torch memory above TP2 is assumed constant (one NCCL/custom-all-reduce term); no log
  at TP4/TP8 was available to check it.
"""


def render_markdown(validation: Validation, reference_dir: str, svg_name: str) -> str:
    calibration = validation.calibration
    lines = [
        "# Validation: predictions against real measurements",
        "",
        "Generated by `capplan validate` (offline; `service/validation/`). Reference data: "
        f"`{reference_dir}` (`vllm_memory.json`, `latency.json`) and "
        "`bench/results/gpu_roofline_h200.json` (our PyTorch reference forward pass on an "
        "H200 — bf16 matmuls + SDPA, decode in CUDA graphs — **not vLLM**).",
        "",
        "In-sample: priced with `catalog/calibration.yaml`. Held out: priced by a fit without "
        "any measurement on the same GPU (leave-one-GPU-out), or of the same model "
        "(leave-one-model-out), same code. Serving sweeps (TTFT/TPOT at a stated concurrency) "
        'and rows marked `"fit": false` are never in the fit. The targets apply to the '
        "held-out medians of published families; our H200 reference run is reported, never "
        "gated. Errors are (predicted / measured − 1); summaries are medians of absolute errors.",
        "",
        "## Summary",
        "",
        *summary_table(validation),
        "",
        "Serving sweeps priced a second way, by replaying their closed-loop benchmark step by "
        "step (`service/domain/benchmark_sim.py`; the answers' `ttft_ms`/`tpot_ms` stay the "
        "steady state above):",
        "",
        *replay_table(validation),
        "",
        "Serving sweeps by the kind of engine that ran them (`engine_profile` of each row):",
        "",
        *engine_table(validation),
        "",
        f"![predicted vs measured]({svg_name})",
        "",
        "## KV cache capacity against vLLM start-up logs",
        "",
        "GPU total from the log itself; engine profile chosen by the log's vLLM version.",
        "",
        *kv_table(validation),
        "",
        ENGINE_MEMORY,
        "## Fitted efficiency factors",
        "",
        *factors_table(calibration),
        "",
        "## Error bands (`service/domain/confidence.py`)",
        "",
        "Central 80 % of measured/predicted in the back-test; an answer's expected range is "
        "its value times this band.",
        "",
        *bands_table(calibration),
        "",
        "## Fitted vs derived",
        "",
        FITTED_VS_DERIVED,
        "## Every latency and throughput datapoint",
        "",
        *cases_table(validation.results),
        "",
        "## Known limits",
        "",
        LIMITS,
    ]
    return "\n".join(lines)
