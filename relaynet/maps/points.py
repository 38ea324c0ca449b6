"""Relay points on a folium map: one clustered layer per network, popups with hours."""

from __future__ import annotations

import datetime as dt
import logging

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .. import hours
from ..errors import ParameterError
from ..schema import CRS
from . import _html
from ._layers import PointClusterLayer

log = logging.getLogger(__name__)

_POINT_TEXT = (
    "point_id",
    "name",
    "network",
    "kind",
    "services",
    "address",
    "postcode",
    "city",
    "max_weight_kg",
    "max_length_cm",
)


def _as_points(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(points, gpd.GeoDataFrame):
        raise ParameterError("points: expected a GeoDataFrame of relay points (load_points)")
    if points.crs is None:
        raise ParameterError("points: GeoDataFrame has no CRS; expected EPSG:4326 coordinates")
    if "point_id" not in points.columns:
        raise ParameterError("points: missing required column 'point_id'")
    points = points.to_crs(CRS) if points.crs != CRS else points
    if len(points) and not points.geom_type.eq("Point").all():
        bad = np.flatnonzero(~points.geom_type.eq("Point").to_numpy())[:5]
        raise ParameterError(f"points: geometries must be points; rows {bad.tolist()} are not")
    return points


def _when(when) -> pd.Timestamp:
    if when is None:
        return pd.Timestamp(dt.datetime.now().replace(second=0, microsecond=0))
    return pd.Timestamp(hours.to_local(when)[0])


def point_layers(
    points: gpd.GeoDataFrame,
    *,
    when=None,
    cluster: bool | None = None,
    country: str | None = "FR",
) -> tuple[list[PointClusterLayer], dict[str, str]]:
    """One marker layer per network, and the marker colour of each network.

    Parameters
    ----------
    points
        Relay points in the canonical schema (EPSG:4326).
    when
        Local datetime of the open/closed status in the popups (default: now); the
        popups show the hours of the Monday–Sunday week containing it.
    cluster
        Cluster the markers; ``None`` (default) clusters when there are more than 50 points.
    country
        Country code for public holidays in the opening hours.

    Returns
    -------
    (layers, colors)
        The layers (not yet added to a map) and ``{network: awesome-markers colour}``.
    """
    points = _as_points(points)
    stamp = _when(when)
    n = len(points)
    if cluster is None:
        cluster = n > 50
    table = pd.DataFrame(
        {c: points[c] if c in points.columns else pd.Series([None] * n) for c in _POINT_TEXT}
    ).reset_index(drop=True)
    table["network"] = table["network"].astype(object).where(table["network"].notna(), "")
    table["network"] = table["network"].astype(str)

    if "opening_hours" in points.columns:
        sched = hours.Schedules(points, country=country)
        codes = sched.codes_
        known = sched.known
        open_now = hours.is_open(sched, stamp.to_pydatetime())
        monday = pd.Timestamp(hours.week_start_of(stamp))
        dates = [monday + pd.Timedelta(days=k) for k in range(7)]
        per_day = [np.asarray(hours.hours_on(sched, d), dtype=object) for d in dates]
    else:
        codes = np.full(n, -1, dtype=np.int64)
        known = np.zeros(n, bool)
        open_now = np.zeros(n, bool)
        monday = pd.Timestamp(hours.week_start_of(stamp))
        dates = [monday + pd.Timedelta(days=k) for k in range(7)]
        per_day = [np.full(n, "unknown", dtype=object) for _ in dates]
    source = (
        points["hours_source"].astype(object).where(points["hours_source"].notna(), "")
        if "hours_source" in points.columns
        else pd.Series([""] * n)
    ).to_numpy(object)
    # one hours table per (schedule, source) pair, not one per point
    keys = pd.Series(codes.astype(str)) + "\x00" + pd.Series(source).astype(str)
    hours_index, uniques = pd.factorize(keys)
    first = pd.Series(np.arange(n)).groupby(hours_index).first().to_numpy()
    status_index = np.where(~known, 2, np.where(open_now, 0, 1))
    status_html = _html.status_lines(stamp)

    lat = np.round(points.geometry.y.to_numpy(float), 6)
    lon = np.round(points.geometry.x.to_numpy(float), 6)
    texts: list[str] = []
    text_index: dict[str, int] = {}

    def shared(values) -> np.ndarray:
        """Indices into ``texts`` of already escaped snippets (deduplicated)."""
        out = np.empty(len(values), dtype=np.int64)
        for i, value in enumerate(values):
            if value not in text_index:
                text_index[value] = len(texts)
                texts.append(value)
            out[i] = text_index[value]
        return out

    kind_t = shared([_html.label(k) for k in table["kind"]])
    services_t = shared(
        [
            _html.esc(str(s).replace(";", ", ")) if isinstance(s, str) and s else "unknown"
            for s in table["services"]
        ]
    )
    limits_t = shared(
        [
            _html.limits_text(w, c)
            for w, c in zip(table["max_weight_kg"], table["max_length_cm"], strict=True)
        ]
    )
    hours_rows = [
        [int(x) for x in shared([_html.day_text(day[i]) for day in per_day])]
        + [int(shared([_html.esc(source[i])])[0])]
        for i in first
    ]
    day_labels = [f"{_html.DAY_LABELS[k]} {d.day:02d}/{d.month:02d}" for k, d in enumerate(dates)]
    icon_t = shared([_html.KIND_ICONS.get(str(k), _html.UNKNOWN_ICON) for k in table["kind"]])
    ids = table["point_id"].map(_html.esc).to_numpy(object)
    names = table["name"].map(lambda x: "" if _html.esc(x) == "" else str(x)).to_numpy(object)
    names_html = table["name"].map(_html.esc).to_numpy(object)
    addresses = [
        _html.address_html(a, p, c)
        for a, p, c in zip(table["address"], table["postcode"], table["city"], strict=True)
    ]
    network_values = table["network"].to_numpy(object)
    networks = sorted(set(network_values))
    colors = _html.network_colors(networks)
    layers = []
    for network in networks:
        rows = [
            [
                float(lat[i]),
                float(lon[i]),
                ids[i],
                names[i],
                names_html[i] or "(no name)",
                addresses[i],
                int(kind_t[i]),
                int(services_t[i]),
                int(limits_t[i]),
                int(icon_t[i]),
                int(hours_index[i]),
                int(status_index[i]),
            ]
            for i in np.flatnonzero(network_values == network)
        ]
        name = f"{_html.label(network)} ({len(rows)})"
        layers.append(
            PointClusterLayer(
                rows,
                texts,
                _html.label(network),
                hours_rows,
                day_labels,
                status_html,
                colors[network],
                name,
                cluster=cluster,
            )
        )
    log.info("%d points in %d network layers", n, len(layers))
    return layers, colors


def view_bounds(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float] | None:
    """Bounds ``(min_lon, min_lat, max_lon, max_lat)`` to fit the map to.

    All the data, unless a few far-away places (overseas territories, a misplaced row)
    would make the view more than 20 times larger than that of the central 98 % of the
    places: then the map opens on that central part (every layer still holds everything).
    """
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    lon, lat = lon[ok], lat[ok]
    full = (lon.min(), lat.min(), lon.max(), lat.max())
    if len(lon) < 50:
        return full
    core = (*np.quantile([lon, lat], 0.01, axis=1), *np.quantile([lon, lat], 0.99, axis=1))
    area = (full[2] - full[0]) * (full[3] - full[1])
    core_area = max((core[2] - core[0]) * (core[3] - core[1]), 1e-9)
    return tuple(float(v) for v in (core if area > 20 * core_area else full))


def base_map(bounds: tuple[float, float, float, float] | None, tiles: str | None) -> folium.Map:
    """An empty map fitted to ``(min_lon, min_lat, max_lon, max_lat)`` (EPSG:4326)."""
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=False)
    if bounds is not None and np.isfinite(bounds).all():
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    else:
        m.location = [46.6, 2.4]
        m.options["zoom"] = 6
    _html.add_css(m)
    return m


