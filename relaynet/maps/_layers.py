"""Folium layers that carry their data as compact JSON and build the Leaflet objects in the
browser: tens of thousands of places stay smooth and the page stays small.

* :class:`PointClusterLayer` — relay points of one network, SVG pins in a marker cluster;
* :class:`DotsLayer` — many circles drawn on canvas tiles (demand places, service radius):
  panning reuses the tiles, and the layer finds the circle under the pointer itself;
* :class:`GeoLayer` — GeoJSON polygons (gap zones, areas, choropleths) on one canvas in
  their pane, added to the map the first time the layer is switched on;
* :class:`MarkerLayer` — a few pins with popups (proposed sites);
* :class:`CircleLayer` — circle markers from rows (small layers of other modules).

Coordinates travel as integers of 1e-5 degree (about 1 m). Every text these layers show
is HTML escaped in Python (:func:`relaynet.maps._html.esc`) before it gets here, or set as
a DOM property by Leaflet (marker ``title``), never parsed as HTML. The data reach the page
through :func:`relaynet.maps._html.page_json` (the ``tojson`` of :class:`DataTemplate`),
which escapes ``<``, ``>``, ``&`` and ``'`` so no string can close the ``<script>`` block,
and every ``{`` that could open a Jinja delimiter, because branca compiles rendered output
as a template a second time.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from folium.map import Layer
from folium.plugins import MarkerCluster

from ._html import DataTemplate


def e5(values) -> list[int]:
    """Degrees as integers of 1e-5 degree (about 1 m), the form coordinates travel in."""
    return np.round(np.asarray(values, float) * 1e5).astype(np.int64).tolist()


def spatial_order(lat_e5: np.ndarray, lon_e5: np.ndarray) -> np.ndarray:
    """An order of places with short steps between neighbours: bands of 0.1° of latitude,
    west to east in even bands and east to west in odd ones."""
    band = np.asarray(lat_e5, np.int64) // 10_000
    lon = np.asarray(lon_e5, np.int64)
    return np.lexsort((np.where(band % 2 == 0, lon, -lon), band))


def deltas(values: np.ndarray) -> list[int]:
    """First value, then the step from each value to the next (the browser adds them up)."""
    values = np.asarray(values, np.int64)
    return np.diff(values, prepend=0).tolist()


SHAPE_UNIT = 1e-4
"""Grid of polygon coordinates on the maps, degrees (about 10 m)."""


def encode_shapes(geometries, *, tolerance: float = 0.0) -> list[dict]:
    """Geometries in the compact form :class:`GeoLayer` decodes in the browser.

    Polygons and multipolygons, simplified by ``tolerance`` degrees, become ``{"d":
    [polygon [ring [x0, y0, dx1, dy1, …]]]}``: integers of :data:`SHAPE_UNIT` degree, each
    vertex as the step from the previous one (a third of the size of GeoJSON). Other
    geometries stay GeoJSON dicts (coordinates rounded to 1e-5 degree).
    """
    geoms = np.asarray(geometries, dtype=object)
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            out.append({"type": "GeometryCollection", "geometries": []})
        elif geom.geom_type in ("Polygon", "MultiPolygon"):
            polygons = []
            for part in shapely.get_parts(geom):
                rings = []
                for ring in shapely.get_rings(part):
                    xy = np.round(shapely.get_coordinates(ring) / SHAPE_UNIT).astype(np.int64)
                    xy = xy[np.r_[True, (np.diff(xy, axis=0) != 0).any(axis=1)]]
                    if len(xy) < 4:
                        continue
                    steps = np.vstack([xy[:1], np.diff(xy, axis=0)])
                    rings.append(steps.ravel().tolist())
                if rings:
                    polygons.append(rings)
            out.append({"d": polygons})
        else:
            out.append(json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-5))))
    return out


def decode_shape(geometry: dict) -> dict:
    """GeoJSON geometry of one :func:`encode_shapes` item (what the browser draws)."""
    if "d" not in geometry:
        return geometry
    polygons = []
    for rings in geometry["d"]:
        polygon = []
        for ring in rings:
            xy = np.cumsum(np.asarray(ring, np.int64).reshape(-1, 2), axis=0) * SHAPE_UNIT
            polygon.append(xy.tolist())
        polygons.append(polygon)
    return {"type": "MultiPolygon", "coordinates": polygons}


NO_NAME = "(no name)"
"""What a point's popup shows for a point without a name."""


