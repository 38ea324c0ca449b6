"""Folium layers that carry their data as one compact JSON array and build the Leaflet
objects in the browser: thousands of points stay smooth and the HTML stays small.

Every text these layers show (popups, tooltips, marker titles) is either HTML escaped in
Python before it gets here (popups, tooltips) or assigned as a DOM property by Leaflet
(marker ``title``), never parsed as HTML. The data reach the page through
:func:`relaynet.maps._html.page_json` (the ``tojson`` of :class:`DataTemplate`), which
escapes ``<``, ``>``, ``&`` and ``'`` so no string can close the ``<script>`` block, and
every ``{`` that could open a Jinja delimiter, because branca compiles rendered output as
a template a second time.
"""

from __future__ import annotations

from folium.map import Layer
from folium.plugins import MarkerCluster

from ._html import DataTemplate


class PointClusterLayer(MarkerCluster):
    """Relay points of one network as awesome-markers in a marker cluster.

    Parameters
    ----------
    rows
        One list per point: ``[lat, lon, point_id, name, name_html, address_html, kind_t,
        services_t, limits_t, icon_t, hours_index, status_index]``. ``name`` is raw text
        (set as the marker's DOM ``title``, never parsed); ``*_html`` are escaped HTML;
        ``*_t`` index ``texts``.
    texts
        Escaped HTML snippets shared by many points (kind labels, services, limits, icons).
    network_html
        Escaped label of the network.
    hours
        One week of opening hours per distinct schedule, indexed by ``hours_index``: eight
        ``texts`` indices (Monday … Sunday, then the hours source).
    day_labels
        Escaped labels of the seven days (``"Mon 24/11"`` …).
    status_html
        Escaped HTML lines of the open/closed status, indexed by ``status_index``.
    color
        Awesome-markers colour name of the network.
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
                var data = {{ this.rows|tojson }};
                var color = {{ this.color|tojson }};
                {%- if this.cluster %}
                var group = L.markerClusterGroup({{ this.options|tojavascript }});
                {%- else %}
                var group = L.featureGroup();
                {%- endif %}
                var texts = {{ this.texts|tojson }};
                var network = {{ this.network_html|tojson }};
                var week = function (h) {
                    var out = '<table class="rn-hours">';
                    for (var d = 0; d < 7; d++) {
                        out += '<tr><th>' + days[d] + '</th><td>' + texts[h[d]] + '</td></tr>';
                    }
                    out += '</table>';
                    if (texts[h[7]]) {
                        out += '<div class="rn-unknown">hours source: ' + texts[h[7]] + '</div>';
                    }
                    return out;
                };
                var popup = function (layer) {
                    var r = layer.options.relaynetRow;
                    return '<div class="rn-popup"><h4>' + r[4] + '</h4>'
                        + (r[5] ? '<div>' + r[5] + '</div>' : '')
                        + '<table><tr><th>Network</th><td>' + network + '</td></tr>'
                        + '<tr><th>Kind</th><td>' + texts[r[6]] + '</td></tr>'
                        + '<tr><th>Services</th><td>' + texts[r[7]] + '</td></tr>'
                        + '<tr><th>Parcel limits</th><td>' + texts[r[8]] + '</td></tr>'
                        + '<tr><th>Point id</th><td>' + r[2] + '</td></tr></table>'
                        + status[r[11]] + week(hours[r[10]]) + '</div>';
                };
                var icons = {};
                var iconFor = function (t) {
                    if (!icons[t]) {
                        icons[t] = L.AwesomeMarkers.icon({
                            icon: texts[t], prefix: "fa", markerColor: color, iconColor: "white"
                        });
                    }
                    return icons[t];
                };
                var markers = new Array(data.length);
                for (var i = 0; i < data.length; i++) {
                    var r = data[i];
                    var marker = L.marker([r[0], r[1]], {
                        icon: iconFor(r[9]), title: r[3], relaynetId: r[2], relaynetRow: r
                    });
                    marker.bindPopup(popup, {maxWidth: 340});
                    markers[i] = marker;
                }
                {%- if this.cluster %}
                group.addLayers(markers);
                {%- else %}
                for (var j = 0; j < markers.length; j++) { markers[j].addTo(group); }
                {%- endif %}
                return group;
            })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        rows: list[list],
        texts: list[str],
        network_html: str,
        hours: list[list[int]],
        day_labels: list[str],
        status_html: list[str],
        color: str,
        name: str,
        *,
        cluster: bool = True,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointClusterLayer"
        self.rows = rows
        self.texts = texts
        self.network_html = network_html
        self.hours = hours
        self.day_labels = day_labels
        self.status_html = status_html
        self.color = color
        self.cluster = cluster


class GeoLayer(Layer):
    """A GeoJSON FeatureCollection drawn on a canvas, styled by a style index per feature.

    Each feature's ``properties`` holds ``s`` (index into ``styles``), optionally ``p``
    (popup, escaped HTML), ``t`` (tooltip, escaped HTML), and for point features either
    ``r`` (circle marker radius in pixels) or ``m`` (circle radius in metres).

    Parameters
    ----------
    features
        GeoJSON features (coordinates in EPSG:4326, lon/lat order).
    styles
        Leaflet path options (``color``, ``fillColor``, ``weight``, ``fillOpacity`` …).
    name
        Layer name shown in the layer control (escaped HTML).
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var styles = {{ this.styles|tojson }};
                var data = {"type": "FeatureCollection", "features": {{ this.features|tojson }}};
                return L.geoJSON(data, {
                    renderer: L.canvas({padding: 0.5}),
                    style: function (f) { return styles[f.properties.s]; },
                    pointToLayer: function (f, latlng) {
                        var p = f.properties;
                        var o = Object.assign({}, styles[p.s]);
                        if (p.m !== undefined) { o.radius = p.m; return L.circle(latlng, o); }
                        o.radius = p.r;
                        return L.circleMarker(latlng, o);
                    },
                    onEachFeature: function (f, layer) {
                        if (f.properties.p) { layer.bindPopup(f.properties.p, {maxWidth: 340}); }
                        if (f.properties.t) { layer.bindTooltip(f.properties.t, {sticky: true}); }
                    }
                });
            })();
        {% endmacro %}"""
    )

    def __init__(
        self, features: list[dict], styles: list[dict], name: str, *, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoLayer"
        self.features = features
        self.styles = styles


class CircleLayer(Layer):
    """Many circle markers on a canvas from one compact array (demand places).

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