def legend_sections(points: gpd.GeoDataFrame, colors: dict[str, str]) -> list:
    """Legend entries: one colour per network, one icon per kind present."""
    kinds = sorted(set(points["kind"].dropna().astype(str))) if "kind" in points else []
    return [
        (
            "Networks",
            [(_html.AWESOME_HEX.get(c, c), _html.label(k), "circle") for k, c in colors.items()],
        ),
        (
            "Kinds",
            [
                (
                    "",
                    f'<i class="fa fa-{_html.KIND_ICONS.get(k, _html.UNKNOWN_ICON)}"></i> '
                    f"{_html.label(k)}",
                    "icon",
                )
                for k in kinds
            ],
        ),
    ]


def network_map(
    points: gpd.GeoDataFrame,
    *,
    when=None,
    cluster: bool | None = None,
    tiles: str | None = "OpenStreetMap",
    country: str | None = "FR",
) -> folium.Map:
    """Map of relay points: markers coloured by network, icon by kind, clustered.

    Parameters
    ----------
    points
        Relay points in the canonical schema (EPSG:4326), as from
        :func:`relaynet.load_points`.
    when
        Local datetime of the open/closed status in each popup (default: now). Popups lay
        out the opening hours day by day for the Monday–Sunday week containing it.
    cluster
        Cluster markers; ``None`` (default) clusters above 50 points. Clustering keeps tens
        of thousands of points smooth.
    tiles
        Folium tiles name or URL template; ``None`` for no background.
    country
        Country for public holidays in the opening hours.

    Returns
    -------
    folium.Map
        One layer per network in the layer control, a legend, fitted to the points.
        ``.save(path)`` writes one HTML file (see :func:`relaynet.maps.save_map` for an
        atomic, optionally offline, write).
    """
    points = _as_points(points)
    layers, colors = point_layers(points, when=when, cluster=cluster, country=country)
    m = base_map(view_bounds(points.geometry.x.to_numpy(), points.geometry.y.to_numpy()), tiles)
    for layer in layers:
        layer.add_to(m)
    m.add_child(_html.Legend(legend_sections(points, colors)))
    folium.LayerControl(collapsed=False).add_to(m)
    return m
