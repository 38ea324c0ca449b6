"""The page every relaynet map is drawn on: a light folium map and the JavaScript it shares.

:class:`RelayMap` is a :class:`folium.Map` that links only Leaflet (layers add what they
use: Leaflet.markercluster for the points), draws a metric scale bar, and creates the
panes that fix what lies on top of what:

========================= ====== ==============================================
pane                      z      layers
========================= ====== ==============================================
``rn-radius``             390    service radius circles (canvas tiles)
``rn-covered``            400    covered demand places (canvas tiles)
``rn-shapes``             420    outlines, choropleths, gap zones, isochrones —
                                 one canvas, drawn in that order
``rn-uncovered``          440    uncovered demand places (canvas tiles)
``rn-sites``              590    proposed sites (under the clusters' counts)
Leaflet's ``markerPane``  600    relay points
========================= ====== ==============================================

jQuery, Bootstrap, Font Awesome and awesome-markers (1.3 MB inlined) are linked only
when a :class:`folium.Icon` was added to the map by hand (notebooks do that).

The shared script (:data:`SCRIPT`) holds no data: ``relaynet.Dots``, a ``GridLayer`` that
draws many circles on canvas tiles (panning reuses the tiles, nothing is redrawn) and
finds the circle under the pointer itself, and the helpers of the point layers.
"""

from __future__ import annotations

import html as _html_lib
import json

import folium
from branca.element import Element, Figure, MacroElement
from folium.folium import _default_css, _default_js
from folium.map import FitBounds
from folium.template import Template

from ._html import GLYPH_SVG

_LEAFLET_JS = [pair for pair in _default_js if pair[0] == "leaflet"]
_LEAFLET_CSS = [pair for pair in _default_css if pair[0] == "leaflet_css"]

PANES = (
    ("rn-radius", 390),
    ("rn-covered", 400),
    ("rn-shapes", 420),
    ("rn-uncovered", 440),
    ("rn-sites", 590),
)

