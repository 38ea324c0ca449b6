"""Charts of the report, as inline SVG (the report folder stays one self-contained page).

Two kinds: small hand-written SVG bar charts and histograms (:func:`bar_chart`,
:func:`histogram`; every label HTML-escaped), and figures drawn with matplotlib
(``*_figure`` functions, rendered by :func:`to_svg` / :func:`to_png`). The matplotlib
figures are plain ``Figure`` objects (no pyplot state), text stays text
(``svg.fonttype="none"``, escaped by matplotlib's SVG writer, mathtext off so a ``$`` in a
name is literal), and output is deterministic: fixed ``svg.hashsalt``, no date in the
metadata — identical runs give identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ParameterError

_FONT = 'font-family="system-ui,sans-serif" font-size="12"'


def _esc(text: object) -> str:
    """Data text for the SVG: :func:`relaynet.maps._html.esc` (HTML-escaped, braces as
    character references, ``""`` for a missing value)."""
    from ..maps._html import esc

    return esc(text)


# Advance widths of DejaVu Sans (the widest common system-ui fallback), in em; other
# characters count as 0.62 em (lower case) or 0.74 em (upper case, digits 0.64 em). Used to
# give labels the room they need: an estimate on the wide side, never a measurement.
_NARROW = dict.fromkeys("il.,:;'|!", 0.28) | dict.fromkeys("jftr()[] -·", 0.4)
_WIDE = dict.fromkeys("mwMW", 0.98) | dict.fromkeys("–—…%", 0.84)


def text_width(text: str, size: float = 12) -> float:
    """Estimated width in pixels of ``text`` at ``size`` px in a sans-serif font."""
    total = 0.0
    for char in str(text):
        if char in _NARROW:
            total += _NARROW[char]
        elif char in _WIDE:
            total += _WIDE[char]
        elif char.isdigit():
            total += 0.64
        elif char.isupper():
            total += 0.74
        else:
            total += 0.62
    return total * size


def wrap_label(text: str, room: float, size: float = 12) -> list[str]:
    """``text`` cut into lines no wider than ``room`` pixels (between words; a word wider
    than a line is cut between characters). Nothing is dropped."""
    lines: list[str] = []
    line = ""
    for word in str(text).split(" "):
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= room:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and text_width(line + char, size) > room:
                lines.append(line)
                line = ""
            line += char
    lines.append(line)
    return lines


def _formatter(value_format: str | Callable[[float], str]) -> Callable[[float], str]:
    return value_format if callable(value_format) else value_format.format


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    value_format: str | Callable[[float], str] = "{:.1%}",
    maximum: float | None = None,
    reference: float | None = None,
    reference_label: str = "",
    color: str = "#2b8cbe",
    width: int = 520,
    groups: Sequence[str] | None = None,
) -> str:
    """Horizontal bar chart as an SVG string.

    Every label is shown in full: the label column is as wide as the longest label needs
    (at least 130 px, at most half the chart), and a label wider than that wraps onto
    more lines.

    Parameters
    ----------
    labels, values
        One bar per label; NaN values draw no bar and show "n/a".
    title
        Chart title (also the SVG's accessible name).
    value_format
        Format of the value printed after each bar: a format string (``"{:.1%}"`` for
        shares) or a function of the value returning text.
    maximum
        Value of a full-width bar (default: the largest value).
    reference
        Draw a dashed vertical line at this value (e.g. a 90 % target).
    reference_label
        Text written above the reference line (e.g. ``"target 90 %"``).
    width
        Width of the chart in pixels.
    groups
        A heading per bar: consecutive bars with the same heading are drawn under it
        once (e.g. the time window of bars per scenario).
    """
    values = np.asarray(values, dtype=float)
    labels = [str(t) for t in labels]
    if len(labels) != len(values):
        raise ParameterError("bar_chart: labels and values differ in length")
    if groups is not None and len(groups) != len(values):
        raise ParameterError("bar_chart: groups and values differ in length")
    fmt = _formatter(value_format)
    finite = values[np.isfinite(values)]
    top = maximum if maximum is not None else (finite.max() if finite.size else 1.0)
    top = top if top and top > 0 else 1.0
    shown = [fmt(v) if np.isfinite(v) else "n/a" for v in values]
    right = max(70, int(np.ceil(max((text_width(t) for t in shown), default=0) + 10)))
    widest = max((text_width(t) for t in labels), default=0.0)
    left = int(np.ceil(min(max(130.0, widest + 12), width / 2)))
    room = left - 12
    line_h, row, gap = 14, 26, 20
    head = 34 + (14 if reference is not None and reference_label else 0)
    plot = width - left - right
    rows = []  # (kind, lines, index, y)
    y = head
    previous = None
    for k, text in enumerate(labels):
        if groups is not None and groups[k] != previous:
            previous = groups[k]
            heading = wrap_label(previous, width - 4)
            rows.append(("group", heading, k, y))
            y += gap + line_h * (len(heading) - 1)
        lines = wrap_label(text, room)
        rows.append(("bar", lines, k, y))
        y += row + line_h * (len(lines) - 1)
    height = int(np.ceil(y + 10))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}" class="chart">',
        f"<title>{_esc(title)}</title>",
        f'<text x="0" y="16" {_FONT} font-weight="600">{_esc(title)}</text>',
    ]
    for kind, lines, k, y in rows:
        if kind == "group":
            parts.append(_text_lines(lines, 0, y + 14, 'font-weight="600"'))
            continue
        value = values[k]
        extra = line_h * (len(lines) - 1)
        parts.append(_text_lines(lines, left - 6, y + 15, 'text-anchor="end"'))
        if np.isfinite(value):
            w = max(0.0, min(value / top, 1.0)) * plot
            parts.append(
                f'<rect x="{left}" y="{y + 3 + extra / 2:g}" width="{w:.1f}" '
                f'height="{row - 8}" fill="{_esc(color)}"><title>{_esc(labels[k])}: '
                f"{_esc(shown[k])}</title></rect>"
            )
        else:
            w = 0.0
        parts.append(
            f'<text x="{left + w + 4:.1f}" y="{y + 15 + extra / 2:g}" {_FONT}>'
            f"{_esc(shown[k])}</text>"
        )
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


def _text_lines(lines: list[str], x: float, y: float, attributes: str) -> str:
    """One ``<text>`` of several lines (``<tspan>`` each, 14 px apart)."""
    if len(lines) == 1:
        return f'<text x="{x:g}" y="{y:g}" {attributes} {_FONT}>{_esc(lines[0])}</text>'
    spans = "".join(
        f'<tspan x="{x:g}" dy="{0 if k == 0 else 14}">{_esc(line)}</tspan>'
        for k, line in enumerate(lines)
    )
    return f'<text x="{x:g}" y="{y:g}" {attributes} {_FONT}>{spans}</text>'


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


# -- figures drawn with matplotlib (Agg), as inline SVG ---------------------------------------

_STYLE = {
    "svg.hashsalt": "relaynet",  # element ids the same from run to run
    "svg.fonttype": "none",  # text stays text (small, selectable, searchable)
    "text.parse_math": False,  # a "$" in a name is a dollar sign, not TeX
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "figure.dpi": 100,
}
"""Matplotlib settings of every figure (deterministic output, plain text)."""

GREEN, RED, BLUE, PURPLE, GREY = "#1a9850", "#d73027", "#2b8cbe", "#6a51a3", "#9e9e9e"


def _matplotlib():
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("report figures need matplotlib: pip install matplotlib") from exc
    return matplotlib


def figure(width: float = 5.6, height: float = 2.8):
    """A new figure and axes in the report's style (inches).

    Plain :class:`matplotlib.figure.Figure` objects, not pyplot: no GUI backend, no global
    state, nothing shown by surprise in a notebook (display one with ``display(fig)`` or
    :func:`to_svg`).
    """
    from matplotlib.figure import Figure

    with _matplotlib().rc_context(_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.subplots()
    return fig, ax


def to_svg(fig, title: str) -> str:
    """The figure as inline SVG (no XML prolog, no date), closed afterwards.

    Identical figures give identical text: ids come from ``svg.hashsalt`` and the
    metadata carry no date.
    """
    import io

    buffer = io.StringIO()
    with _matplotlib().rc_context(_STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    label = _esc(title)
    return text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{label}" ', 1)


def to_png(fig) -> bytes:
    """The figure as PNG bytes without a timestamp (for notebooks and README pictures)."""
    import io

    buffer = io.BytesIO()
    with _matplotlib().rc_context(_STYLE):
        fig.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    return buffer.getvalue()


def _short_label(text: object, size: int = 32) -> str:
    """A tick label that fits: at most ``size`` characters, ``…`` when cut."""
    text = str(text)
    return text if len(text) <= size else text[: size - 1] + "…"


def _title(fig, text: str) -> None:
    """The figure's title, from its left edge (not the axes'): long tick labels on the left
    no longer push it past the right edge, and constrained layout keeps it inside."""
    fig.suptitle(text, x=0.01, ha="left", fontsize=10, fontweight="bold")


def _percent_axis(axis, *, lowest: float = 0.0) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))


def window_density_figure(windows, window_label, density_label):
    """Share covered per time window (rows) and density class (bars): grouped bars.

    ``windows`` is an assessment's ``windows`` table (``window``, ``group``,
    ``share_covered``); ``window_label`` and ``density_label`` give words for the ids.
    """
    with _matplotlib().rc_context(_STYLE):
        fig, ax = figure(5.8, 3.0)
        order = list(dict.fromkeys(windows["window"].astype(str)))
        groups = [
            g for g in ("urban", "intermediate", "rural", "all") if g in set(windows["group"])
        ]
        colors = {"urban": "#08519c", "intermediate": "#6baed6", "rural": "#fd8d3c", "all": "#555"}
        height = 0.8 / max(len(groups), 1)
        table = windows.set_index(["window", "group"])["share_covered"]
        for k, group in enumerate(groups):
            values = [float(table.get((w, group), np.nan)) for w in order]
            y = np.arange(len(order)) + (k - (len(groups) - 1) / 2) * height
            ax.barh(
                y, values, height=height * 0.92, color=colors[group], label=density_label(group)
            )
        ax.set_yticks(np.arange(len(order)), [_short_label(window_label(w)) for w in order])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        _percent_axis(ax.xaxis)
        ax.set_xlabel("share of the population covered")
        _title(fig, "Share covered by time window and density class")
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, fontsize=8, frameon=False
        )
        ax.grid(axis="x", color="#ddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig


def distance_cdf_figure(distance_m, weight, standard_m: float | None = None):
    """Share of the population within each distance of its nearest point (weighted CDF,
    log-scaled kilometres), with the standard's distance marked."""
    distance = np.asarray(distance_m, float) / 1000
    weight = np.asarray(weight, float)
    ok = np.isfinite(distance) & np.isfinite(weight) & (weight > 0)
    distance, weight = distance[ok], weight[ok]
    order = np.argsort(distance, kind="stable")
    distance, weight = distance[order], weight[order]
    share = np.cumsum(weight) / weight.sum() if weight.sum() > 0 else np.zeros_like(weight)
    with _matplotlib().rc_context(_STYLE):
        fig, ax = figure(5.6, 2.8)
        ax.step(np.maximum(distance, 0.01), share, where="post", color=PURPLE, linewidth=1.6)
        ax.set_xscale("log")
        ax.set_xlim(0.05, max(float(distance.max()) * 1.2 if len(distance) else 1, 20))
        ax.set_ylim(0, 1.01)
        _percent_axis(ax.yaxis)
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("distance to the nearest eligible point (km, log scale)")
        ax.set_ylabel("population within")
        _title(fig, "How far people live from a point")
        ax.grid(color="#ddd", linewidth=0.6)
        if standard_m is not None and np.isfinite(standard_m) and len(distance):
            km = standard_m / 1000
            within = (
                float(share[np.searchsorted(distance, km, side="right") - 1])
                if (distance[0] <= km)
                else 0.0
            )
            ax.axvline(km, color=RED, linestyle="--", linewidth=1)
            ax.annotate(
                f"{km:g} km: {100 * within:.1f} %",
                (km, within),
                xytext=(6, -14),
                textcoords="offset points",
                color=RED,
                fontsize=8,
            )
    return fig


