"""Predicted vs measured on log-log axes with the y = x line, as a self-contained SVG.

Three panels (times in ms, throughput in tokens/s, KV capacity in tokens) because the units
differ; in each, filled markers are held-out predictions and hollow ones in-sample.
Written by hand (no plotting library): axes at whole decades, one colour per dataset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import msgspec

PANEL = 300
MARGIN = 48
COLOURS = {
    "latency.json": "#1f77b4",
    "h200-reference": "#d62728",
    "vllm_memory.json": "#2ca02c",
}


class Point(msgspec.Struct, frozen=True, kw_only=True):
    measured: float
    predicted: float
    dataset: str
    held_out: bool
    label: str


class Panel(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    unit: str
    points: list[Point]


def _decades(points: Sequence[Point]) -> tuple[int, int]:
    values = [v for p in points for v in (p.measured, p.predicted) if v > 0]
    return math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))


def _panel(panel: Panel, x0: float) -> list[str]:
    low, high = _decades(panel.points)
    high = max(high, low + 1)
    span = high - low

    def px(value: float) -> float:
        return x0 + MARGIN + (math.log10(value) - low) / span * PANEL

    def py(value: float) -> float:
        return MARGIN + PANEL - (math.log10(value) - low) / span * PANEL

    left, top, size = x0 + MARGIN, MARGIN, PANEL
    out = [
        f'<text x="{left + size / 2:.1f}" y="{top - 14}" text-anchor="middle" '
        f'font-weight="bold">{escape(panel.title)}</text>',
        f'<rect x="{left:.1f}" y="{top}" width="{size}" height="{size}" fill="none" '
        'stroke="#444"/>',
    ]
    for decade in range(low, high + 1):
        value = 10.0**decade
        label = f"1e{decade}" if abs(decade) > 3 else f"{value:g}"
        out += [
            f'<line x1="{px(value):.1f}" y1="{top}" x2="{px(value):.1f}" y2="{top + size}" '
            'stroke="#ddd"/>',
            f'<line x1="{left:.1f}" y1="{py(value):.1f}" x2="{left + size:.1f}" '
            f'y2="{py(value):.1f}" stroke="#ddd"/>',
            f'<text x="{px(value):.1f}" y="{top + size + 14}" text-anchor="middle" '
            f'font-size="10">{label}</text>',
            f'<text x="{left - 4:.1f}" y="{py(value) + 3:.1f}" text-anchor="end" '
            f'font-size="10">{label}</text>',
        ]
    out += [
        f'<line x1="{px(10.0**low):.1f}" y1="{py(10.0**low):.1f}" x2="{px(10.0**high):.1f}" '
        f'y2="{py(10.0**high):.1f}" stroke="#888" stroke-dasharray="4 3"/>',
        f'<text x="{left + size / 2:.1f}" y="{top + size + 32}" text-anchor="middle" '
        f'font-size="11">measured ({escape(panel.unit)})</text>',
        f'<text x="{left - 36:.1f}" y="{top + size / 2:.1f}" text-anchor="middle" '
        f'font-size="11" transform="rotate(-90 {left - 36:.1f} {top + size / 2:.1f})">'
        f"predicted ({escape(panel.unit)})</text>",
    ]
    for p in panel.points:
        colour = COLOURS.get(p.dataset, "#555")
        fill = colour if p.held_out else "none"
        out.append(
            f'<circle cx="{px(p.measured):.1f}" cy="{py(p.predicted):.1f}" r="3.5" '
            f'fill="{fill}" stroke="{colour}" fill-opacity="0.75">'
            f"<title>{escape(p.label)}</title></circle>"
        )
    return out


def render(panels: Sequence[Panel]) -> str:
    """The whole figure: panels side by side and a legend underneath."""
    width = len(panels) * (PANEL + 2 * MARGIN)
    height = PANEL + 2 * MARGIN + 40
    body: list[str] = []
    for i, panel in enumerate(panels):
        body += _panel(panel, i * (PANEL + 2 * MARGIN))
    legend_y = PANEL + 2 * MARGIN + 20
    x = MARGIN
    for dataset, colour in COLOURS.items():
        body.append(f'<circle cx="{x}" cy="{legend_y - 4}" r="4" fill="{colour}"/>')
        body.append(f'<text x="{x + 8}" y="{legend_y}" font-size="11">{dataset}</text>')
        x += 150
    body.append(
        f'<text x="{x}" y="{legend_y}" font-size="11">filled: held out (GPU left out of the fit); '
        "hollow: in-sample; dashed: y = x</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
        f'<rect width="{width}" height="{height}" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n"
    )
