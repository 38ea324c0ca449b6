"""Coverage map: demand covered or not, gap zones, proposed sites, service areas."""

from __future__ import annotations

import json
import logging

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ParameterError
from ..schema import CRS
from . import _html
from ._layers import CircleLayer, GeoLayer
from .points import _as_points, base_map, legend_sections, point_layers, view_bounds

log = logging.getLogger(__name__)

_DEMAND_STYLES = [
    {"color": _html.COVERED, "weight": 1, "fillColor": _html.COVERED, "fillOpacity": 0.45},
    {"color": _html.UNCOVERED, "weight": 1, "fillColor": _html.UNCOVERED, "fillOpacity": 0.6},
]
_GAP_STYLE = {"color": _html.GAP, "weight": 2, "fillColor": _html.GAP, "fillOpacity": 0.25}
_RADIUS_STYLE = {
    "color": _html.RADIUS,
    "weight": 1,
    "fillColor": _html.RADIUS,
    "fillOpacity": 0.06,
    "interactive": False,
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


def _demand_layers(access: pd.DataFrame) -> tuple[CircleLayer, CircleLayer]:
    weight = access["weight"].to_numpy(float)
    radius = radius_px(weight)
    covered = access["covered"].to_numpy(bool)
    names = (access["name"] if "name" in access.columns else access["demand_id"]).map(_html.esc)
    area = (
        access["area_name"].map(_html.esc)
        if "area_name" in access.columns
        else pd.Series([""] * len(access), index=access.index)
    )
    distance = access["distance_m"].to_numpy(float)
    nearest = access["point_id"].astype(object).where(access["point_id"].notna(), "")
    tips = []
    for name, where, w, d, p, c in zip(
        names, area, weight, distance, nearest.map(_html.esc), covered, strict=True
    ):
        place = f"{name} ({where})" if where else name
        reach = f"{d / 1000:.1f} km to nearest point {p}" if np.isfinite(d) else "no point"
        status = "covered" if c else "NOT covered"
        tips.append(f"{place} · {_html.format_number(w)} people · {reach} · {status}")
    lat = np.round(access["lat"].to_numpy(float), 5)
    lon = np.round(access["lon"].to_numpy(float), 5)
    layers = []
    for flag, label in ((True, "Covered demand"), (False, "Uncovered demand")):
        idx = np.flatnonzero(covered == flag)
        # large circles first so small ones stay clickable on top
        idx = idx[np.argsort(-radius[idx], kind="stable")]
        rows = [
            [float(lat[i]), float(lon[i]), 0 if flag else 1, float(radius[i]), tips[i]] for i in idx
        ]
        people = _html.format_number(float(weight[idx].sum()))
        # tens of thousands of covered places bury the map: shown on demand only
        show = not flag or len(access) <= 5000
        layers.append(CircleLayer(rows, _DEMAND_STYLES, f"{label} ({people} people)", show=show))
    return layers[0], layers[1]


def _geojson_geometries(geometries) -> list[dict]:
    """GeoJSON geometry dicts, coordinates snapped to 1e-5 degrees (about 1 m)."""
    geoms = shapely.set_precision(np.asarray(geometries, dtype=object), 1e-5)
    return [json.loads(text) for text in shapely.to_geojson(geoms)]


def _gap_layer(gaps: gpd.GeoDataFrame) -> GeoLayer:
    gaps = gaps.to_crs(CRS) if gaps.crs is not None and gaps.crs != CRS else gaps
    features = []
    geometries = _geojson_geometries(gaps.geometry.to_numpy())
    for geometry, row in zip(geometries, gaps.to_dict("records"), strict=True):
        d = row.get("nearest_point_m")
        far = f"{float(d) / 1000:.1f} km" if d is not None and np.isfinite(d) else "none"
        popup = (
            '<div class="rn-popup">'
            f"<h4>Gap zone {_html.esc(row.get('gap_id'))} (rank {_html.esc(row.get('rank'))})</h4>"
            "<table>"
            f"<tr><th>Uncovered people</th><td>{_html.format_number(row.get('uncovered_weight'))}"
            "</td></tr>"
            f"<tr><th>Places</th><td>{_html.esc(row.get('n_places'))}</td></tr>"
            f"<tr><th>Largest places</th><td>{_html.esc(row.get('places'))}</td></tr>"
            f"<tr><th>Areas</th><td>{_html.esc(row.get('areas'))}</td></tr>"
            f"<tr><th>Rural share</th><td>{_pct(row.get('rural_share'))}</td></tr>"
            f"<tr><th>Nearest point</th><td>{_html.esc(row.get('nearest_point_id'))} "
            f"({far})</td></tr></table></div>"
        )
        tip = (
            f"Gap {_html.esc(row.get('rank'))}: "
            f"{_html.format_number(row.get('uncovered_weight'))} uncovered people"
        )
        features.append(
            {"type": "Feature", "geometry": geometry, "properties": {"s": 0, "p": popup, "t": tip}}
        )
    total = _html.format_number(float(pd.to_numeric(gaps["uncovered_weight"]).sum()))
    return GeoLayer(features, [_GAP_STYLE], f"Gap zones ({len(gaps)}, {total} people)")


def _pct(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{100 * number:.0f} %" if np.isfinite(number) else ""


def _solution_layer(solution) -> folium.FeatureGroup:
    sites = getattr(solution, "sites", None)
    if not isinstance(sites, gpd.GeoDataFrame):
        raise ParameterError("solution: expected the result of relaynet.optimize.solve")
    sites = sites.to_crs(CRS) if sites.crs is not None and sites.crs != CRS else sites
    group = folium.FeatureGroup(name=f"Proposed sites ({len(sites)})", show=True)
    for row in sites.to_dict("records"):
        gain = row.get("new_weight")
        popup = (
            '<div class="rn-popup">'
            f"<h4>Proposed site {_html.esc(row.get('point_id'))}</h4>"
            f"<div>{_html.esc(row.get('name'))}</div><table>"
            f"<tr><th>Status</th><td>{_html.esc(row.get('status'))}</td></tr>"
            f"<tr><th>Coverage gain</th><td>{_html.format_number(gain)} people newly covered"
            "</td></tr>"
            f"<tr><th>Assigned</th><td>{_html.format_number(row.get('assigned_weight'))} people"
            "</td></tr>"
            f"<tr><th>Model</th><td>{_html.esc(getattr(solution, 'model', ''))}</td></tr>"
            "</table></div>"
        )
        geom = row["geometry"]
        folium.Marker(
            [geom.y, geom.x],
            popup=folium.Popup(popup, max_width=340),
            tooltip=folium.Tooltip(
                f"Proposed {_html.esc(row.get('point_id'))}: +{_html.format_number(gain)} people"
            ),
            icon=folium.Icon(color="darkpurple", icon="star", prefix="fa"),
        ).add_to(group)
    return group


def _radius_layer(points: gpd.GeoDataFrame, radius_m: float, show: bool) -> GeoLayer:
    lat = np.round(points.geometry.y.to_numpy(float), 5)
    lon = np.round(points.geometry.x.to_numpy(float), 5)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
            "properties": {"s": 0, "m": float(radius_m)},
        }
        for x, y in zip(lon, lat, strict=True)
    ]
    name = f"Service radius {radius_m / 1000:g} km"
    return GeoLayer(features, [_RADIUS_STYLE], name, show=show)