SCRIPT = r"""
window.relaynet = window.relaynet || (function () {
    var R = 6378137, PI = Math.PI;
    function project(lat, lon) {            // EPSG:3857 pixels at zoom 0 (256 px world)
        var s = Math.sin(lat * PI / 180);
        s = Math.max(Math.min(s, 0.9999), -0.9999);
        return [(lon + 180) / 360 * 256, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * PI)) * 256];
    }
    var places = [];                        // Dots layers with tooltips, on a map
    function placeAt(map, latlng) {         // a place is under the pointer: it wins
        for (var k = 0; k < places.length; k++) {
            if (places[k]._map === map && places[k].hit(latlng) >= 0) { return true; }
        }
        return false;
    }
    var Dots = L.GridLayer.extend({
        // options.lat / options.lon: coordinates × 1e5 (integers); options.px: radius in
        // pixels per circle, or options.metres: one radius in metres for all;
        // options.tip(i): escaped HTML about circle i (or null: not interactive)
        initialize: function (options) {
            L.GridLayer.prototype.initialize.call(this, options);
            this._ready = false;
        },
        _build: function () {
            if (this._ready) { return; }
            var o = this.options, n = o.lat.length;
            var x = new Float64Array(n), y = new Float64Array(n), r = new Float64Array(n);
            for (var i = 0; i < n; i++) {
                var lat = o.lat[i] / 1e5, p = project(lat, o.lon[i] / 1e5);
                x[i] = p[0]; y[i] = p[1];
                r[i] = o.metres ? o.metres * 256 / (2 * PI * R * Math.cos(lat * PI / 180))
                                : o.px[i];
            }
            var order = new Int32Array(n);           // large circles first, small on top
            for (var k = 0; k < n; k++) { order[k] = k; }
            order.sort(function (a, b) { return r[b] - r[a] || a - b; });
            this._x = x; this._y = y; this._r = r; this._order = order; this._ready = true;
        },
        _radius: function (i, scale) {
            return this.options.metres ? this._r[i] * scale : this._r[i] * this._shrink(scale);
        },
        _shrink: function (scale) {              // smaller circles when a country is in view
            var z = Math.log(scale) / Math.LN2;
            return Math.min(1, Math.max(0.35, Math.pow(2, (z - 10) / 2)));
        },
        createTile: function (coords) {
            this._build();
            var tile = L.DomUtil.create("canvas", "leaflet-tile");
            var size = this.getTileSize(), ratio = window.devicePixelRatio || 1;
            tile.width = size.x * ratio; tile.height = size.y * ratio;
            var ctx = tile.getContext("2d");
            ctx.scale(ratio, ratio);
            var scale = Math.pow(2, coords.z), ox = coords.x * size.x, oy = coords.y * size.y;
            var o = this.options, x = this._x, y = this._y, n = x.length;
            ctx.fillStyle = o.fillColor; ctx.strokeStyle = o.color; ctx.lineWidth = o.weight;
            if (o.metres) {                     // one shaded union, outlines drawn lightly
                ctx.beginPath();
                for (var i = 0; i < n; i++) {
                    var r = this._r[i] * scale, px = x[i] * scale - ox, py = y[i] * scale - oy;
                    if (px + r < 0 || py + r < 0 || px - r > size.x || py - r > size.y) {
                        continue;
                    }
                    ctx.moveTo(px + r, py); ctx.arc(px, py, r, 0, 2 * PI);
                }
                ctx.globalAlpha = o.fillOpacity; ctx.fill();
                ctx.globalAlpha = o.opacity; ctx.stroke();
                return tile;
            }
            var shrink = this._shrink(scale);
            for (var m = 0; m < n; m++) {
                var j = this._order[m];
                var rj = Math.max(this._r[j] * shrink, 1.5);
                var qx = x[j] * scale - ox, qy = y[j] * scale - oy;
                if (qx + rj < 0 || qy + rj < 0 || qx - rj > size.x || qy - rj > size.y) {
                    continue;
                }
                ctx.beginPath(); ctx.arc(qx, qy, rj, 0, 2 * PI);
                ctx.globalAlpha = o.fillOpacity; ctx.fill();
                ctx.globalAlpha = o.opacity; ctx.stroke();
            }
            return tile;
        },
        hit: function (latlng) {               // index of the circle drawn on top, or -1
            if (!this._ready || !this._map) { return -1; }
            var p = project(latlng.lat, latlng.lng), scale = Math.pow(2, this._map.getZoom());
            var x = this._x, y = this._y;
            for (var m = x.length - 1; m >= 0; m--) {
                var i = this._order[m];
                var r = Math.max(this._radius(i, scale), 4);
                var dx = (x[i] - p[0]) * scale, dy = (y[i] - p[1]) * scale;
                if (dx * dx + dy * dy <= r * r) { return i; }
            }
            return -1;
        },
        onAdd: function (map) {
            L.GridLayer.prototype.onAdd.call(this, map);
            if (!this.options.tip) { return; }
            var self = this, pending = null;
            this._tooltip = L.tooltip({sticky: true, direction: "top", offset: [0, -6]});
            this._move = function (e) {
                pending = e;
                if (self._frame) { return; }
                self._frame = L.Util.requestAnimFrame(function () {
                    self._frame = null;
                    var ev = pending, target = ev.originalEvent && ev.originalEvent.target;
                    if (target && target.closest && target.closest(".leaflet-marker-icon")) {
                        map.closeTooltip(self._tooltip); return;
                    }
                    var i = self.hit(ev.latlng);
                    if (i < 0 || self._covered(ev.latlng, i)) {
                        map.closeTooltip(self._tooltip); return;
                    }
                    self._tooltip.setLatLng(ev.latlng).setContent(self.options.tip(i));
                    if (!map.hasLayer(self._tooltip)) { self._tooltip.openOn(map); }
                });
            };
            this._click = function (e) {
                var target = e.originalEvent && e.originalEvent.target;
                if (target && target.closest
                    && target.closest(".leaflet-marker-icon, .leaflet-popup")) { return; }
                var i = self.hit(e.latlng);
                if (i < 0 || self._covered(e.latlng, i)) { return; }
                L.popup({maxWidth: 340, autoPanPaddingTopRight: [330, 20]}).setLatLng(e.latlng)
                    .setContent(self.options.tip(i)).openOn(map);
            };
            map.on("mousemove", this._move);
            map.on("click", this._click);
            places.push(this);
        },
        _covered: function (latlng, i) {       // another Dots layer on top has a circle here
            var above = this.options.above || [];
            for (var k = 0; k < above.length; k++) {
                if (this._map.hasLayer(above[k]) && above[k].hit(latlng) >= 0) { return true; }
            }
            return false;
        },
        onRemove: function (map) {
            if (this._move) {
                map.off("mousemove", this._move); map.off("click", this._click);
                map.closeTooltip(this._tooltip);
                var k = places.indexOf(this);
                if (k >= 0) { places.splice(k, 1); }
            }
            L.GridLayer.prototype.onRemove.call(this, map);
        }
    });
    var GLYPHS = __GLYPHS__;
    function pin(color, glyph) {
        return '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="32" '
            + 'viewBox="0 0 24 32"><path d="M12 31C12 31 2 18.5 2 11a10 10 0 0 1 20 0'
            + 'c0 7.5-10 20-10 20z" fill="' + color + '" stroke="#0006" stroke-width="1"/>'
            + (GLYPHS[glyph] || GLYPHS.dot) + '</svg>';
    }
    var icons = {};
    function icon(color, glyph) {
        var key = color + glyph;
        if (!icons[key]) {
            icons[key] = L.divIcon({
                html: pin(color, glyph), className: "rn-pin", iconSize: [24, 32],
                iconAnchor: [12, 31], popupAnchor: [0, -28], tooltipAnchor: [10, -18]
            });
        }
        return icons[key];
    }
    var renderers = {};
    function canvas(pane) {                  // one canvas per pane: one hit test for all
        if (!renderers[pane]) { renderers[pane] = L.canvas({pane: pane, padding: 0.5}); }
        return renderers[pane];
    }
    var DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], clocks = {};
    function clock(zone) {                  // now in a time zone: day (0 = Monday), minute
        try {
            if (!clocks[zone]) {
                clocks[zone] = new Intl.DateTimeFormat("en-GB", {
                    timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit",
                    hourCycle: "h23"
                });
            }
            var parts = {};
            clocks[zone].formatToParts(new Date()).forEach(function (p) {
                parts[p.type] = p.value;
            });
            var day = DAYS.indexOf(parts.weekday);
            if (day < 0) { return null; }
            return {day: day, minute: (+parts.hour % 24) * 60 + +parts.minute,
                    text: parts.weekday + " " + parts.hour + ":" + parts.minute};
        } catch (e) {
            return null;
        }
    }
    function openAt(text, minute) {          // "09:00–12:00, 14:00–18:00" holds the minute
        var re = /(\d\d):(\d\d)\u2013(\d\d):(\d\d)/g, m;
        while ((m = re.exec(text)) !== null) {
            if (+m[1] * 60 + +m[2] <= minute && minute < +m[3] * 60 + +m[4]) { return true; }
        }
        return false;
    }
    function embedded() {                    // shown inside another page (report, notebook)
        try { return window.self !== window.top; } catch (e) { return true; }
    }
    return {Dots: Dots, project: project, pin: pin, icon: icon, glyphs: GLYPHS, canvas: canvas,
            placeAt: placeAt, clock: clock, openAt: openAt, embedded: embedded};
})();
""".replace("__GLYPHS__", json.dumps(GLYPH_SVG, sort_keys=True))

