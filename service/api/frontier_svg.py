"""``GET /v1/frontier.svg``: the frontier as a chart (hand-written SVG, no plotting library).

Left: output tokens/s per GPU against tokens/s per user (the throughput–interactivity
trade), one marker per concurrency, filled where the point meets the SLO; a TPOT target is
the vertical line at 1000/TPOT. Right: TTFT and TPOT against concurrency on log axes, with
the SLO targets as horizontal lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from service.contract.frontier import FrontierResponse
from service.domain.frontier import FrontierPoint

WIDTH, HEIGHT = 980, 470
PANEL_W, PANEL_H = 380, 300
LEFT_X, RIGHT_X, TOP_Y = 80, 570, 80
TTFT_COLOUR, TPOT_COLOUR, CURVE_COLOUR, SLO_COLOUR = "#1f77b4", "#ff7f0e", "#2a9d8f", "#d62728"


def _nice_max(value: float) -> float:
    """The next 1, 2 or 5 × 10^k at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for multiple in (1.0, 2.0, 5.0):
        if multiple * power >= value:
            return multiple * power
    return 10.0 * power


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


def _axes(x0: float, title: str, x_label: str, y_label: str) -> list[str]:
    y1 = TOP_Y + PANEL_H
    return [
        f'<rect x="{x0}" y="{TOP_Y}" width="{PANEL_W}" height="{PANEL_H}" fill="#fafafa" '
        'stroke="#999"/>',
        _text(x0 + PANEL_W / 2, TOP_Y - 12, title, text_anchor="middle", font_weight="bold"),
        _text(x0 + PANEL_W / 2, y1 + 38, x_label, text_anchor="middle"),
        _text(x0 - 52, TOP_Y + PANEL_H / 2, y_label, text_anchor="middle",
              transform=f"rotate(-90 {x0 - 52} {TOP_Y + PANEL_H / 2})"),
    ]  # fmt: skip


def _linear_ticks(x0: float, x_max: float, y_max: float) -> list[str]:
    out = []
    for i in range(6):
        fx, fy = i / 5, i / 5
        px, py = x0 + fx * PANEL_W, TOP_Y + PANEL_H - fy * PANEL_H
        out.append(f'<line x1="{px:.1f}" y1="{TOP_Y + PANEL_H}" x2="{px:.1f}" y2="{TOP_Y}" '
                   'stroke="#e5e5e5"/>')  # fmt: skip
        out.append(_text(px, TOP_Y + PANEL_H + 16, f"{fx * x_max:,.0f}", text_anchor="middle"))
        out.append(f'<line x1="{x0}" y1="{py:.1f}" x2="{x0 + PANEL_W}" y2="{py:.1f}" '
                   'stroke="#e5e5e5"/>')  # fmt: skip
        out.append(_text(x0 - 6, py + 4, f"{fy * y_max:,.0f}", text_anchor="end"))
    return out


def _pareto(points: Sequence[FrontierPoint], tpot_slo: float | None) -> list[str]:
    x_max = _nice_max(max(p.output_tokens_per_s_per_user for p in points) * 1.05)
    y_max = _nice_max(max(p.output_tokens_per_s_per_gpu for p in points) * 1.05)

    def at(p: FrontierPoint) -> tuple[float, float]:
        x = LEFT_X + p.output_tokens_per_s_per_user / x_max * PANEL_W
        y = TOP_Y + PANEL_H - p.output_tokens_per_s_per_gpu / y_max * PANEL_H
        return x, y

    out = _axes(LEFT_X, "Throughput vs interactivity", "output tokens/s per user (1000/TPOT)",
                "output tokens/s per GPU")  # fmt: skip
    out += _linear_ticks(LEFT_X, x_max, y_max)
    if tpot_slo is not None and 1e3 / tpot_slo <= x_max:
        x = LEFT_X + 1e3 / tpot_slo / x_max * PANEL_W
        out.append(f'<line x1="{x:.1f}" y1="{TOP_Y}" x2="{x:.1f}" y2="{TOP_Y + PANEL_H}" '
                   f'stroke="{SLO_COLOUR}" stroke-dasharray="6 4"/>')  # fmt: skip
        out.append(_text(x + 4, TOP_Y + 14, f"TPOT SLO {tpot_slo:g} ms", fill=SLO_COLOUR))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(at, points))
    out.append(f'<polyline points="{path}" fill="none" stroke="{CURVE_COLOUR}" stroke-width="2"/>')
    labelled: list[tuple[float, float]] = []
    for p in points:
        x, y = at(p)
        fill = CURVE_COLOUR if p.meets_slo is not False else "white"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{fill}" '
                   f'stroke="{CURVE_COLOUR}" stroke-width="1.5"><title>{p.concurrency} users: '
                   f"{p.output_tokens_per_s_per_user:.1f} tok/s/user, "
                   f"{p.output_tokens_per_s_per_gpu:,.0f} tok/s/GPU</title></circle>")  # fmt: skip
        if all(math.hypot(x - lx, y - ly) > 16 for lx, ly in labelled):
            labelled.append((x, y))
            out.append(_text(x + 6, y - 6, f"C={p.concurrency}", font_size="10", fill="#555"))
    return out


def _log_span(values: Sequence[float]) -> tuple[float, float]:
    low = math.floor(math.log10(max(min(values), 1e-3)))
    high = math.ceil(math.log10(max(values)))
    return float(low), float(max(high, low + 1))


