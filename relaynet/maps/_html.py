"""HTML pieces of the maps: escaping, colours, marker pins, popups and the legend.

Every value that comes from data goes through :func:`esc` before it is put into HTML;
nothing here trusts a name, an address or a network. ``esc`` also turns ``{`` and ``}``
into character references: branca compiles the HTML that folium's elements render as a
Jinja template a second time, so a ``{{ … }}`` left in data text would be *executed* when
the map is written (see :mod:`relaynet.maps._layers` for the JSON side).
"""

from __future__ import annotations

import html
import json
import math
import re

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.template import Environment, Template
from markupsafe import Markup

from . import labels

NETWORK_COLORS: dict[str, str] = {
    "la_poste": "#e8a100",
    "mondial_relay": "#a23336",
    "amazon": "#303030",
    "inpost": "#c9a227",
    "dpd_pickup": "#d63e2a",
    "chronopost": "#0067a3",
    "colissimo": "#436978",
    "ups": "#5b396b",
    "gls": "#38aadd",
    "relais_colis": "#72b026",
}
"""Marker colour of the networks we know; others take :data:`PALETTE` colours in order."""

PALETTE = ("#1f78b4", "#33a02c", "#6a3d9a", "#b15928", "#e31a1c", "#ff7f00", "#666666")

KIND_GLYPHS: dict[str, str] = {
    "locker": "box",
    "counter": "store",
    "post_office": "envelope",
    "hub": "warehouse",
}
"""Glyph drawn in the marker pin of each point kind (``relaynet.glyphs`` in the page)."""

UNKNOWN_GLYPH = "dot"

COVERED = "#1a9850"
UNCOVERED = "#d73027"
GAP = "#7b3294"
PROPOSED = "#5b396b"
RADIUS = "#2166ac"
AREA_OUTLINE = "#4d4d4d"

DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_PIN = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 32" aria-hidden="true">'
    '<path d="M12 31C12 31 2 18.5 2 11a10 10 0 0 1 20 0c0 7.5-10 20-10 20z" fill="COLOR"/>'
    "GLYPH</svg>"
)
GLYPH_SVG = {
    "box": '<rect x="7.5" y="6.5" width="9" height="9" rx="1" fill="none" stroke="#fff" '
    'stroke-width="1.6"/>',
    "store": '<path d="M6.5 10.5h11l-1-3.5h-9z" fill="#fff"/><rect x="7.5" y="11" width="9" '
    'height="5" fill="none" stroke="#fff" stroke-width="1.5"/>',
    "envelope": '<rect x="6.5" y="7.5" width="11" height="8" rx="1" fill="none" stroke="#fff" '
    'stroke-width="1.5"/><path d="M6.8 8l5.2 4 5.2-4" fill="none" stroke="#fff" '
    'stroke-width="1.4"/>',
    "warehouse": '<path d="M6 11l6-4.5 6 4.5v5.5H6z" fill="none" stroke="#fff" '
    'stroke-width="1.5"/>',
    "dot": '<circle cx="12" cy="11" r="3.2" fill="#fff"/>',
    "star": '<path d="M12 5.2l1.9 3.9 4.3.6-3.1 3 .7 4.3-3.8-2-3.8 2 .7-4.3-3.1-3 4.3-.6z" '
    'fill="#fff"/>',
}


def pin_svg(color: str, glyph: str) -> str:
    """A marker pin as inline SVG for the legend (same drawing as on the map)."""
    return _PIN.replace("COLOR", esc(color)).replace(
        "GLYPH", GLYPH_SVG.get(glyph, GLYPH_SVG["dot"])
    )


