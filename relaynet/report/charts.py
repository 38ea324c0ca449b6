"""Small inline SVG charts for the report (no plotting library, no script).

Every label is HTML-escaped; numbers are formatted here. The SVG is meant to be pasted
into an HTML page as is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError

_FONT = 'font-family="system-ui,sans-serif" font-size="12"'


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    value_format: str = "{:.1%}",
    maximum: float | None = None,
    reference: float | None = None,
    reference_label: str = "",
    color: str = "#2b8cbe",
    width: int = 520,
) -> str:
    """Horizontal bar chart as an SVG string.

    Parameters
    ----------
    labels, values
        One bar per label; NaN values draw no bar and show "n/a".
    title
        Chart title (also the SVG's accessible name).
    value_format
        Format of the value printed after each bar (``"{:.1%}"`` for shares).
    maximum
        Value of a full-width bar (default: the largest value).
    reference
        Draw a dashed vertical line at this value (e.g. a 90 % target).
    """
    values = np.asarray(values, dtype=float)
    if len(labels) != len(values):
        raise ParameterError("bar_chart: labels and values differ in length")
    finite = values[np.isfinite(values)]
    top = maximum if maximum is not None else (finite.max() if finite.size else 1.0)
    top = top if top and top > 0 else 1.0
    left, right, row, head = 130, 70, 26, 34
    plot = width - left - right
    height = head + row * len(values) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}" class="chart">',
        f"<title>{_esc(title)}</title>",
        f'<text x="0" y="16" {_FONT} font-weight="600">{_esc(title)}</text>',
    ]
    for k, (text, value) in enumerate(zip(labels, values, strict=True)):
        y = head + k * row
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" {_FONT}>{_esc(text)}</text>'
        )
        if np.isfinite(value):
            w = max(0.0, min(value / top, 1.0)) * plot
            parts.append(
                f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                f'fill="{_esc(color)}"><title>{_esc(text)}: {_esc(value_format.format(value))}'
                "</title></rect>"
            )
            shown = value_format.format(value)
        else:
            w, shown = 0.0, "n/a"
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}" {_FONT}>{_esc(shown)}</text>')
    if reference is not None and np.isfinite(reference):
        x = left + min(reference / top, 1.0) * plot
        parts.append(
            f'<line x1="{x:.1f}" y1="{head - 4}" x2="{x:.1f}" y2="{height - 6}" '
            'stroke="#b42318" stroke-dasharray="4 3"/>'
        )
        if reference_label:
            parts.append(
                f'<text x="{x:.1f}" y="{head - 8}" text-anchor="middle" {_FONT} '
                f'fill="#b42318">{_esc(reference_label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    values: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    edges: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
    overflow_label: str | None = None,
    color: str = "#6a51a3",
    width: int = 520,
    height: int = 240,
) -> str:
    """Vertical histogram as an SVG string (weighted sums per bin).

    Parameters
    ----------
    values
        Values to bin; NaN values are ignored.
    weights
        Weight of each value (default 1): e.g. population per commune.
    edges
        Bin edges, increasing; values above the last edge go into a last "overflow" bin
        labelled ``overflow_label`` (default ``"> last"``).
    """
    values = np.asarray(values, dtype=float)
    weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ParameterError("histogram: edges must be at least two increasing numbers")
    ok = np.isfinite(values) & np.isfinite(weights)
    values, weights = values[ok], weights[ok]
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 1)
    sums = np.bincount(index, weights=weights, minlength=len(edges))
    labels = [f"{a:g}–{b:g}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(overflow_label or f"> {edges[-1]:g}")
    left, bottom, head = 56, 46, 30
    plot_w, plot_h = width - left - 10, height - bottom - head
    top = sums.max() if sums.size and sums.max() > 0 else 1.0
    bar_w = plot_w / len(sums)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}" class="chart">',
        f"<title>{_esc(title)}</title>",
        f'<text x="0" y="16" {_FONT} font-weight="600">{_esc(title)}</text>',
        f'<line x1="{left}" y1="{head + plot_h}" x2="{width - 10}" y2="{head + plot_h}" '
        'stroke="#555"/>',
        f'<text x="{left - 6}" y="{head + 10}" text-anchor="end" {_FONT}>{_short(top)}</text>',
        f'<text x="{left - 6}" y="{head + plot_h}" text-anchor="end" {_FONT}>0</text>',
        f'<text x="12" y="{head + plot_h / 2:.0f}" {_FONT} transform="rotate(-90 12 '
        f'{head + plot_h / 2:.0f})" text-anchor="middle">{_esc(ylabel)}</text>',
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle" {_FONT}>'
        f"{_esc(xlabel)}</text>",
    ]
    for k, (text, total) in enumerate(zip(labels, sums, strict=True)):
        h = total / top * plot_h
        x = left + k * bar_w
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{head + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="{_esc(color)}"><title>{_esc(text)}: {_short(total)}'
            "</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{head + plot_h + 14}" text-anchor="middle" '
            f'font-family="system-ui,sans-serif" font-size="10">{_esc(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(value: float) -> str:
    """``1234567`` → ``"1.2M"``; ``4500`` → ``"4.5k"``."""
    value = float(value)
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"