class PointClusterLayer(MarkerCluster):
    """Relay points of one network as pins in a marker cluster.

    Parameters
    ----------
    rows
        One list per point: ``[lat_e5, lon_e5, point_id_html, name_html, title, address_html,
        profile, hours]``, coordinates as steps from the previous row (:func:`deltas`);
        ``title`` is the raw name (set as the marker's DOM ``title``,
        never parsed) or ``0`` when it equals ``name_html``; ``profile`` indexes
        ``profiles``; ``hours`` indexes ``hours``.
    texts
        Escaped HTML snippets shared by many points (kinds, services, limits, hours).
    profiles
        ``[kind_t, services_t, limits_t, glyph]`` per distinct profile (``*_t`` index
        ``texts``; ``glyph`` names the pin's glyph).
    network_html
        Escaped name of the network.
    hours
        One week per distinct schedule: seven ``texts`` indices (Monday … Sunday), the
        hours source (``texts`` index) and the status (index into ``status_html``).
    day_labels
        Escaped labels of the seven days (``"Mon 24/11"`` …).
    status_html
        Escaped HTML lines of the open/closed status (three per time zone: open, closed,
        unknown).
    live
        ``None``: the status is ``status_html``. Otherwise one ``[zone, zone_html]`` per time
        zone (IANA name, and escaped for display): "open now" is worked out in the browser
        when the popup opens, from the week's hours and the time in that zone (the
        ``status_html`` lines are shown only where the browser cannot tell that time).
    hours_note
        Escaped HTML shown under the hours (``""`` for none).
    color
        Pin colour (hex).
    name
        Layer name shown in the layer control (escaped HTML).
    cluster
        ``False`` puts the markers in a plain feature group instead of a cluster.
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var hours = {{ this.hours|tojson }};
                var days = {{ this.day_labels|tojson }};
                var status = {{ this.status_html|tojson }};
                var live = {{ this.live|tojson }};
                var note = {{ this.hours_note|tojson }};
                var texts = {{ this.texts|tojson }};
                var profiles = {{ this.profiles|tojson }};
                var network = {{ this.network_html|tojson }};
                var color = {{ this.color|tojson }};
                var data = {{ this.rows|tojson }};
                {%- if this.cluster %}
                var group = L.markerClusterGroup({{ this.options|tojavascript }});
                {%- else %}
                var group = L.featureGroup();
                {%- endif %}
                var week = function (h) {
                    var out = '<table class="rn-hours">';
                    for (var d = 0; d < 7; d++) {
                        out += '<tr><th>' + days[d] + '</th><td>' + texts[h[d]] + '</td></tr>';
                    }
                    out += '</table>';
                    if (texts[h[7]]) {
                        out += '<div class="rn-unknown">hours source: ' + texts[h[7]] + '</div>';
                    }
                    return out + (note ? '<div class="rn-unknown">' + note + '</div>' : '');
                };
                var state = function (h) {        // open now, worked out when the popup opens
                    var k = h[8], zone = live && k % 3 !== 2 ? live[Math.floor(k / 3)] : null;
                    var now = zone ? relaynet.clock(zone[0]) : null;
                    if (!now) { return status[k]; }
                    var open = relaynet.openAt(texts[h[now.day]], now.minute);
                    return '<div class="rn-status ' + (open ? 'rn-open">Open now' : 'rn-closed">'
                        + 'Closed now') + ' (' + now.text + ', ' + zone[1] + ' time)</div>';
                };
                var popup = function (layer) {
                    var r = layer.options.relaynetRow, p = profiles[r[6]], h = hours[r[7]];
                    return '<div class="rn-popup"><h4>' + r[3] + '</h4>'
                        + (r[5] ? '<div>' + r[5] + '</div>' : '')
                        + '<table><tr><th>Network</th><td>' + network + '</td></tr>'
                        + '<tr><th>Kind</th><td>' + texts[p[0]] + '</td></tr>'
                        + '<tr><th>Services</th><td>' + texts[p[1]] + '</td></tr>'
                        + '<tr><th>Parcel limits</th><td>' + texts[p[2]] + '</td></tr>'
                        + '<tr><th>Point id</th><td>' + r[2] + '</td></tr></table>'
                        + state(h) + week(h) + '</div>';
                };
                var markers = new Array(data.length), lat = 0, lon = 0;
                var coords = [new Int32Array(data.length), new Int32Array(data.length)];
                for (var i = 0; i < data.length; i++) {
                    var r = data[i];
                    lat += r[0]; lon += r[1]; coords[0][i] = lat; coords[1][i] = lon;
                    var marker = L.marker([lat / 1e5, lon / 1e5], {
                        icon: relaynet.icon(color, profiles[r[6]][3]),
                        title: r[4] === 0 ? r[3] : r[4],
                        relaynetId: r[2], relaynetRow: r
                    });
                    markers[i] = marker;
                }
                // one popup for the layer, filled on click (no popup object per marker)
                group.on("click", function (e) {
                    var options = {
                        maxWidth: 340, offset: [0, -26], autoPanPaddingTopRight: [330, 20]
                    };
                    L.popup(options).setLatLng(e.layer.getLatLng())
                        .setContent(popup(e.layer)).openOn(e.layer._map || e.target._map);
                });
                {%- if this.cluster %}
                group.addLayers(markers);
                {%- else %}
                for (var j = 0; j < markers.length; j++) { markers[j].addTo(group); }
                {%- endif %}
                group.relaynetData = data;
                group.relaynetCoords = coords;
                return group;
            })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        rows: list[list],
        texts: list[str],
        profiles: list[list],
        network_html: str,
        hours: list[list[int]],
        day_labels: list[str],
        status_html: list[str],
        color: str,
        name: str,
        *,
        cluster: bool = True,
        show: bool = True,
        live: list[list[str]] | None = None,
        hours_note: str = "",
    ) -> None:
        super().__init__(
            name=name,
            overlay=True,
            control=True,
            show=show,
            options={
                "chunkedLoading": True,
                "showCoverageOnHover": False,
                "disableClusteringAtZoom": 14,
                "spiderfyOnMaxZoom": False,
            },
        )
        self._name = "PointClusterLayer"
        self.rows = rows
        self.texts = texts
        self.profiles = profiles
        self.network_html = network_html
        self.hours = hours
        self.day_labels = day_labels
        self.status_html = status_html
        self.color = color
        self.cluster = cluster
        self.live = live
        self.hours_note = hours_note


class DotsLayer(Layer):
    """Circles drawn on canvas tiles (``relaynet.Dots``): demand places or service radii.

    Parameters
    ----------
    columns
        ``lat`` and ``lon`` (integers of 1e-5 degree, each as the step from the previous
        place: see :func:`deltas`), ``w`` (weight), ``n`` (escaped name), ``a`` (index into
        ``areas``), ``d`` (distance in 100 m, -1 for none; rounded up for places not
        covered) and optionally ``p`` (escaped id of the nearest point, shown as
        ``"Name (id)"`` with the name from the ``named_by`` layers). The browser draws the
        largest circles first.
    style
        ``color``, ``fillColor``, ``weight``, ``opacity``, ``fillOpacity``.
    name
        Layer name shown in the layer control (escaped HTML).
    pane
        Map pane (see :mod:`relaynet.maps._page`).
    areas
        Escaped area names indexed by ``a``.
    status
        Escaped status word shown in the tooltip (``"covered"``).
    cap
        Weight of the largest circle (16 px); smaller weights scale by area from 2 px.
    metres
        Radius in metres of every circle (service radius; no tooltip), instead of weights.
    sources
        For the service radius: :class:`PointClusterLayer` objects whose points are used
        (no coordinates of their own).
    below
        A :class:`DotsLayer` drawn under this one: its pointer yields to this layer.
    named_by
        :class:`PointClusterLayer` objects whose rows give the names of the points in ``p``
        (looked up in the browser when a tooltip is first shown: no name travels twice).
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var d = {{ this.columns|tojson }};
                var style = {{ this.style|tojson }};
                var options = Object.assign({pane: {{ this.pane|tojson }}}, style);
                {%- if this.sources %}
                options.lat = []; options.lon = [];
                [{% for s in this.sources %}{{ s.get_name() }},{% endfor %}].forEach(function (g) {
                    var c = g.relaynetCoords;
                    for (var i = 0; i < c[0].length; i++) {
                        options.lat.push(c[0][i]); options.lon.push(c[1][i]);
                    }
                });
                options.metres = {{ this.metres|tojson }};
                {%- else %}
                var areas = {{ this.areas|tojson }};
                var status = {{ this.status|tojson }};
                var cap = {{ this.cap|tojson }};
                var n = d.lat.length, px = new Float64Array(n);
                for (var i = 0; i < n; i++) {
                    px[i] = 2 + 14 * Math.sqrt(Math.min(Math.max(d.w[i], 0) / cap, 1));
                }
                var num = function (v) {
                    return Math.round(v).toString().replace(/\\B(?=(\\d{3})+(?!\\d))/g, "\\u202f");
                };
                var lat = new Int32Array(n), lon = new Int32Array(n), y = 0, x = 0;
                for (var k = 0; k < n; k++) {
                    y += d.lat[k]; x += d.lon[k]; lat[k] = y; lon[k] = x;
                }
                options.lat = lat; options.lon = lon; options.px = px;
                var named = null;
                var point = function (id) {     // "Name (id)" from the point layers
                    if (named === null) {
                        named = Object.create(null);
                        [{% for s in this.named_by %}{{ s.get_name() }},{% endfor %}]
                            .forEach(function (g) {
                                g.relaynetData.forEach(function (r) {
                                    if (r[3] !== {{ this.no_name|tojson }} && r[3] !== r[2]) {
                                        named[r[2]] = r[3] + ' (' + r[2] + ')';
                                    }
                                });
                            });
                    }
                    return named[id] || id;
                };
                options.tip = function (i) {
                    var where = areas[d.a[i]] ? ' (' + areas[d.a[i]] + ')' : '';
                    var reach = d.d[i] < 0 ? 'no eligible point'
                        : (d.d[i] / 10).toFixed(1) + ' km to the nearest point'
                          + (d.p && d.p[i] ? ', ' + point(d.p[i]) : '');
                    return '<b>' + d.n[i] + '</b>' + where + '<br>' + num(d.w[i]) + ' people · '
                        + reach + ' · ' + status;
                };
                {%- endif %}
                options.above = [];
                var layer = new relaynet.Dots(options);
                {%- if this.below %}
                {{ this.below.get_name() }}.options.above.push(layer);
                {%- endif %}
                return layer;
            })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        columns: dict,
        style: dict,
        name: str,
        *,
        pane: str,
        areas: list[str] | None = None,
        status: str = "",
        cap: float = 1.0,
        metres: float | None = None,
        sources: list | None = None,
        below: DotsLayer | None = None,
        show: bool = True,
        named_by: list | None = None,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DotsLayer"
        self.named_by = named_by or []
        self.no_name = NO_NAME
        self.columns = columns
        self.style = style
        self.pane = pane
        self.areas = areas or []
        self.status = status
        self.cap = float(cap) if cap and cap > 0 else 1.0
        self.metres = metres
        self.sources = sources or []
        self.below = below