CSS = """
.rn-popup{font:12px/1.35 system-ui,sans-serif;min-width:220px}
.rn-popup h4{font-size:14px;margin:0 0 4px}
.rn-popup table{border-collapse:collapse;margin-top:4px}
.rn-popup th{text-align:left;font-weight:600;padding:0 8px 0 0;vertical-align:top}
.rn-popup td{padding:0}
.rn-status{margin-top:4px;font-weight:600}
.rn-open{color:#1a7f37}.rn-closed{color:#b42318}.rn-unknown{color:#6b7280}
.rn-pin{background:none;border:none}
.rn-legend{background:#fff;padding:6px 10px;border-radius:6px;
 box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.45 system-ui,sans-serif;
 max-height:calc(100vh - 150px);max-width:260px;overflow:auto}
.rn-legend summary{font-weight:700;cursor:pointer}
.rn-legend b{display:block;margin-top:4px}
.rn-legend .rn-note{color:#52606d;font-size:11px;line-height:1.3;margin-top:2px}
.rn-swatch{display:inline-block;width:12px;height:12px;border-radius:50%;
 margin-right:6px;vertical-align:-1px;border:1px solid #0003}
.rn-square{border-radius:2px}.rn-line{height:0;border:0;border-top:2px solid;border-radius:0}
.rn-legend svg{width:14px;height:18px;margin-right:4px;vertical-align:-4px}
.leaflet-container{font-size:13px}
.leaflet-control-layers{font:13px/1.4 system-ui,sans-serif}
.leaflet-control-layers-overlays label{white-space:nowrap}
.leaflet-pane > svg{pointer-events:none}
"""