def _isochrone_layer(isochrones: gpd.GeoDataFrame) -> GeoLayer:
    iso = isochrones.to_crs(CRS) if isochrones.crs is not None else isochrones
    minutes = pd.to_numeric(iso["minutes"], errors="coerce") if "minutes" in iso else None
    levels = sorted(minutes.dropna().unique()) if minutes is not None else [0]
    styles = [
        {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.15}
        for c in (_ISO_COLORS[k % len(_ISO_COLORS)] for k in range(len(levels)))
    ]
    features = []
    geometries = _geojson_geometries(iso.geometry.to_numpy())
    for k, row in enumerate(iso.to_dict("records")):
        level = levels.index(minutes.iloc[k]) if minutes is not None else 0
        text = " ".join(
            f"{_html.esc(key)}={_html.esc(value)}"
            for key, value in row.items()
            if key != "geometry"
        )
        features.append(
            {"type": "Feature", "geometry": geometries[k], "properties": {"s": level, "t": text}}
        )
    # largest areas first so smaller ones stay on top
    features.sort(key=lambda f: -f["properties"]["s"])
    return GeoLayer(features, styles, f"Isochrones ({len(iso)})")


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
) -> folium.Map:
    """Map of an assessment: demand covered or not, gaps, proposed sites, service areas.

    Parameters
    ----------
    assessment
        Result of :func:`relaynet.coverage.assess` (its ``access`` table is drawn: one
        circle per demand place, area proportional to ``weight``, green when covered,
        red when not).
    points
        Relay points to show as markers (one clustered layer per network).
    gaps
        Gap zones from :func:`relaynet.coverage.find_gaps`: polygons with their uncovered
        population.
    solution
        A :class:`relaynet.optimize.Solution`: proposed sites as star markers with their
        coverage gain (``new_weight``, people newly covered).
    isochrones
        Polygons from :meth:`relaynet.network.RoadNetwork.isochrones` (``minutes``
        column), one colour per time.
    radius
        Draw the standard's distance (metres) around every point in ``points``; ``None``
        (default) adds the layer switched off above 3 000 points, on otherwise.
    window
        Name of a time window of the assessment to draw instead of the base coverage.
    when
        Datetime of the open/closed status in point popups (default: now).
    tiles
        Folium tiles; ``None`` for no background.

    Returns
    -------
    folium.Map
        Layers for covered and uncovered demand, each network, gaps, proposed sites,
        radius circles or isochrones, in a layer control; a legend; fitted to the demand.
    """
    access = _assessment_access(assessment, window)
    lat = access["lat"].to_numpy(float)
    lon = access["lon"].to_numpy(float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    m = base_map(view_bounds(lon, lat), tiles)
    covered_layer, uncovered_layer = _demand_layers(access.loc[ok])
    covered_layer.add_to(m)
    uncovered_layer.add_to(m)
    legend = [
        (
            "Demand (circle area ∝ people)",
            [(_html.COVERED, "Covered", "circle"), (_html.UNCOVERED, "Not covered", "circle")],
        )
    ]
    standard = getattr(assessment, "standard", None)
    if points is not None:
        points = _as_points(points)
        distance = getattr(standard, "distance_m", None)
        if distance is not None and radius is not False and len(points):
            show = bool(radius) if radius is not None else len(points) <= 3000
            _radius_layer(points, float(distance), show).add_to(m)
            legend.append(
                ("Service area", [(_html.RADIUS, f"{distance / 1000:g} km radius", "circle")])
            )
        layers, colors = point_layers(points, when=when, country=country)
        for layer in layers:
            layer.add_to(m)
        legend.extend(legend_sections(points, colors))
    if isochrones is not None and len(isochrones):
        _isochrone_layer(isochrones).add_to(m)
        legend.append(("Isochrones", [(_ISO_COLORS[0], "drive time areas", "square")]))
    if gaps is not None and len(gaps):
        _gap_layer(gaps).add_to(m)
        legend.append(("Gap zones", [(_html.GAP, "Uncovered zone", "square")]))
    if solution is not None:
        _solution_layer(solution).add_to(m)
        legend.append(
            ("Proposed sites", [(_html.AWESOME_HEX["darkpurple"], "New site (star)", "circle")])
        )
    m.add_child(_html.Legend(legend))
    folium.LayerControl(collapsed=False).add_to(m)
    return m