def _latency(points: Sequence[FrontierPoint], ttft_slo: float | None,
             tpot_slo: float | None) -> list[str]:  # fmt: skip
    users = [p.concurrency for p in points]
    x_hi = max(math.log2(max(users)), 1.0)
    slos = [v for v in (ttft_slo, tpot_slo) if v is not None]
    low, high = _log_span([*(p.ttft_ms for p in points), *(p.tpot_ms for p in points), *slos])

    def px(c: int) -> float:
        return RIGHT_X + math.log2(c) / x_hi * PANEL_W

    def py(ms: float) -> float:
        return TOP_Y + PANEL_H - (math.log10(ms) - low) / (high - low) * PANEL_H

    out = _axes(RIGHT_X, "Latency vs concurrency", "concurrent users (log)", "ms (log)")
    for k in range(int(low), int(high) + 1):
        y = py(10.0**k)
        out.append(f'<line x1="{RIGHT_X}" y1="{y:.1f}" x2="{RIGHT_X + PANEL_W}" y2="{y:.1f}" '
                   'stroke="#e5e5e5"/>')  # fmt: skip
        out.append(_text(RIGHT_X - 6, y + 4, f"{10.0**k:g}", text_anchor="end"))
    ticks = [c for c in users if c & (c - 1) == 0]
    if px(users[-1]) - px(ticks[-1]) > 24:
        ticks.append(users[-1])
    for c in ticks:
        out.append(_text(px(c), TOP_Y + PANEL_H + 16, str(c), text_anchor="middle"))
    for name, colour, values, slo in (
        ("TTFT", TTFT_COLOUR, [p.ttft_ms for p in points], ttft_slo),
        ("TPOT", TPOT_COLOUR, [p.tpot_ms for p in points], tpot_slo),
    ):
        path = " ".join(f"{px(c):.1f},{py(v):.1f}" for c, v in zip(users, values, strict=True))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for c, v in zip(users, values, strict=True):
            out.append(f'<circle cx="{px(c):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}">'
                       f"<title>{c} users: {name} {v:,.1f} ms</title></circle>")  # fmt: skip
        if slo is not None:
            y = py(slo)
            out.append(f'<line x1="{RIGHT_X}" y1="{y:.1f}" x2="{RIGHT_X + PANEL_W}" '
                       f'y2="{y:.1f}" stroke="{colour}" stroke-dasharray="6 4"/>')  # fmt: skip
            out.append(_text(RIGHT_X + PANEL_W - 4, y - 4, f"{name} SLO {slo:g} ms",
                             text_anchor="end", fill=colour))  # fmt: skip
    legend_y = TOP_Y + PANEL_H + 58
    for i, (name, colour) in enumerate((("TTFT (steady state)", TTFT_COLOUR),
                                        ("TPOT", TPOT_COLOUR))):  # fmt: skip
        x = RIGHT_X + i * 170
        out.append(f'<line x1="{x}" y1="{legend_y}" x2="{x + 24}" y2="{legend_y}" '
                   f'stroke="{colour}" stroke-width="2"/>')  # fmt: skip
        out.append(_text(x + 30, legend_y + 4, name))
    return out


def saturation_summary(answer: FrontierResponse) -> str:
    """The subtitle's first clause: the most the replica delivers and the users it takes,
    which count those in prefill or waiting beside the decode batch (so 82 users can keep
    an 81-sequence batch full)."""
    top = f"max {answer.max_output_tokens_per_s:,.0f} output tok/s"
    users = answer.saturation_concurrency
    if answer.saturation_limit == "max_batch":
        return (f"{top}: {users:,} users keep the {answer.max_batch:,}-sequence batch full "
                "(the others in prefill or queued)")  # fmt: skip
    return f"{top}: {users:,} users fill the {answer.step_tokens:,}-token step budget with prompts"


def frontier_svg(answer: FrontierResponse) -> str:
    """The chart of the module doc (a notice instead when nothing fits)."""
    head = (f"{answer.model} on {answer.gpu_count}x {answer.gpu} ({answer.weight_dtype} "
            f"weights, {answer.kv_cache_dtype} KV, {answer.engine} "
            f"{answer.engine_version})")  # fmt: skip
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text(WIDTH / 2, 24, head, text_anchor="middle", font_size="15", font_weight="bold"),
    ]
    if not answer.points:
        body.append(_text(WIDTH / 2, HEIGHT / 2, "Does not fit: " + "; ".join(answer.reasons),
                          text_anchor="middle", fill=SLO_COLOUR))  # fmt: skip
        return "\n".join([*body, "</svg>"])
    summary = saturation_summary(answer)
    if answer.best_meeting_slo is not None:
        best = answer.best_meeting_slo
        summary += (f"; best within SLO: {best.concurrency} users, "
                    f"{best.output_tokens_per_s:,.0f} tok/s")  # fmt: skip
    elif answer.slo_ttft_ms is not None or answer.slo_tpot_ms is not None:
        summary += "; no concurrency meets the SLO"
    body.append(_text(WIDTH / 2, 44, summary, text_anchor="middle", fill="#444"))
    body += _pareto(answer.points, answer.slo_tpot_ms)
    body += _latency(answer.points, answer.slo_ttft_ms, answer.slo_tpot_ms)
    return "\n".join([*body, "</svg>"])
