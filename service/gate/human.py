"""The default output: verdict first, then each check, the memory breakdown, margin and fixes."""

from __future__ import annotations

from service.domain.units import GB, GIB
from service.gate.report import Report, Status, Suggestion
from service.gate.text import money, size, tokens

GROUPS = (
    ("fits", "that make it fit"),
    ("concurrency", "that fit max_num_seqs sequences at once"),
    ("slo", "that meet the SLO"),
)
_MARK = {Status.PASS: "ok  ", Status.FAIL: "FAIL", Status.WARN: "warn", Status.SKIP: "skip"}


def describe(report: Report) -> str:
    """``meta-llama/Llama-3.1-8B on 1x h100-sxm (TP1 PP1), max_model_len 8,192, ...``;
    an MoE layout adds ``EP8`` (experts over the TP GPUs) and ``attention-DP``."""
    s = report.setup
    layout = f"TP{s.tensor_parallel} PP{s.pipeline_parallel}"
    if s.expert_parallel:
        layout += f" EP{s.tensor_parallel}"
    if s.attention_data_parallel:
        layout += " attention-DP"
    if s.replicas > 1:
        layout += f" x{s.replicas} replicas"
    return (
        f"{s.model} on {s.gpu_count}x {s.gpu} ({layout}), max_model_len "
        f"{tokens(s.max_model_len)}, weights {s.weight_dtype}, KV cache {s.kv_cache_dtype}"
    )


def headline(report: Report) -> str:
    """The verdict (with a warning count), then the deployment."""
    warnings = sum(check.status is Status.WARN for check in report.checks)
    verdict = report.verdict.upper()
    if warnings:
        verdict += f" ({warnings} warning{'s' if warnings > 1 else ''})"
    return f"{verdict}  {describe(report)}"


def memory_table(report: Report) -> list[str]:
    """Per-GPU memory as the engine divides it at start-up, in GB and GiB (each figure is
    one GPU's; ``usable`` is the share of the total the engine's fraction leaves)."""
    m = report.memory
    share = m.usable / m.total if m.total > 0 else 0.0
    rows = [
        ("GPU total", m.total),
        (f"usable ({share:.0%})", m.usable),
        ("weights", m.weights),
        ("activations (profile run)", m.activation),
        ("runtime (CUDA, NCCL)", m.non_torch),
        ("CUDA graphs", m.cudagraph),
        ("KV cache", m.kv_cache),
    ]
    lines = [f"  {'memory per GPU (' + report.engine + ')':<28}{'GB':>10}{'GiB':>10}"]
    lines += [f"  {label:<28}{value / GB:>10.2f}{value / GIB:>10.2f}" for label, value in rows]
    return lines


def suggestion_line(rank: int, suggestion: Suggestion) -> str:
    cost = (
        "" if suggestion.extra_cost_per_hour == 0 else f" [{money(suggestion.extra_cost_per_hour)}]"
    )
    return f"  {rank}. {suggestion.change}  ->  {suggestion.outcome}{cost}"


def render_human(report: Report) -> str:
    lines = [
        headline(report),
        f"  source: {report.source}; backend: {report.backend} ({report.engine})",
    ]
    lines += [f"  [{_MARK[c.status]}] {c.name}: {c.summary}" for c in report.checks]
    lines += ["", *memory_table(report), ""]
    length = tokens(report.setup.max_model_len)
    lines.append(
        f"  KV cache margin {size(report.margin_bytes)}: one sequence of {length} tokens "
        f"needs {size(report.sequence_kv_bytes)}"
    )
    if report.latency is not None:
        lat = report.latency
        lines.append(
            f"  latency at batch {lat.batch_per_replica} ({tokens(lat.input_tokens)} in / "
            f"{tokens(lat.output_tokens)} out): TTFT {lat.ttft_ms:,.1f} ms, "
            f"TPOT {lat.tpot_ms:,.1f} ms, end to end {lat.e2e_ms:,.0f} ms"
            + (
                f", burst TTFT {lat.burst_ttft_ms:,.1f} ms"
                if lat.slo_burst and lat.burst_ttft_ms
                else ""
            )
        )
    for fixes, purpose in GROUPS:
        group = [s for s in report.suggestions if s.fixes == fixes]
        if group:
            lines += ["", f"cheapest changes {purpose} (each re-checked):"]
            lines += [suggestion_line(i, s) for i, s in enumerate(group, start=1)]
    if report.verdict == "fail" and not report.suggestions:
        lines += ["", "no single change from the catalog makes it pass"]
    if report.warnings:
        lines += ["", "warnings (read, but not modelled or not known):"]
        lines += [f"  - {warning}" for warning in report.warnings]
    if report.ignored_arguments:
        ignored = " ".join(report.ignored_arguments)
        lines += ["", f"  ignored arguments (no effect on memory or speed): {ignored}"]
    return "\n".join(lines) + "\n"
