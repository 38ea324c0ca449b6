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
        ax.set_title("Share covered by time window and density class")
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
        ax.set_title("How far people live from a point")
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
        ax.set_title("What each network contributes")
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
        ax.set_title(f"Optimisation: +{after - before:,.0f} people covered".replace(",", "\u202f"))
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
        ax.set_title(title)
        handles = [Patch(facecolor=c, edgecolor="#555", label=t) for _, c, t in classes]
        ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False)
    return fig