def network_figure(networks, network_label):
    """Per network: people covered by it alone and people only it covers (marginal)."""
    table = networks[networks["network"] != "all networks"]
    table = table.sort_values("covered_weight", ascending=False, kind="stable").head(12)
    with _matplotlib().rc_context(_STYLE):
        fig, ax = figure(5.6, 0.9 + 0.45 * max(len(table), 1))
        y = np.arange(len(table))
        ax.barh(y - 0.2, table["share_covered"], height=0.38, color=BLUE, label="covered by it")
        ax.barh(
            y + 0.2,
            table["marginal_share"],
            height=0.38,
            color="#fd8d3c",
            label="covered by it only (lost without it)",
        )
        ax.set_yticks(y, [_short_label(network_label(n)) for n in table["network"]])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        _percent_axis(ax.xaxis)
        ax.set_xlabel("share of the population")
        _title(fig, "What each network contributes")
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=2, fontsize=8, frameon=False
        )
        ax.grid(axis="x", color="#ddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig


def before_after_figure(before: float, after: float, total: float, n_sites: int, model: str):
    """People covered before and after opening the proposed sites (bars, with shares)."""
    with _matplotlib().rc_context(_STYLE):
        fig, ax = figure(5.6, 1.7)
        values = [before, after]
        labels = ["today", f"with {n_sites} new sites ({model})"]
        ax.barh([0, 1], values, color=[GREY, GREEN], height=0.6)
        for k, value in enumerate(values):
            share = value / total if total else np.nan
            ax.text(
                value,
                k,
                f" {value:,.0f} ({100 * share:.2f} %)".replace(",", "\u202f"),
                va="center",
                fontsize=8,
            )
        ax.set_yticks([0, 1], labels)
        ax.invert_yaxis()
        low = min(values) * 0.98 if min(values) > 0 else 0
        high = max(values) + 0.45 * (max(values) - low) if max(values) > low else low + 1
        ax.set_xlim(low, high)
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
        ax.set_xlabel("people covered (axis starts at " + _short(low) + ")")
        _title(fig, f"Optimisation: +{after - before:,.0f} people covered".replace(",", "\u202f"))
    return fig


def choropleth_figure(shapes, classes, column: str, title: str):
    """Static map of areas coloured by class of ``column`` (:mod:`relaynet.maps.areas`)."""
    from matplotlib.patches import Patch

    from ..maps.areas import classify

    index = classify(shapes[column], classes)
    colors = np.array([c[1] for c in classes] + ["#dddddd"], dtype=object)
    with _matplotlib().rc_context(_STYLE):
        fig, ax = figure(4.6, 4.4)
        projected = shapes.to_crs(2154) if len(shapes) else shapes
        projected.plot(ax=ax, color=list(colors[index]), edgecolor="#555", linewidth=0.3)
        ax.set_axis_off()
        _title(fig, title)
        handles = [Patch(facecolor=c, edgecolor="#555", label=t) for _, c, t in classes]
        ax.legend(handles=handles, loc="lower left", fontsize=9, frameon=False)
    return fig