class PageSetup(MacroElement):
    """Shared script, panes and the metric scale bar (first child of every :class:`RelayMap`)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}
        {{ this.script }}
        (function (map) {
            {%- for name, z in this.panes %}
            map.createPane("{{ name }}").style.zIndex = {{ z }};
            {%- endfor %}
            L.control.scale({imperial: false, metric: true, maxWidth: 160}).addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "PageSetup"
        self.script = SCRIPT
        self.css = CSS
        self.panes = PANES


class RelayMap(folium.Map):
    """A :class:`folium.Map` with relaynet's panes, scale bar and shared script.

    Every element of the map gets an id from its place in the map (:func:`stable_ids`) when
    the page is rendered, so the same map gives the same page, byte for byte. A layer
    control collapses to its button when the map is shown inside another page (the
    report's frame, a notebook) or on a narrow screen.

    Parameters
    ----------
    offline
        Inline Leaflet and the other JavaScript/CSS when the map is shown in Jupyter or
        written with :meth:`save` (works without internet; tiles still need a server).
    **kwargs
        Passed to :class:`folium.Map` (``tiles``, ``location``, ``zoom_start`` …); a
        ``tiles`` name is shown in the layer control as people write it
        (``"OpenStreetMap"``).
    """

    default_js = _LEAFLET_JS
    default_css = _LEAFLET_CSS

    def __init__(self, *, offline: bool = False, **kwargs) -> None:
        kwargs.setdefault("control_scale", False)
        tiles = kwargs.pop("tiles", "OpenStreetMap")
        if isinstance(tiles, str):
            tiles = folium.TileLayer(
                tiles,
                attr=kwargs.pop("attr", None),
                name=tile_name(tiles),
                min_zoom=kwargs.get("min_zoom") or 0,
                max_zoom=kwargs.get("max_zoom") or 18,
            )
        super().__init__(tiles=tiles, **kwargs)
        self.offline = bool(offline)
        self.add_child(PageSetup(), name="relaynet_setup")

    def render(self, **kwargs):
        if _uses_awesome_markers(self):
            # a folium.Icon added by hand needs what folium's default map links
            self.default_js = list(_default_js)
            self.default_css = list(_default_css)
        fits = [c for c in self._children.values() if isinstance(c, FitBounds)]
        for fit in fits:  # no zoom animation at load: a later fit must not race with it
            fit.options.setdefault("animate", False)
        bounds = fits[-1].bounds if fits else None
        for key, child in list(self._children.items()):
            if isinstance(child, folium.LayerControl) and f"{key}_fold" not in self._children:
                self.add_child(FoldWhenEmbedded(child, bounds), name=f"{key}_fold")
        stable_ids(self)
        super().render(**kwargs)

    def _repr_html_(self, **kwargs) -> str:
        """The map in Jupyter, inlined when ``offline`` (so it works without internet)."""
        from .assets import map_html

        page = _html_lib.escape(map_html(self, offline=self.offline))
        return (
            '<div style="width:100%;"><div style="position:relative;width:100%;height:0;'
            'padding-bottom:60%;"><iframe srcdoc="' + page + '" style="position:absolute;'
            'width:100%;height:100%;left:0;top:0;border:none !important;" '
            "allowfullscreen></iframe></div></div>"
        )

    def save(self, outfile, close_file: bool = True, **kwargs) -> None:
        """Write the page (inlined when ``offline``); see also :func:`relaynet.maps.save_map`."""
        from .assets import map_html

        page = map_html(self, offline=self.offline)
        if hasattr(outfile, "write"):
            outfile.write(page.encode("utf-8") if "b" in getattr(outfile, "mode", "") else page)
            if close_file:
                outfile.close()
            return
        with open(outfile, "w", encoding="utf-8") as handle:
            handle.write(page)


def tile_name(tiles: str) -> str:
    """Name of a background in the layer control: ``"OpenStreetMap"`` as given, a lower-case
    folium name as its provider spells it (``"cartodbpositron"`` → ``"CartoDB Positron"``),
    ``"Background map"`` for a URL. Escaped (the layer control shows names as HTML)."""
    from ._html import esc

    if "{" in tiles or "://" in tiles:
        return "Background map"
    if tiles != tiles.lower():
        return esc(tiles)
    try:
        import xyzservices

        provider = xyzservices.providers.query_name(tiles)
    except (ImportError, ValueError):
        return esc(tiles)
    return esc(str(provider.name).replace(".", " "))


def stable_ids(element: Element) -> None:
    """Give ``element`` and everything under it an id from its place in the tree.

    Branca draws a random id for every element (``map_7b4c…``), so two renderings of the same
    map differed. Here the id is the path of child positions from the root of the page
    (``dots_layer_0_3_5``): identical maps give identical pages, and children that folium
    appends while rendering do not change the ids of the others (a second rendering names
    everything the same way).
    """
    path = []
    node = element
    while node._parent is not None:
        siblings = list(node._parent._children.values())
        path.append(str(next(k for k, c in enumerate(siblings) if c is node)))
        node = node._parent
    stack = [(element, "_".join(["0", *reversed(path)]))]
    while stack:
        node, where = stack.pop()
        node._id = where
        stack.extend((child, f"{where}_{k}") for k, child in enumerate(node._children.values()))


_PAGE_PARTS = ("header", "html", "script")


def render_page(m: folium.Map) -> str:
    """The HTML page of ``m``, the same each time it is rendered.

    Elements are named by :func:`stable_ids`. Folium adds what it renders to the page's
    header, body and script under the element names, and some elements (the ``addTo`` of
    every layer) are created anew at each rendering, so a second rendering repeated them;
    here what the previous rendering added is taken out first.
    """
    figure = m.get_root()
    if not isinstance(figure, Figure):
        stable_ids(m)
        return figure.render()
    for part, keys in getattr(m, "_relaynet_rendered", {}).items():
        children = getattr(figure, part)._children
        for key in keys:
            children.pop(key, None)
    before = {part: set(getattr(figure, part)._children) for part in _PAGE_PARTS}
    stable_ids(m)
    html = figure.render()
    m._relaynet_rendered = {
        part: [k for k in getattr(figure, part)._children if k not in before[part]]
        for part in _PAGE_PARTS
    }
    return html


class FoldWhenEmbedded(MacroElement):
    """Collapses a layer control to its button when the map is inside another page (the
    report's frame, a notebook) or narrower than 760 px: open, the panel hid part of a
    small map. The map is then fitted again to ``bounds`` in quarter zoom steps, so the
    data fill the small frame. Added by :class:`RelayMap` next to every
    :class:`folium.LayerControl`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (control, map, bounds) {
            if (!relaynet.embedded() && map.getSize().x >= 760) { return; }
            control.remove();
            control.options.collapsed = true;
            control.addTo(map);
            if (bounds) {
                map.options.zoomSnap = 0.25;
                map.fitBounds(bounds, {padding: [12, 12], animate: false});
            }
        })({{ this.control.get_name() }}, {{ this._parent.get_name() }}, {{ this.bounds|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, control: folium.LayerControl, bounds=None) -> None:
        super().__init__()
        self._name = "FoldWhenEmbedded"
        self.control = control
        self.bounds = bounds


def _uses_awesome_markers(element) -> bool:
    stack = list(element._children.values())
    while stack:
        child = stack.pop()
        if isinstance(child, folium.Icon):
            return True
        stack.extend(child._children.values())
    return False


def add_element(m: folium.Map, html: str, name: str) -> None:
    """Add static HTML (no data) to the page header once."""
    root = m.get_root()
    if name not in root.header._children:
        root.header.add_child(Element(html), name=name)