_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def esc(value: object) -> str:
    """Text for HTML: ``""`` for missing values, else ``html.escape(str(value))`` with the
    braces as character references (``{`` → ``&#123;``), so no Jinja delimiter survives."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).translate(_BRACES)


_JINJA_OPENER = re.compile(r"\{(?=[{%#])")
_JSON_HTML = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def page_json(value: object) -> Markup:
    """``value`` as JSON that is safe inside a ``<script>`` block of a folium page.

    Like Jinja's ``tojson`` (``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes, so no string
    can close the script; other characters as UTF-8, the line and paragraph separators
    escaped), compact, and every ``{`` that opens a Jinja delimiter (``{{``, ``{%``,
    ``{#``) written ``\\u007b``: branca compiles a rendered element again as a template,
    and in compact JSON such a ``{`` can only stand inside a string, where ``\\u007b`` is
    the same character. Keys are sorted, so identical data give identical pages.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = text.translate(_JSON_HTML)
    return Markup(_JINJA_OPENER.sub(r"\\u007b", text))


class _DataEnvironment(Environment):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["tojson"] = page_json


class DataTemplate(Template):
    """A folium template whose ``tojson`` filter is :func:`page_json`: templates of layers
    that carry data text use it, never the stock ``tojson``."""

    environment_class = _DataEnvironment


def label(token: object) -> str:
    """Human label of a token (``"post_office"`` → ``"Post office"``), escaped."""
    text = "" if token is None or token is pd.NA else str(token)
    text = text.replace("_", " ").strip()
    return esc(text[:1].upper() + text[1:]) if text else "(none)"


def network_label(network: object) -> str:
    """Name of a network as people write it (``"la_poste"`` → ``"La Poste"``), escaped."""
    if network is None or network is pd.NA or str(network) == "":
        return "(none)"
    return esc(labels.network_name(network))


def network_colors(networks: list[str]) -> dict[str, str]:
    """Marker colour (hex) per network: known ones fixed, the others from the palette."""
    out: dict[str, str] = {}
    spare = [c for c in PALETTE if c not in NETWORK_COLORS.values()] or list(PALETTE)
    k = 0
    for network in networks:
        if network in NETWORK_COLORS:
            out[network] = NETWORK_COLORS[network]
        else:
            out[network] = spare[k % len(spare)]
            k += 1
    return out


def format_number(value: float, digits: int = 0) -> str:
    """``12345.6`` → ``"12 346"`` (thin spaces between thousands), ``""`` for NaN."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(value):
        return ""
    return f"{value:,.{digits}f}".replace(",", "\u202f")


def limits_text(weight_kg: object, length_cm: object) -> str:
    """``"30 kg, 150 cm"`` from the parcel limits (either may be missing), escaped."""
    parts = []
    for value, unit in ((weight_kg, "kg"), (length_cm, "cm")):
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            parts.append(f"{number:g} {unit}")
    return esc(", ".join(parts)) if parts else "unknown"


def address_html(address: object, postcode: object, city: object) -> str:
    """``"7 quai Farconnet, 07300 Tournon"``, escaped (parts may be missing)."""
    town = " ".join(x for x in (esc(postcode), esc(city)) if x)
    return ", ".join(x for x in (esc(address), town) if x)


def day_text(text: object) -> str:
    """One day of :func:`relaynet.hours.hours_on` (``"09:00-12:00,14:00-18:00"``) for display,
    escaped: ``"09:00–12:00, 14:00–18:00"``."""
    return esc(text).replace("-", "\u2013").replace(",", ", ")


def status_lines(when: pd.Timestamp, tz: str | None = None, *, made: bool = False) -> list[str]:
    """The three status lines (open, closed, unknown) at ``when`` (wall-clock time in
    ``tz``), as escaped HTML. ``made``: ``when`` is the time the map was made, not a time
    the caller chose, and the lines say so (the page may be read days later)."""
    stamp = esc(when.strftime("%a %d %b %Y %H:%M"))
    zone = f"{esc(tz)} time" if tz else ""
    if made:
        where = f"{stamp}, {zone}" if zone else stamp
        return [
            f'<div class="rn-status rn-open">Open when the map was made ({where})</div>',
            f'<div class="rn-status rn-closed">Closed when the map was made ({where})</div>',
            '<div class="rn-status rn-unknown">Opening hours unknown</div>',
        ]
    zone = f" ({zone})" if zone else ""
    return [
        f'<div class="rn-status rn-open">Open at {stamp}{zone}</div>',
        f'<div class="rn-status rn-closed">Closed at {stamp}{zone}</div>',
        '<div class="rn-status rn-unknown">Opening hours unknown</div>',
    ]


def status_lines_at_view(tz: str) -> list[str]:
    """Status lines of a map whose "open now" is worked out in the browser when the page is
    read (:class:`~relaynet.maps._layers.PointClusterLayer`): these are shown only where the
    browser cannot tell the time in ``tz``."""
    return [
        f'<div class="rn-status rn-unknown">Open now: see the hours ({esc(tz)} time)</div>',
        f'<div class="rn-status rn-unknown">Open now: see the hours ({esc(tz)} time)</div>',
        '<div class="rn-status rn-unknown">Opening hours unknown</div>',
    ]


def swatch(color: str, text: str, shape: str = "circle") -> str:
    """One legend line: a swatch (``circle``, ``square``, ``line``, ``ring``) or a pin
    (``pin:GLYPH``) and an already escaped label; ``note``: a line of small text."""
    if shape.startswith("pin:"):
        return f"<div>{pin_svg(color, shape[4:])}{text}</div>"
    if shape == "icon":
        return f"<div>{text}</div>"
    if shape == "note":
        return f'<div class="rn-note">{text}</div>'
    cls = {"square": "rn-swatch rn-square", "line": "rn-swatch rn-line"}.get(shape, "rn-swatch")
    if shape == "line":
        style = f"border-color:{esc(color)}"
    elif shape == "ring":
        style = f"background:{esc(color)}22;border:2px solid {esc(color)}"
    else:
        style = f"background:{esc(color)}"
    return f'<div><span class="{cls}" style="{style}"></span>{text}</div>'


class Legend(MacroElement):
    """The legend, a Leaflet control above the scale bar (bottom left), collapsible.

    Parameters
    ----------
    sections
        ``(title, entries)`` pairs; each entry ``(colour, escaped label, shape)`` (see
        :func:`swatch`). A section whose title matches a layer in ``layers`` is shown only
        while that layer is on the map.
    layers
        ``{section title: folium layer}`` for the sections that follow a layer.
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var control = L.control({position: "bottomleft"});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "rn-legend");
                div.innerHTML = {{ this.body|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo(map);
            var layers = {
                {%- for key, layer in this.layers.items() %}
                {{ key|tojson }}: {{ layer.get_name() }},
                {%- endfor %}
            };
            var sync = function () {
                Object.keys(layers).forEach(function (key) {
                    var el = control.getContainer().querySelector(
                        '[data-rn-section="' + key + '"]');
                    if (el) { el.style.display = map.hasLayer(layers[key]) ? "" : "none"; }
                });
            };
            map.on("layeradd layerremove", sync);
            sync();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        sections: list[tuple[str, list[tuple[str, str, str]]]],
        layers: dict | None = None,
    ) -> None:
        super().__init__()
        self._name = "Legend"
        layers = layers or {}
        self.layers = {}
        parts = ["<details open><summary>Legend</summary>"]
        for k, (title, entries) in enumerate(sections):
            if not entries:
                continue
            key = f"s{k}"
            if title in layers:
                self.layers[key] = layers[title]
            parts.append(f'<div data-rn-section="{key}"><b>{esc(title)}</b>')
            parts.extend(swatch(color, text, shape) for color, text, shape in entries)
            parts.append("</div>")
        parts.append("</details>")
        self.body = "".join(parts)


def add_css(m: folium.Map) -> None:
    """Kept for callers of the earlier API: the stylesheet now comes with every
    :class:`~relaynet.maps._page.RelayMap` (nothing to do for one)."""
    from ._page import CSS, add_element

    add_element(m, f"<style>{CSS}</style>", "relaynet_css")
