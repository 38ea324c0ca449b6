"""Coverage map: demand covered or not, gap zones, proposed sites, service areas."""

from __future__ import annotations

import logging

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..io.schema import CRS
from . import _html, labels
from . import areas as areas_mod
from ._layers import DotsLayer, GeoLayer, MarkerLayer, deltas, e5, encode_shapes, spatial_order
from ._page import RelayMap
from .points import _as_points, base_map, legend_sections, point_layers, view_bounds

log = logging.getLogger(__name__)

_DEMAND_STYLES = [
    {
        "color": _html.COVERED,
        "weight": 1,
        "opacity": 0.8,
        "fillColor": _html.COVERED,
        "fillOpacity": 0.35,
    },
    {
        "color": "#7f0000",
        "weight": 1,
        "opacity": 0.9,
        "fillColor": _html.UNCOVERED,
        "fillOpacity": 0.8,
    },
]
_GAP_STYLE = {"color": _html.GAP, "weight": 2, "fillColor": _html.GAP, "fillOpacity": 0.25}
_RADIUS_STYLE = {
    "color": _html.RADIUS,
    "weight": 0.6,
    "opacity": 0.35,
    "fillColor": _html.RADIUS,
    "fillOpacity": 0.12,
}
_ISO_COLORS = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e")


def _assessment_access(assessment, window: str | None) -> pd.DataFrame:
    access = getattr(assessment, "access", None)
    if not isinstance(access, pd.DataFrame):
        raise ParameterError("assessment: expected the result of relaynet.coverage.assess")
    if window is None:
        return access
    windows = assessment.window_access
    if window not in windows:
        raise ParameterError(
            f"window={window!r}: not a window of this assessment; expected one of {list(windows)}"
        )
    table = windows[window]
    out = access.copy()
    for column in ("point_id", "distance_m", "drive_s", "covered", "n_points"):
        if column in table.columns:
            out[column] = table[column].to_numpy()
    return out


def radius_px(weight: np.ndarray, *, smallest: float = 2.0, largest: float = 16.0) -> np.ndarray:
    """Circle radius in pixels, area proportional to weight, capped at the 99th percentile."""
    weight = np.nan_to_num(np.asarray(weight, float), nan=0.0).clip(min=0)
    cap = np.quantile(weight, 0.99) if len(weight) else 1.0
    cap = cap if cap > 0 else 1.0
    return np.round(smallest + (largest - smallest) * np.sqrt(np.minimum(weight / cap, 1.0)), 1)


def point_labels(points: gpd.GeoDataFrame | None) -> dict[str, str]:
    """``{point_id: "Name (point_id)"}``, escaped HTML, for the relay points that have a
    name (the others are shown by their id alone)."""
    if points is None or "point_id" not in points.columns or "name" not in points.columns:
        return {}
    out = {}
    for pid, name in zip(points["point_id"], points["name"], strict=True):
        pid_html, name_html = _html.esc(pid), _html.esc(name)
        if pid_html and name_html and name_html != pid_html:
            out[str(pid)] = f"{name_html} ({pid_html})"
    return out


def _point_label(point_id: object, names: dict[str, str]) -> str:
    """A point as people read it, escaped: its name and id, or its id."""
    if point_id is None or point_id is pd.NA or _html.esc(point_id) == "":
        return ""
    return names.get(str(point_id), _html.esc(point_id))