class GeoLayer(Layer):
    """GeoJSON features (polygons, lines or points) in a pane, added on first display.

    Each feature's ``properties`` holds ``s`` (index into ``styles``), optionally ``h``
    (popup title, escaped HTML) with ``v`` (popup values, escaped HTML, one per entry of
    ``fields``), ``p`` (a whole popup, escaped HTML) and ``t`` (tooltip, escaped HTML);
    point features are drawn as circles of ``m`` metres or circle markers of ``r`` pixels.

    Parameters
    ----------
    features
        GeoJSON features (coordinates in EPSG:4326, lon/lat order; polygons as
        :func:`encode_shapes` gives them), or ``None`` with ``source``.
    styles
        Leaflet path options (``color``, ``fillColor``, ``weight``, ``fillOpacity`` …).
    name
        Layer name shown in the layer control (escaped HTML).
    pane
        Map pane.
    fields
        Escaped labels of the popup rows (``v``).
    source
        Another :class:`GeoLayer` whose geometries are reused; ``properties`` then gives
        the properties of each of its features, in order.
    properties
        With ``source``: one properties dict per feature of the source.
    interactive
        ``False`` for outlines that take no clicks.
    tip_field
        Without ``t``: the tooltip is the popup title with this popup row (value, then
        label: ``"Gap zone 3 · 1 234 uncovered people"``).
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var styles = {{ this.styles|tojson }};
                var fields = {{ this.fields|tojson }};
                {%- if this.source %}
                var props = {{ this.properties|tojson }};
                var features = {{ this.source.get_name() }}.relaynetFeatures.map(function (f, i) {
                    return {type: "Feature", geometry: f.geometry, properties: props[i]};
                });
                {%- else %}
                var features = {{ this.features|tojson }};
                {%- endif %}
                var unit = {{ this.unit|tojson }};
                var tipField = {{ this.tip_field|tojson }};
                features.forEach(function (f) {
                    var g = f.geometry;
                    if (!g.d) { return; }
                    f.geometry = {type: "MultiPolygon", coordinates: g.d.map(function (rings) {
                        return rings.map(function (ring) {
                            var out = [], x = 0, y = 0;
                            for (var k = 0; k < ring.length; k += 2) {
                                x += ring[k]; y += ring[k + 1];
                                out.push([x * unit, y * unit]);
                            }
                            return out;
                        });
                    })};
                });
                var popup = function (p) {
                    if (p.p) { return p.p; }
                    var out = '<div class="rn-popup"><h4>' + p.h + '</h4><table>';
                    for (var k = 0; k < fields.length; k++) {
                        out += '<tr><th>' + fields[k] + '</th><td>' + p.v[k] + '</td></tr>';
                    }
                    return out + '</table></div>';
                };
                var layer = L.geoJSON(null, {
                    pane: {{ this.pane|tojson }},
                    renderer: relaynet.canvas({{ this.pane|tojson }}),
                    interactive: {{ this.interactive|tojson }},
                    style: function (f) { return styles[f.properties.s]; },
                    pointToLayer: function (f, latlng) {
                        var p = f.properties, o = Object.assign({}, styles[p.s]);
                        if (p.m !== undefined) { o.radius = p.m; return L.circle(latlng, o); }
                        o.radius = p.r;
                        return L.circleMarker(latlng, o);
                    },
                    onEachFeature: function (f, l) {
                        // a demand place under the pointer wins: its own tooltip and popup
                        // show (relaynet.Dots), not the zone's or the area's
                        var p = f.properties;
                        var tip = p.t || (p.h && tipField >= 0
                            ? p.h + ' · ' + p.v[tipField] + ' ' + fields[tipField].toLowerCase()
                            : null);
                        if (tip) {
                            l.on("mousemove", function (e) {
                                var map = layer._map;
                                if (!map) { return; }
                                if (relaynet.placeAt(map, e.latlng)) {
                                    map.closeTooltip(tooltip); return;
                                }
                                tooltip.setLatLng(e.latlng).setContent(tip);
                                if (!map.hasLayer(tooltip)) { tooltip.openOn(map); }
                            });
                            l.on("mouseout", function () {
                                if (layer._map) { layer._map.closeTooltip(tooltip); }
                            });
                        }
                        if (p.p || p.h) {
                            l.on("click", function (e) {
                                var map = layer._map;
                                if (!map || relaynet.placeAt(map, e.latlng)) { return; }
                                L.DomEvent.stop(e);
                                L.popup({maxWidth: 360, autoPanPaddingTopRight: [330, 20]})
                                    .setLatLng(e.latlng).setContent(popup(p)).openOn(map);
                            });
                        }
                    }
                });
                var tooltip = L.tooltip({sticky: true, direction: "top", offset: [0, -6]});
                layer.relaynetFeatures = features;
                var filled = false;
                layer.on("add", function () {
                    if (!filled) { filled = true; layer.addData(features); }
                });
                layer.on("remove", function () {
                    if (tooltip._map) { tooltip._map.closeTooltip(tooltip); }
                });
                return layer;
            })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        features: list[dict] | None,
        styles: list[dict],
        name: str,
        *,
        pane: str = "rn-shapes",
        fields: list[str] | None = None,
        source: GeoLayer | None = None,
        properties: list[dict] | None = None,
        interactive: bool = True,
        tip_field: int | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoLayer"
        self.features = features or []
        self.styles = styles
        self.pane = pane
        self.fields = fields or []
        self.source = source
        self.properties = properties or []
        self.interactive = interactive
        self.unit = SHAPE_UNIT
        self.tip_field = -1 if tip_field is None else int(tip_field)


class MarkerLayer(Layer):
    """A few pins with a popup and a tooltip each (proposed sites).

    Parameters
    ----------
    rows
        ``[lat_e5, lon_e5, title, popup_html, tooltip_html]`` per pin; ``title`` is raw
        text (DOM property), the others escaped HTML.
    color, glyph
        Pin colour (hex) and glyph name (``"star"`` …).
    name
        Layer name shown in the layer control (escaped HTML).
    pane
        Map pane of the pins (default Leaflet's marker pane); ``"rn-sites"`` puts them just
        under the relay points' clusters, so no pin hides a cluster's count.
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var data = {{ this.rows|tojson }};
                var icon = relaynet.icon({{ this.color|tojson }}, {{ this.glyph|tojson }});
                var group = L.featureGroup();
                data.forEach(function (r) {
                    L.marker([r[0] / 1e5, r[1] / 1e5], {
                        icon: icon, title: r[2], riseOnHover: true,
                        {%- if this.pane %}
                        pane: {{ this.pane|tojson }}
                        {%- else %}
                        zIndexOffset: 1000
                        {%- endif %}
                    })
                        .bindPopup(r[3], {maxWidth: 340, autoPanPaddingTopRight: [330, 20]})
                        .bindTooltip(r[4]).addTo(group);
                });
                return group;
            })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        rows: list[list],
        color: str,
        glyph: str,
        name: str,
        *,
        show: bool = True,
        pane: str | None = None,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MarkerLayer"
        self.rows = rows
        self.color = color
        self.glyph = glyph
        self.pane = pane


class CircleLayer(Layer):
    """Circle markers on a canvas from one compact array (small layers: comparison maps).

    Parameters
    ----------
    rows
        ``[lat, lon, style_index, radius_px, tooltip]`` per circle; ``tooltip`` is escaped
        HTML (plain escaped text in practice).
    styles
        Leaflet path options per style index.
    name
        Layer name shown in the layer control (escaped HTML).
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var styles = {{ this.styles|tojson }};
                var data = {{ this.rows|tojson }};
                var renderer = L.canvas({padding: 0.5});
                var group = L.featureGroup();
                for (var i = 0; i < data.length; i++) {
                    var r = data[i];
                    var o = Object.assign({renderer: renderer, radius: r[3]}, styles[r[2]]);
                    L.circleMarker([r[0], r[1]], o).bindTooltip(r[4]).addTo(group);
                }
                return group;
            })();
        {% endmacro %}"""
    )

    def __init__(self, rows: list[list], styles: list[dict], name: str, *, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "CircleLayer"
        self.rows = rows
        self.styles = styles
