"""The class score histogram as inline SVG, built from numbers with every text escaped.

No plotting library: the chart is a handful of rectangles, and an inline SVG stays
sharp in print, needs no network and carries its own text alternative.
"""

from __future__ import annotations

import math
from typing import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 48


def bin_counts(values: Sequence[float], max_score: float, bins: int) -> list[int]:
    """How many values fall into each of `bins` equal ranges of [0, max_score]."""
    counts = [0] * bins
    top = max_score if max_score > 0 else max((v for v in values), default=1.0) or 1.0
    for value in values:
        if not math.isfinite(value):
            continue
        index = int(min(max(value / top, 0.0), 1.0) * bins)
        counts[min(index, bins - 1)] += 1
    return counts


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def default_bins(max_score: float) -> int:
    """One bar per point for small whole-number maxima (no 1.4-wide bars), else ten."""
    if 1 <= max_score <= 20 and float(max_score).is_integer():
        return int(max_score)
    return 10


def histogram(values: Sequence[float], max_score: float, bins: int | None = None,
              label: str = "Distribution of total scores") -> Markup:
    """An accessible SVG bar chart of `values`; counts are written on the bars too."""
    bins = bins or default_bins(max_score)
    counts = bin_counts(values, max_score, bins)
    top = max_score if max_score > 0 else 1.0
    peak = max(counts, default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / bins
    summary = ", ".join(
        f"{_fmt(top * i / bins)}–{_fmt(top * (i + 1) / bins)}: {n}" for i, n in enumerate(counts)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="histogram" aria-labelledby="hist-title hist-desc">',
        f'<title id="hist-title">{escape(label)}</title>',
        f'<desc id="hist-desc">Number of students per score range: {escape(summary)}</desc>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        f'stroke="currentColor"/>',
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x, y = LEFT + i * bar_w, TOP + plot_h - h
        low, high = _fmt(top * i / bins), _fmt(top * (i + 1) / bins)
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
            f'class="bar"><title>{escape(low)}–{escape(high)} points: {count} '
            f'student{"" if count == 1 else "s"}</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="12">{count}</text>'
            )
    for i in range(bins + 1):  # ticks on the bin edges: each bar spans two numbers
        x = LEFT + i * bar_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" '
            f'stroke="currentColor"/><text x="{x:.1f}" y="{TOP + plot_h + 17}" '
            f'text-anchor="middle" font-size="11">{escape(_fmt(top * i / bins))}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'font-size="12">total score (points)</text>'
    )
    parts.append(
        f'<text x="12" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})">students</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