def _demand_layers(
    access: pd.DataFrame, by: str | None, point_layers: list | None = None
) -> tuple[DotsLayer, DotsLayer]:
    """Covered and uncovered places; the uncovered ones name their nearest point (from
    ``point_layers``, in the browser)."""
    weight = access["weight"].to_numpy(float)
    finite = np.nan_to_num(weight, nan=0.0).clip(min=0)
    cap = float(np.quantile(finite, 0.99)) if len(finite) else 1.0
    covered = access["covered"].to_numpy(bool)
    names = (access["name"] if "name" in access.columns else access["demand_id"]).map(_html.esc)
    area_col = "area_name" if "area_name" in access.columns else by
    if area_col is not None and area_col in access.columns:
        area_codes, area_values = pd.factorize(access[area_col].astype(object).fillna(""))
        areas = [_html.esc(v) for v in area_values]
    else:
        area_codes, areas = np.zeros(len(access), np.int64), [""]
    distance = access["distance_m"].to_numpy(float)
    # in 100 m; rounded up for places not covered, so none reads as within the standard
    steps = np.nan_to_num(distance) / 100
    steps = np.where(covered, np.round(steps), np.ceil(np.round(steps, 6)))
    tenths = np.where(np.isfinite(distance), steps, -1)
    nearest = access["point_id"].to_numpy(object)
    lat = e5(access["lat"].to_numpy(float))
    lon = e5(access["lon"].to_numpy(float))
    names = names.to_numpy(object)
    layers = []
    below = None
    lat_a, lon_a = np.asarray(lat, np.int64), np.asarray(lon, np.int64)
    for flag, label, style, pane in (
        (True, "Covered places", _DEMAND_STYLES[0], "rn-covered"),
        (False, "Uncovered places", _DEMAND_STYLES[1], "rn-uncovered"),
    ):
        idx = np.flatnonzero(covered == flag)
        # spatial order (short steps between neighbours); the browser draws large first
        idx = idx[spatial_order(lat_a[idx], lon_a[idx])]
        columns = {
            "lat": deltas(lat_a[idx]),
            "lon": deltas(lon_a[idx]),
            "w": [round(float(finite[i])) for i in idx],
            "n": [names[i] for i in idx],
            "a": [int(area_codes[i]) for i in idx],
            "d": [int(tenths[i]) for i in idx],
        }
        if not flag:
            columns["p"] = [_html.esc(nearest[i]) for i in idx]
        people = _html.format_number(float(finite[idx].sum()))
        layer = DotsLayer(
            columns,
            style,
            f"{label} ({_html.format_number(len(idx))}, {people} people)",
            pane=pane,
            areas=areas,
            status="covered" if flag else "<b>not covered</b>",
            cap=cap,
            below=below,
            show=True,
            named_by=None if flag else point_layers,
        )
        layers.append(layer)
        below = layer
    return layers[0], layers[1]


_GAP_FIELDS = [
    "Uncovered people",
    "Places",
    "Largest places",
    "Areas",
    "Rural share",
    "Nearest point",
]


def _gap_layer(gaps: gpd.GeoDataFrame, point_names: dict[str, str] | None = None) -> GeoLayer:
    """Gap zones with their popup; the nearest point by name and id, its distance rounded
    up (the zone's places are all beyond the standard)."""
    gaps = gaps.to_crs(CRS) if gaps.crs is not None and gaps.crs != CRS else gaps
    features = []
    geometries = encode_shapes(gaps.geometry.to_numpy(), tolerance=2e-3)
    for geometry, row in zip(geometries, gaps.to_dict("records"), strict=True):
        values = [
            _html.format_number(row.get("uncovered_weight")),
            _html.esc(row.get("n_places")),
            _html.esc(row.get("places")),
            _html.esc(str(row.get("areas") or "").replace(";", ", ")),
            _html.esc(labels.percent(row.get("rural_share"), 0)),
            ", ".join(
                x
                for x in (
                    _point_label(row.get("nearest_point_id"), point_names or {}),
                    _html.esc(labels.km(row.get("nearest_point_m"), up=True)),
                )
                if x
            ),
        ]
        title = f"Gap zone {_html.esc(row.get('rank'))}"
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {"s": 0, "h": title, "v": values},
            }
        )
    total = _html.format_number(float(pd.to_numeric(gaps["uncovered_weight"]).sum()))
    return GeoLayer(
        features,
        [_GAP_STYLE],
        f"Gap zones ({_html.format_number(len(gaps))}, {total} people)",
        pane="rn-shapes",
        fields=_GAP_FIELDS,
        tip_field=0,
    )


def by_area_title(what: str, kind: str) -> str:
    """Name of a choropleth layer: ``"Share covered, by département"`` (``kind`` is the
    singular, lower case: ``"département"``, ``"area"``)."""
    return f"{what}, by {kind}"


