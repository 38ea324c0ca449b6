"""Comparison map: places that gain or lose coverage between scenarios, and the points
that were closed, added or given other hours (one layer per scenario and kind of change),
over the outlines of the areas.

Every circle of every layer is drawn on one canvas (:func:`relaynet.canvas` of the
``rn-shapes`` pane, shared with the area outlines), so Leaflet finds the circle under the
pointer whatever layer it belongs to: each has a tooltip on hover and a popup on click.
Places are drawn above the points (points as rings, places as filled circles, small on
top), so a place next to a new or closed point stays visible and reachable.

Every data text goes through :func:`relaynet.maps._html.esc`; the layers' data reach the
page through :func:`relaynet.maps._html.page_json` (:class:`DataTemplate`).
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.map import Layer

from ..errors import ParameterError
from . import _html, labels
from . import areas as areas_mod
from ._html import DataTemplate
from ._layers import GeoLayer, e5, encode_shapes
from .coverage import radius_px
from .points import base_map, view_bounds

GAINED = "#1a9850"
LOST = "#d73027"
MIXED = "#fdae61"
CLOSED = "#4d4d4d"
ADDED = "#7b3294"
HOURS = "#2166ac"

BASE_LABEL = "any time (opening hours not checked)"
"""The base eligibility (``window == "base"``, the ``state`` column) in words."""

PANE = "rn-shapes"
"""Pane of every layer of the comparison map (one canvas, drawn in the order added)."""

_PLACE_STYLE = {"weight": 1, "opacity": 0.9, "fillOpacity": 0.55}
_POINT_STYLE = {"weight": 2.5, "opacity": 0.95, "fillOpacity": 0.08}
POINT_RADIUS = 7.0
"""Radius of the point rings in pixels (larger than most places, so both show)."""

STYLES = {
    "gained": {"color": GAINED, "fillColor": GAINED, **_PLACE_STYLE},
    "lost": {"color": LOST, "fillColor": LOST, **_PLACE_STYLE},
    "mixed": {"color": MIXED, "fillColor": MIXED, **_PLACE_STYLE},
    "closed": {"color": CLOSED, "fillColor": CLOSED, **_POINT_STYLE},
    "added": {"color": ADDED, "fillColor": ADDED, **_POINT_STYLE},
    "hours": {"color": HOURS, "fillColor": HOURS, **_POINT_STYLE},
}
"""Leaflet path options of each kind of circle."""


def window_label(window: object) -> str:
    """A time window in words (``"weekday_evening"`` → ``"Weekday evening (Tue 19:00)"``);
    the base eligibility (``"base"``, ``"state"``) as :data:`BASE_LABEL`, capitalised."""
    text = str(window).removeprefix("state_")
    if text in ("base", "state"):
        return BASE_LABEL[:1].upper() + BASE_LABEL[1:]
    return labels.window_name(text)


class ChangeLayer(Layer):
    """Circles of one scenario and kind of change on the shared canvas of ``pane``.

    Parameters
    ----------
    rows
        ``[lat_e5, lon_e5, style_index, radius_px, tooltip_html]`` per circle (coordinates
        in integers of 1e-5 degree); ``tooltip_html`` is escaped HTML, shown on hover and,
        in a popup, on click.
    styles
        Leaflet path options per style index.
    name
        Layer name shown in the layer control (escaped HTML).
    pane
        Map pane: all layers of a pane share its canvas, and with it the hit test.
    """

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                var styles = {{ this.styles|tojson }};
                var data = {{ this.rows|tojson }};
                var pane = {{ this.pane|tojson }};
                var renderer = relaynet.canvas(pane);
                var group = L.featureGroup();
                for (var i = 0; i < data.length; i++) {
                    var r = data[i];
                    var o = Object.assign({pane: pane, renderer: renderer, radius: r[3]},
                                          styles[r[2]]);
                    L.circleMarker([r[0] / 1e5, r[1] / 1e5], o)
                        .bindTooltip(r[4], {sticky: true, direction: "top", offset: [0, -6]})
                        .bindPopup('<div class="rn-popup">' + r[4] + '</div>', {maxWidth: 340})
                        .addTo(group);
                }
                return group;
            })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        rows: list[list],
        styles: list[dict],
        name: str,
        *,
        pane: str = PANE,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ChangeLayer"
        self.rows = rows
        self.styles = styles
        self.pane = pane


class _KeepOrder(MacroElement):
    """What lies on top on the shared canvas, at load and whenever a layer is switched on
    again (Leaflet draws a re-added layer on top): ``bottom`` layers first, in order, and
    the ``top`` ones last."""

    _template = DataTemplate(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var bottom = [{% for l in this.bottom %}{{ l.get_name() }},{% endfor %}];
            var top = [{% for l in this.top %}{{ l.get_name() }},{% endfor %}];
            var sort = function () {
                top.forEach(function (l) { if (map.hasLayer(l)) { l.bringToFront(); } });
                bottom.slice().reverse().forEach(function (l) {
                    if (map.hasLayer(l) && l.bringToBack) { l.bringToBack(); }
                });
            };
            sort();
            map.on("overlayadd", sort);
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, bottom: list, top: list) -> None:
        super().__init__()
        self._name = "KeepOrder"
        self.bottom = bottom
        self.top = top


def _outline_layer(shapes, kind: str) -> GeoLayer:
    """Outlines of the areas (not interactive), drawn first on the shared canvas, as the
    coverage map draws them (:class:`~relaynet.maps._layers.GeoLayer`)."""
    geometries = encode_shapes(shapes.geometry.to_numpy(), tolerance=areas_mod.SIMPLIFY_DEG)
    return GeoLayer(
        [{"type": "Feature", "geometry": g, "properties": {"s": 0}} for g in geometries],
        [{"color": _html.AREA_OUTLINE, "weight": 1, "opacity": 0.7, "fill": False}],
        f"{_html.esc(kind)} outlines",
        pane=PANE,
        interactive=False,
    )


def _place_rows(changes: pd.DataFrame, access: pd.DataFrame, states: list[str]) -> dict:
    """Per place with any change, by flag (``gained``, ``lost``, ``mixed``): rows
    ``[lat_e5, lon_e5, flag, radius_px, tooltip_html, lost_or_gained_in_base]``."""
    values = changes[states].to_numpy(object)
    gained = (values == "gained").any(axis=1)
    lost = (values == "lost").any(axis=1)
    moved = np.flatnonzero(gained | lost)
    radius = radius_px(changes["weight"].to_numpy(float))
    label = changes["name"] if "name" in changes.columns else changes["demand_id"]
    area = changes["area_name"] if "area_name" in changes.columns else None
    before = _column(changes, "distance_before_m")
    after = _column(changes, "distance_after_m")
    covered_before = _flags(changes, "covered_before")
    covered_after = _flags(changes, "covered_after")
    rows: dict[str, list] = {"gained": [], "lost": [], "mixed": []}
    lat = access["lat"].to_numpy(float)
    lon = access["lon"].to_numpy(float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat_e5 = np.where(ok, np.round(np.nan_to_num(lat) * 1e5), 0).astype(np.int64)
    lon_e5 = np.where(ok, np.round(np.nan_to_num(lon) * 1e5), 0).astype(np.int64)
    for i in moved[np.argsort(-radius[moved], kind="stable")]:
        if not ok[i]:
            continue
        flag = "mixed" if gained[i] and lost[i] else "gained" if gained[i] else "lost"
        lines = []
        for state, verb in (("gained", "gains coverage"), ("lost", "loses coverage")):
            when = [window_label(s) for k, s in enumerate(states) if values[i, k] == state]
            if when:
                lines.append(f"{verb}: {_html.esc(', '.join(when))}")
        where = _html.esc(area.iloc[i]) if area is not None else ""
        where = f" ({where})" if where else ""
        people = _html.format_number(changes["weight"].iloc[i]) or "?"
        reach = (
            f"<br>nearest eligible point: {_html.esc(_km(before[i], covered_before[i]))} → "
            f"{_html.esc(_km(after[i], covered_after[i]))}"
            if np.isfinite(before[i]) or np.isfinite(after[i])
            else ""
        )
        tip = (
            f"<b>{_html.esc(label.iloc[i])}</b>{where} · {people} people<br>"
            + "<br>".join(lines)
            + reach
        )
        in_base = values[i, 0] != "unchanged"
        rows[flag].append([int(lat_e5[i]), int(lon_e5[i]), flag, float(radius[i]), tip, in_base])
    return rows


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(float)


def _flags(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.ones(len(frame), bool)
    return frame[name].astype("boolean").fillna(False).to_numpy(bool)


def _km(metres: float, covered: bool) -> str:
    """Kilometres with one decimal; rounded up when the place is not covered, so a place
    beyond a 5 km standard never reads "5.0 km"."""
    return labels.km(metres, up=not covered) if np.isfinite(metres) else "none"


def _e5(lat: float, lon: float) -> list[int]:
    return e5([lat, lon])


def _point_changes(baseline, scenario) -> dict[str, pd.DataFrame]:
    """Points closed, added, and with other opening hours, between two scenarios."""
    before = baseline.points.set_index(baseline.point_ids)
    after = scenario.points.set_index(scenario.point_ids)
    closed = before.loc[before.index.difference(after.index, sort=False)]
    added = after.loc[after.index.difference(before.index, sort=False)]
    both = before.index.intersection(after.index, sort=False)
    if "opening_hours" in before.columns and "opening_hours" in after.columns and len(both):
        old = before.loc[both, "opening_hours"].astype(object).fillna("")
        new = after.loc[both, "opening_hours"].astype(object).fillna("")
        hours = after.loc[both[(old != new).to_numpy()]].assign(
            old_hours=old[(old != new).to_numpy()]
        )
    else:
        hours = after.iloc[0:0]
    return {"closed": closed, "added": added, "hours": hours}


_POINT_WORDS = {
    "closed": ("Point closed", "points closed"),
    "added": ("Point added", "points added"),
    "hours": ("New hours", "points with new hours"),
}


def _point_rows(flag: str, points: pd.DataFrame, order: list[str]) -> list[list]:
    data = []
    for pid, row in zip(points.index, points.to_dict("records"), strict=True):
        geom = row.get("geometry")
        if geom is None or geom.is_empty:
            continue
        name = _html.esc(row.get("name")) or _html.esc(pid)
        tip = f"{_POINT_WORDS[flag][0]}: {name} ({_html.esc(pid)})"
        if flag == "hours":
            old, new = row.get("old_hours"), row.get("opening_hours")
            tip += f"<br>{_html.esc(old) or 'no hours'} → {_html.esc(new) or 'no hours'}"
        data.append([*_e5(geom.y, geom.x), order.index(flag), POINT_RADIUS, tip])
    return data


def _place_layer_name(scenario: str, flag: str, rows: list[list], has_windows: bool) -> str:
    """``"sample closed: 141 places lose coverage, 201 more only at some hours"``: the
    first number is the report's (base eligibility), the second the time windows'."""
    n = len(rows)
    name = _html.esc(scenario)
    if flag == "mixed":
        count = _html.format_number(n)
        return f"{name}: {count} places gain coverage at some hours, lose it at others"
    verb = "gain" if flag == "gained" else "lose"
    if not has_windows:
        return f"{name}: {_html.format_number(n)} places {verb} coverage"
    in_base = sum(1 for r in rows if r[5])
    text = f"{name}: {_html.format_number(in_base)} places {verb} coverage"
    if n > in_base:
        text += f", {_html.format_number(n - in_base)} more only at some hours"
    return text


def comparison_map(
    comparison,
    *,
    tiles: str | None = "OpenStreetMap",
    offline: bool = False,
    areas=None,
):
    """Folium map of a comparison: places gaining/losing coverage and points that changed,
    one layer per scenario and kind of change (local engine), over the area outlines.

    Parameters
    ----------
    comparison
        Result of :func:`relaynet.coverage.compare`.
    tiles
        Folium tiles; ``None`` for no background.
    offline
        Inline Leaflet and the other JavaScript/CSS (works without internet).
    areas
        Area polygons with an ``area_id`` column (values of the comparison's ``by``) for
        the outlines; ``None`` (default): the bundled départements when the areas are
        département codes; ``False``: none.

    Returns
    -------
    RelayMap
        Places that gain coverage (green), lose it (red) or both in different time windows
        (orange), circle area ∝ people; points closed (grey), added (purple) or with new
        hours (blue) as rings underneath. Every circle has a tooltip and a popup.
    """
    if comparison.changes is None:
        raise ParameterError("comparison_map: per-place changes need the local engine")
    access = comparison.runs[comparison.baseline.name].assessment.access
    bounds = view_bounds(access["lon"].to_numpy(float), access["lat"].to_numpy(float))
    m = base_map(bounds, tiles, offline=offline)
    legend: list = []
    bottom: list = []
    shapes = None
    by = comparison.by
    if areas is not False and by in access.columns:
        shapes = areas_mod.area_shapes(access, by, None if areas is None else areas)
    if shapes is not None and len(shapes):
        outline = _outline_layer(shapes, "Département" if areas is None else "Area")
        outline.add_to(m)
        bottom.append(outline)
        legend.append(("Areas", [(_html.AREA_OUTLINE, outline.layer_name, "line")]))
    order = list(STYLES)
    style_list = [STYLES[k] for k in order]
    states = ["state", *[c for c in comparison.changes.columns if c.startswith("state_")]]
    has_windows = len(states) > 1
    point_layers, place_layers = [], []
    for scenario in comparison.scenarios[1:]:  # in the layer control: scenario by scenario
        for flag, points in _point_changes(comparison.baseline, scenario).items():
            data = _point_rows(flag, points, order) if len(points) else []
            if data:
                name = f"{_html.esc(scenario.name)}: {len(data)} {_POINT_WORDS[flag][1]}"
                point_layers.append(ChangeLayer(data, style_list, name).add_to(m))
        mask = (comparison.changes["scenario"] == scenario.name).to_numpy()
        changes = comparison.changes.loc[mask].reset_index(drop=True)
        rows = _place_rows(changes, access, states)
        for flag in ("lost", "mixed", "gained"):
            if rows[flag]:
                data = [[r[0], r[1], order.index(r[2]), r[3], r[4]] for r in rows[flag]]
                name = _place_layer_name(scenario.name, flag, rows[flag], has_windows)
                place_layers.append(ChangeLayer(data, style_list, name).add_to(m))
    # on the canvas: outlines, then every scenario's point rings, then the places
    m.add_child(_KeepOrder(bottom + point_layers, place_layers))
    legend[:0] = [
        (
            "Places (circle area ∝ people)",
            [
                (GAINED, "gain coverage", "circle"),
                (LOST, "lose coverage", "circle"),
                (MIXED, "gain at some hours, lose at others", "circle"),
            ],
        ),
        (
            "Points",
            [
                (CLOSED, "closed", "ring"),
                (ADDED, "added", "ring"),
                (HOURS, "new opening hours", "ring"),
            ],
        ),
    ]
    m.add_child(_html.Legend(legend))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


__all__ = ["BASE_LABEL", "ChangeLayer", "comparison_map", "window_label"]
