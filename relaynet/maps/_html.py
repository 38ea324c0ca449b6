"""HTML pieces of the maps: escaping, colours, icons, popups and the legend.

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

AWESOME_HEX: dict[str, str] = {
    "red": "#d63e2a",
    "darkred": "#a23336",
    "orange": "#f69730",
    "beige": "#ffcb92",
    "green": "#72b026",
    "darkgreen": "#728224",
    "lightgreen": "#bbf970",
    "blue": "#38aadd",
    "darkblue": "#0067a3",
    "cadetblue": "#436978",
    "lightblue": "#8adaff",
    "purple": "#d252b9",
    "darkpurple": "#5b396b",
    "pink": "#ff91ea",
    "lightred": "#ff8e7f",
    "gray": "#575757",
    "lightgray": "#a3a3a3",
    "black": "#303030",
}
"""Fill colour of each awesome-markers marker colour (for the legend)."""

NETWORK_COLORS: dict[str, str] = {
    "la_poste": "orange",
    "mondial_relay": "darkred",
    "amazon": "black",
    "inpost": "beige",
    "dpd_pickup": "red",
    "chronopost": "darkblue",
    "colissimo": "cadetblue",
    "ups": "darkpurple",
    "gls": "blue",
    "relais_colis": "green",
}
"""Marker colour of the networks we know; others take :data:`PALETTE` colours in order."""

PALETTE = ("blue", "green", "purple", "cadetblue", "darkgreen", "pink", "gray", "lightred")

KIND_ICONS: dict[str, str] = {
    "locker": "box",
    "counter": "store",
    "post_office": "envelope",
    "hub": "warehouse",
}
"""Font Awesome icon of each point kind."""

UNKNOWN_ICON = "location-dot"

COVERED = "#1a9850"
UNCOVERED = "#d73027"
GAP = "#7b3294"
PROPOSED = "purple"
RADIUS = "#2166ac"

DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

CSS = """
<style>
.rn-popup{font:12px/1.35 system-ui,sans-serif;min-width:220px}
.rn-popup h4{font-size:14px;margin:0 0 4px}
.rn-popup table{border-collapse:collapse;margin-top:4px}
.rn-popup th{text-align:left;font-weight:600;padding:0 8px 0 0;vertical-align:top}
.rn-popup td{padding:0}
.rn-status{margin-top:4px;font-weight:600}
.rn-open{color:#1a7f37}.rn-closed{color:#b42318}.rn-unknown{color:#6b7280}
.rn-legend{position:fixed;bottom:24px;left:12px;z-index:9999;background:#fff;
 padding:8px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.35);
 font:12px/1.5 system-ui,sans-serif;max-height:60vh;overflow:auto}
.rn-legend b{display:block;margin-top:4px}
.rn-swatch{display:inline-block;width:12px;height:12px;border-radius:50%;
 margin-right:6px;vertical-align:-1px;border:1px solid #0003}
.rn-square{border-radius:2px}
.rn-icon i{width:12px;margin-right:6px;text-align:center;color:#444}
</style>
"""


_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def esc(value: object) -> str:
    """Text for HTML: ``""`` for missing values, else ``html.escape(str(value))`` with the
    braces as character references (``{`` → ``&#123;``), so no Jinja delimiter survives."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).translate(_BRACES)


_JINJA_OPENER = re.compile(r"\{(?=[{%#])")
_JSON_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def page_json(value: object) -> Markup:
    """``value`` as JSON that is safe inside a ``<script>`` block of a folium page.

    Like Jinja's ``tojson`` (``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes, so no string
    can close the script), and every ``{`` that opens a Jinja delimiter (``{{``, ``{%``,
    ``{#``) written ``\\u007b``: branca compiles a rendered element again as a template,
    and in compact JSON such a ``{`` can only stand inside a string, where ``\\u007b`` is
    the same character. Keys are sorted, so identical data give identical pages.
    """
    text = json.dumps(value, sort_keys=True).translate(_JSON_HTML)
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
    """Human label of a token (``"mondial_relay"`` → ``"Mondial relay"``), escaped."""
    text = "" if token is None or token is pd.NA else str(token)
    text = text.replace("_", " ").strip()
    return esc(text[:1].upper() + text[1:]) if text else "(none)"


def network_colors(networks: list[str]) -> dict[str, str]:
    """Awesome-markers colour per network: known ones fixed, the others from the palette."""
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
    if value is None or not np.isfinite(value):
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


def status_lines(when: pd.Timestamp) -> list[str]:
    """The three status lines (open, closed, unknown) at ``when``, as escaped HTML."""
    stamp = esc(when.strftime("%a %d %b %Y %H:%M"))
    return [
        f'<div class="rn-status rn-open">Open at {stamp}</div>',
        f'<div class="rn-status rn-closed">Closed at {stamp}</div>',
        '<div class="rn-status rn-unknown">Opening hours unknown</div>',
    ]


class Legend(MacroElement):
    """A fixed legend box: sections of (swatch colour, escaped label, shape) entries."""

    _template = DataTemplate(
        """
        {% macro html(this, kwargs) %}
        <div class="rn-legend" id="{{ this.get_name() }}">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, sections: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self._name = "Legend"
        parts = []
        for title, entries in sections:
            if not entries:
                continue
            parts.append(f"<b>{esc(title)}</b>")
            for color, text, shape in entries:
                if shape == "icon":
                    parts.append(f'<div class="rn-icon">{text}</div>')
                    continue
                cls = "rn-swatch rn-square" if shape == "square" else "rn-swatch"
                parts.append(
                    f'<div><span class="{cls}" style="background:{esc(color)}"></span>{text}</div>'
                )
        self.body = "".join(parts)


def add_css(m: folium.Map) -> None:
    """Add the popup and legend stylesheet to the map's page (once)."""
    root = m.get_root()
    if "relaynet_css" not in root.header._children:
        root.header.add_child(folium.Element(CSS), name="relaynet_css")