def _area_layers(shapes: gpd.GeoDataFrame, kind: str) -> list[GeoLayer]:
    """Outlines (shown), share covered and people not covered (choropleths, off);
    ``kind`` names one area (``"département"``)."""
    geometries = encode_shapes(shapes.geometry.to_numpy(), tolerance=areas_mod.SIMPLIFY_DEG)
    outline = GeoLayer(
        [{"type": "Feature", "geometry": g, "properties": {"s": 0}} for g in geometries],
        [{"color": _html.AREA_OUTLINE, "weight": 1, "opacity": 0.7, "fill": False}],
        f"{_html.esc(kind[:1].upper() + kind[1:])}s outlines",
        pane="rn-shapes",
        interactive=False,
    )
    share_class = areas_mod.classify(shapes["share_covered"], areas_mod.SHARE_CLASSES)
    people_class = areas_mod.classify(shapes["uncovered_weight"], areas_mod.UNCOVERED_CLASSES)
    fields = ["People", "Covered", "Not covered"]
    share_props, people_props = [], []
    for k, row in enumerate(shapes.to_dict("records")):
        title = f"{_html.esc(row.get('area_name'))} ({_html.esc(row.get('area_id'))})"
        values = [
            _html.format_number(row.get("weight")),
            _html.esc(labels.percent(row.get("share_covered"))),
            f"{_html.format_number(row.get('uncovered_weight'))} people",
        ]
        tip_share = f"{title}: {values[1]} covered"
        tip_people = f"{title}: {values[2]} not covered"
        share_props.append({"s": int(share_class[k]), "h": title, "v": values, "t": tip_share})
        people_props.append({"s": int(people_class[k]), "h": title, "v": values, "t": tip_people})

    def styles(classes) -> list[dict]:
        return [
            {"color": "#555", "weight": 0.5, "fillColor": color, "fillOpacity": 0.65}
            for _, color, _ in classes
        ] + [{"color": "#555", "weight": 0.5, "fillColor": "#ccc", "fillOpacity": 0.3}]

    share = GeoLayer(
        None,
        styles(areas_mod.SHARE_CLASSES),
        _html.esc(by_area_title("Share covered", kind)),
        pane="rn-shapes",
        fields=fields,
        source=outline,
        properties=share_props,
        show=False,
    )
    people = GeoLayer(
        None,
        styles(areas_mod.UNCOVERED_CLASSES),
        _html.esc(by_area_title("People not covered", kind)),
        pane="rn-shapes",
        fields=fields,
        source=outline,
        properties=people_props,
        show=False,
    )
    return [outline, share, people]


def _area_notes(access: pd.DataFrame, by: str, shapes: gpd.GeoDataFrame, kind: str) -> list:
    """Legend lines about the areas a view of France does not show: the overseas ones
    (drawn where they lie) and those with no outline at all."""
    notes = []
    overseas = shapes["area_id"].astype(str).isin(list(areas_mod.OVERSEAS_CODES.values()))
    if overseas.any():
        codes = ", ".join(_html.esc(c) for c in sorted(shapes.loc[overseas, "area_id"]))
        notes.append(("", f"Overseas {kind}s ({codes}) are drawn where they lie", "note"))
    missing = areas_mod.unmapped_areas(access, by, shapes)
    if len(missing):
        shown = ", ".join(
            f"{_html.esc(n)} ({_html.esc(c)})" if _html.esc(n) != _html.esc(c) else _html.esc(c)
            for c, n in zip(missing["area_id"][:6], missing["area_name"][:6], strict=True)
        )
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        notes.append(("", f"No outline: {shown}{more}", "note"))
    return notes


def _solution_layer(solution) -> MarkerLayer:
    sites = getattr(solution, "sites", None)
    if not isinstance(sites, gpd.GeoDataFrame):
        raise ParameterError("solution: expected the result of relaynet.optimize.solve")
    sites = sites.to_crs(CRS) if sites.crs is not None and sites.crs != CRS else sites
    model = _html.esc(labels.model_name(getattr(solution, "model", "")))
    rows = []
    for row in sites.to_dict("records"):
        gain = row.get("new_weight")
        site_id = _html.esc(row.get("point_id"))
        name = _html.esc(row.get("name")) or site_id
        popup = (
            '<div class="rn-popup">'
            f"<h4>Proposed site: {name}</h4><table>"
            f"<tr><th>Site id</th><td>{site_id}</td></tr>"
            f"<tr><th>Status</th><td>{_html.label(row.get('status'))}</td></tr>"
            f"<tr><th>Coverage gain</th><td>{_html.format_number(gain)} people newly covered"
            "</td></tr>"
            f"<tr><th>Assigned</th><td>{_html.format_number(row.get('assigned_weight'))} people"
            "</td></tr>"
            f"<tr><th>Model</th><td>{model[:1].upper() + model[1:]}</td></tr>"
            "</table></div>"
        )
        tip = f"Proposed site {name}: +{_html.format_number(gain)} people newly covered"
        geom = row["geometry"]
        title = str(row.get("name") or row.get("point_id") or "")
        rows.append([e5([geom.y])[0], e5([geom.x])[0], title, popup, tip])
    return MarkerLayer(
        rows, _html.PROPOSED, "star", f"Proposed sites ({len(sites)})", pane="rn-sites"
    )


def _radius_layer(sources: list, radius_m: float, show: bool) -> DotsLayer:
    name = f"Service radius {radius_m / 1000:g} km"
    return DotsLayer(
        {},
        _RADIUS_STYLE,
        name,
        pane="rn-radius",
        metres=float(radius_m),
        sources=sources,
        show=show,
    )


def _isochrone_layer(isochrones: gpd.GeoDataFrame) -> GeoLayer:
    iso = isochrones.to_crs(CRS) if isochrones.crs is not None else isochrones
    minutes = pd.to_numeric(iso["minutes"], errors="coerce") if "minutes" in iso else None
    levels = sorted(minutes.dropna().unique()) if minutes is not None else [0]
    styles = [
        {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.15}
        for c in (_ISO_COLORS[k % len(_ISO_COLORS)] for k in range(len(levels)))
    ]
    features = []
    geometries = encode_shapes(iso.geometry.to_numpy())
    for k, row in enumerate(iso.to_dict("records")):
        level = levels.index(minutes.iloc[k]) if minutes is not None else 0
        text = " · ".join(
            f"{_html.esc(key)}: {_html.esc(value)}"
            for key, value in row.items()
            if key != "geometry"
        )
        features.append(
            {"type": "Feature", "geometry": geometries[k], "properties": {"s": level, "t": text}}
        )
    # largest areas first so smaller ones stay on top
    features.sort(key=lambda f: -f["properties"]["s"])
    return GeoLayer(features, styles, f"Isochrones ({len(iso)})", pane="rn-shapes")


def coverage_map(
    assessment,
    *,
    points: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    solution=None,
    isochrones: gpd.GeoDataFrame | None = None,
    radius: bool | None = None,
    window: str | None = None,
    when=None,
    tiles: str | None = "OpenStreetMap",
    country: str | None = "FR",
    areas: gpd.GeoDataFrame | bool | None = None,
    tz: str | None = None,
    offline: bool = False,
) -> RelayMap:
    """Map of an assessment: demand covered or not, gaps, areas, proposed sites.

    Parameters
    ----------
    assessment
        Result of :func:`relaynet.coverage.assess` (its ``access`` table is drawn: one
        circle per demand place, area proportional to ``weight``, green when covered,
        red when not, the uncovered ones on top).
    points
        Relay points to show as pins (one clustered layer per network).
    gaps
        Gap zones from :func:`relaynet.coverage.find_gaps`: polygons with their uncovered
        population, drawn above the covered places.
    solution
        A :class:`relaynet.optimize.Solution`: proposed sites as star pins with their
        coverage gain (``new_weight``, people newly covered).
    isochrones
        Polygons from :meth:`relaynet.network.RoadNetwork.isochrones` (``minutes``
        column), one colour per time.
    radius
        Layer of the standard's distance (metres) around every point in ``points``, one
        shaded union; ``None`` (default) or ``False``: in the layer control, switched off;
        ``True``: switched on.
    window
        Name of a time window of the assessment to draw instead of the base coverage.
    when
        Datetime of the open/closed status in point popups (default: now, in the points'
        time zone, and the popups say it is the time the map was made); ``"view"``: "open
        now" is worked out in the browser when a popup is opened, from a usual week's
        hours, so the page does not depend on when it was made (the report uses this).
    tiles
        Folium tiles; ``None`` for no background.
    country
        Country for public holidays in the opening hours.
    areas
        Area polygons with an ``area_id`` column (values of the assessment's ``by``):
        outlines, and choropleths of the share covered and of the people not covered
        (switched off). ``None`` (default): the bundled départements when the areas are
        département codes; ``False``: none.
    tz
        Time zone of the points' opening hours (default: a ``tz`` column, else
        ``points.attrs["tz"]``, else Europe/Paris).
    offline
        Inline Leaflet and the other JavaScript/CSS when the map is shown in Jupyter or
        saved with ``m.save`` (works without internet; tiles still need a server).

    Returns
    -------
    RelayMap
        A :class:`folium.Map` with every layer in the layer control, a legend above a
        metric scale bar, fitted to the demand.
    """
    access = _assessment_access(assessment, window)
    lat = access["lat"].to_numpy(float)
    lon = access["lon"].to_numpy(float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    by = getattr(assessment, "by", None)
    m = base_map(view_bounds(lon, lat), tiles, offline=offline)
    legend: list = []
    follow: dict = {}
    shapes = None
    if areas is not False and by is not None and by in access.columns:
        shapes = areas_mod.area_shapes(
            access, by, None if areas is None else areas, overseas=areas is None
        )
    if shapes is not None and len(shapes):
        kind = "département" if areas is None else "area"
        outline, share, people = _area_layers(shapes, kind)
        for layer in (outline, share, people):
            layer.add_to(m)
        notes = _area_notes(access, by, shapes, kind)
        legend.append(("Areas", [(_html.AREA_OUTLINE, outline.layer_name, "line"), *notes]))
        title = by_area_title("Share covered", kind)
        entries = [(c, _html.esc(t), "square") for _, c, t in areas_mod.SHARE_CLASSES]
        legend.append((title, entries + notes))
        follow[title] = share
        title = by_area_title("People not covered", kind)
        entries = [(c, _html.esc(t), "square") for _, c, t in areas_mod.UNCOVERED_CLASSES]
        legend.append((title, entries + notes))
        follow[title] = people
    standard = getattr(assessment, "standard", None)
    distance = getattr(standard, "distance_m", None)
    point_group: list = []
    colors: dict = {}
    if points is not None:
        points = _as_points(points)
        point_group, colors = point_layers(points, when=when, country=country, tz=tz)
    names = point_labels(points)
    covered_layer, uncovered_layer = _demand_layers(access.loc[ok], by, point_group)
    covered_layer.add_to(m)
    demand_title = "Places (circle area ∝ people)"
    legend.insert(
        0,
        (
            demand_title,
            [
                (_html.UNCOVERED, "Not covered", "circle"),
                (_html.COVERED, "Covered", "circle"),
            ],
        ),
    )
    if isochrones is not None and len(isochrones):
        _isochrone_layer(isochrones).add_to(m)
        legend.append(("Isochrones", [(_ISO_COLORS[0], "drive time areas", "square")]))
    if gaps is not None and len(gaps):
        gap_layer = _gap_layer(gaps, names)
        gap_layer.add_to(m)
        legend.insert(1, ("Gap zones", [(_html.GAP, "Zone of uncovered places", "square")]))
        follow["Gap zones"] = gap_layer
    uncovered_layer.add_to(m)
    for layer in point_group:
        layer.add_to(m)
    if point_group and distance is not None:
        # after the points: it draws their coordinates (its pane keeps it underneath)
        radius_layer = _radius_layer(point_group, float(distance), bool(radius))
        radius_layer.add_to(m)
        title = "Service area"
        legend.append((title, [(_html.RADIUS, f"{distance / 1000:g} km radius", "ring")]))
        follow[title] = radius_layer
    if point_group:
        legend.extend(legend_sections(points, colors))
    if solution is not None:
        sites = _solution_layer(solution)
        sites.add_to(m)
        legend.insert(1, ("Proposed sites", [(_html.PROPOSED, "New site", "pin:star")]))
        follow["Proposed sites"] = sites
    m.add_child(_html.Legend(legend, follow))
    folium.LayerControl(collapsed=False).add_to(m)
    return m
