"""Relay points on a folium map: one clustered layer per network, popups with hours."""

from __future__ import annotations

import logging
import zoneinfo

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .. import hours
from ..errors import ParameterError
from ..io.schema import CRS
from . import _html, labels
from ._layers import NO_NAME, PointClusterLayer, deltas, e5, spatial_order
from ._page import RelayMap

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


def resolve_tz(points: pd.DataFrame, tz: str | None) -> np.ndarray:
    """Time zone of each point: ``tz`` when given, else a ``tz`` column, else
    ``points.attrs["tz"]``, else :data:`relaynet.hours.DEFAULT_TZ` (Europe/Paris)."""
    n = len(points)
    if tz is None and "tz" in points.columns:
        zones = points["tz"].astype(object).where(points["tz"].notna(), None)
        fallback = points.attrs.get("tz") or hours.DEFAULT_TZ
        return np.asarray([z if z else fallback for z in zones], dtype=object)
    zone = tz or points.attrs.get("tz") or hours.DEFAULT_TZ
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"tz={zone!r}: unknown time zone (expected e.g. 'Europe/Paris')"
        ) from None
    return np.full(n, str(zone), dtype=object)


AT_VIEW = "view"
"""``when=AT_VIEW``: "open now" is worked out in the browser when a popup opens, from the
hours of a usual week, so the page does not depend on the time it was made (reports)."""

_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _usual_week_note(monday: pd.Timestamp) -> str:
    """The line under the hours of a usual week (plain text)."""
    sunday = monday + pd.Timedelta(days=6)
    return (
        f"Hours of a usual week (as on {monday.day}\u2013{sunday.day} "
        f"{_MONTHS[sunday.month - 1]} {sunday.year}, no public holiday); holidays and dated "
        "closures are "
        "not shown."
    )


def _at_view(when) -> bool:
    return isinstance(when, str) and when.strip().lower() == AT_VIEW


def local_time(when, tz: str) -> pd.Timestamp:
    """``when`` as wall-clock time in ``tz`` (naive, to the minute); ``None`` means now.

    A naive ``when`` is already a wall-clock time of the points; an aware one (or now) is
    converted to ``tz``.
    """
    if when is None:
        return pd.Timestamp.now(tz=tz).tz_localize(None).floor("min")
    return pd.Timestamp(hours.to_local(when, tz)[0])


def point_layers(
    points: gpd.GeoDataFrame,
    *,
    when=None,
    cluster: bool | None = None,
    country: str | None = "FR",
    tz: str | None = None,
) -> tuple[list[PointClusterLayer], dict[str, str]]:
    """One marker layer per network, and the pin colour of each network.

    Parameters
    ----------
    points
        Relay points in the canonical schema (EPSG:4326).
    when
        Datetime of the open/closed status in the popups (default: now, and the popups say
        it is the time the map was made). Naive: wall-clock time of the points;
        timezone-aware: converted to the points' time zone. The popups show the hours of
        the Monday–Sunday week containing it. ``"view"`` (:data:`AT_VIEW`): the popups
        show a usual week's hours and work out "open now" when they are opened, so the
        page does not depend on when it was made.
    cluster
        Cluster the markers; ``None`` (default) clusters when there are more than 50 points.
    country
        Country code for public holidays in the opening hours.
    tz
        Time zone of the points' opening hours (default: a ``tz`` column, else
        ``points.attrs["tz"]``, else Europe/Paris).

    Returns
    -------
    (layers, colors)
        The layers (not yet added to a map) and ``{network: pin colour (hex)}``.
    """
    points = _as_points(points)
    zones = resolve_tz(points, tz)
    zone_names = sorted(set(zones.tolist())) or [hours.DEFAULT_TZ]
    zone_index = pd.Index(zone_names).get_indexer(zones)
    live = _at_view(when)
    if live:
        from ..coverage.windows import REFERENCE_WEEK

        stamps = [pd.Timestamp(REFERENCE_WEEK)] * len(zone_names)
        monday = pd.Timestamp(REFERENCE_WEEK)
    else:
        stamps = [local_time(when, z) for z in zone_names]
        stamp = stamps[int(np.bincount(zone_index, minlength=len(zone_names)).argmax())]
        monday = pd.Timestamp(hours.week_start_of(stamp))
    n = len(points)
    if cluster is None:
        cluster = n > 50
    table = pd.DataFrame(
        {c: points[c] if c in points.columns else pd.Series([None] * n) for c in _POINT_TEXT}
    ).reset_index(drop=True)
    table["network"] = table["network"].astype(object).where(table["network"].notna(), "")
    table["network"] = table["network"].astype(str)

    dates = [monday + pd.Timedelta(days=k) for k in range(7)]
    if "opening_hours" in points.columns:
        sched = hours.Schedules(points, country=country, tz=zone_names[0])
        codes = sched.codes_
        known = sched.known
        open_now = np.zeros(n, bool)
        for k, moment in enumerate([] if live else stamps):
            here = zone_index == k
            open_now[here] = np.asarray(hours.is_open(sched, moment.to_pydatetime()))[here]
        per_day = [np.asarray(hours.hours_on(sched, d), dtype=object) for d in dates]
    else:
        codes = np.full(n, -1, dtype=np.int64)
        known = np.zeros(n, bool)
        open_now = np.zeros(n, bool)
        per_day = [np.full(n, "unknown", dtype=object) for _ in dates]
    source = (
        points["hours_source"].astype(object).where(points["hours_source"].notna(), "")
        if "hours_source" in points.columns
        else pd.Series([""] * n)
    ).to_numpy(object)
    state = np.where(~known, 2, np.where(open_now, 0, 1))
    status_index = zone_index * 3 + state
    if live:
        status_html = [line for zone in zone_names for line in _html.status_lines_at_view(zone)]
    else:
        status_html = [
            line
            for moment, zone in zip(stamps, zone_names, strict=True)
            for line in _html.status_lines(moment, zone, made=when is None)
        ]
    # one hours row per (schedule, source, status) triple, not one per point
    keys = (
        pd.Series(codes.astype(str))
        + "\x00"
        + pd.Series(source).astype(str)
        + "\x00"
        + pd.Series(status_index.astype(str))
    )
    hours_index, _ = pd.factorize(keys)
    first = pd.Series(np.arange(n)).groupby(hours_index).first().to_numpy()

    lat = e5(points.geometry.y.to_numpy(float))
    lon = e5(points.geometry.x.to_numpy(float))
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

    kind_t = shared([_html.esc(labels.kind_name(k)) if k else "unknown" for k in table["kind"]])
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
    glyphs = [_html.KIND_GLYPHS.get(str(k), _html.UNKNOWN_GLYPH) for k in table["kind"]]
    profile_keys = pd.Series(
        [f"{a},{b},{c},{g}" for a, b, c, g in zip(kind_t, services_t, limits_t, glyphs)]
    )
    profile_index, _ = pd.factorize(profile_keys)
    profile_first = pd.Series(np.arange(n)).groupby(profile_index).first().to_numpy()
    profiles = [
        [int(kind_t[i]), int(services_t[i]), int(limits_t[i]), glyphs[i]] for i in profile_first
    ]
    hours_rows = [
        [int(x) for x in shared([_html.day_text(day[i]) for day in per_day])]
        + [int(shared([_html.esc(source[i])])[0]), int(status_index[i])]
        for i in first
    ]
    if live:
        day_labels = list(_html.DAY_LABELS)
    else:
        day_labels = [
            f"{_html.DAY_LABELS[k]} {d.day:02d}/{d.month:02d}" for k, d in enumerate(dates)
        ]
    ids = table["point_id"].map(_html.esc).to_numpy(object)
    raw_names = table["name"].map(lambda x: "" if _html.esc(x) == "" else str(x)).to_numpy(object)
    names_html = table["name"].map(_html.esc).to_numpy(object)
    addresses = [
        _html.address_html(a, p, c)
        for a, p, c in zip(table["address"], table["postcode"], table["city"], strict=True)
    ]
    network_values = table["network"].to_numpy(object)
    networks = sorted(set(network_values))
    colors = _html.network_colors(networks)
    layers = []
    lat_a, lon_a = np.asarray(lat, np.int64), np.asarray(lon, np.int64)
    for network in networks:
        rows = []
        members = np.flatnonzero(network_values == network)
        members = members[spatial_order(lat_a[members], lon_a[members])]
        steps_lat, steps_lon = deltas(lat_a[members]), deltas(lon_a[members])
        for k, i in enumerate(members):
            shown = names_html[i] or NO_NAME
            rows.append(
                [
                    steps_lat[k],
                    steps_lon[k],
                    ids[i],
                    shown,
                    0 if raw_names[i] == shown else raw_names[i],
                    addresses[i],
                    int(profile_index[i]),
                    int(hours_index[i]),
                ]
            )
        name = f"{_html.network_label(network)} ({_html.format_number(len(rows))} points)"
        layers.append(
            PointClusterLayer(
                rows,
                texts,
                profiles,
                _html.network_label(network),
                hours_rows,
                day_labels,
                status_html,
                colors[network],
                name,
                cluster=cluster,
                live=[[z, _html.esc(z)] for z in zone_names] if live else None,
                hours_note=_html.esc(_usual_week_note(monday)) if live else "",
            )
        )
    log.info("%d points in %d network layers", n, len(layers))
    return layers, colors


def view_bounds(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float] | None:
    """Bounds ``(min_lon, min_lat, max_lon, max_lat)`` to fit the map to.

    All the data, unless a few far-away places (overseas territories, a misplaced row)
    would make the view more than 20 times larger than that of the main group: then the map
    opens on the main group (every layer still holds everything). The main group is the
    places within three times the 90th percentile of the distance to the median place, so
    an island near the mainland (Corsica) stays in view and the far ones do not.
    """
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    lon, lat = lon[ok], lat[ok]
    full = (lon.min(), lat.min(), lon.max(), lat.max())
    if len(lon) < 50:
        return full
    mid_lon, mid_lat = np.median(lon), np.median(lat)
    dx = (lon - mid_lon) * np.cos(np.radians(np.clip(mid_lat, -80, 80)))
    distance = np.hypot(dx, lat - mid_lat)
    main = distance <= 3 * max(float(np.quantile(distance, 0.9)), 1e-6)
    core = (lon[main].min(), lat[main].min(), lon[main].max(), lat[main].max())
    area = (full[2] - full[0]) * (full[3] - full[1])
    core_area = max((core[2] - core[0]) * (core[3] - core[1]), 1e-9)
    return tuple(float(v) for v in (core if area > 20 * core_area else full))


def base_map(
    bounds: tuple[float, float, float, float] | None,
    tiles: str | None,
    *,
    offline: bool = False,
) -> RelayMap:
    """An empty map fitted to ``(min_lon, min_lat, max_lon, max_lat)`` (EPSG:4326) with a
    margin of 12 px, with relaynet's panes, metric scale bar and stylesheet."""
    m = RelayMap(tiles=tiles, offline=offline, prefer_canvas=False)
    if bounds is not None and np.isfinite(bounds).all():
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], padding=(12, 12))
    else:
        m.location = [46.6, 2.4]
        m.options["zoom"] = 6
    return m


def legend_sections(points: gpd.GeoDataFrame, colors: dict[str, str]) -> list:
    """Legend entries: one pin colour per network, one glyph per kind present."""
    kinds = sorted(set(points["kind"].dropna().astype(str))) if "kind" in points else []
    return [
        (
            "Relay points (clusters: number of points)",
            [(c, _html.network_label(k), "pin:dot") for k, c in colors.items()],
        ),
        (
            "Kinds",
            [
                (
                    "#666666",
                    _html.esc(labels.kind_name(k)),
                    "pin:" + _html.KIND_GLYPHS.get(k, _html.UNKNOWN_GLYPH),
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
    tz: str | None = None,
    offline: bool = False,
) -> RelayMap:
    """Map of relay points: pins coloured by network, glyph by kind, clustered.

    Parameters
    ----------
    points
        Relay points in the canonical schema (EPSG:4326), as from
        :func:`relaynet.load_points`.
    when
        Datetime of the open/closed status in each popup (default: now, in the points'
        time zone, and the popups say it is the time the map was made). Popups lay out
        the opening hours day by day for the Monday–Sunday week containing it.
        ``"view"``: a usual week's hours, "open now" worked out when a popup is opened.
    cluster
        Cluster markers; ``None`` (default) clusters above 50 points. Clustering keeps tens
        of thousands of points smooth.
    tiles
        Folium tiles name or URL template; ``None`` for no background.
    country
        Country for public holidays in the opening hours.
    tz
        Time zone of the opening hours (default: a ``tz`` column, else
        ``points.attrs["tz"]``, else Europe/Paris).
    offline
        Inline Leaflet and the other JavaScript/CSS when the map is shown in Jupyter or
        saved with ``m.save`` (works without internet; tiles still need a server).

    Returns
    -------
    RelayMap
        A :class:`folium.Map`: one layer per network in the layer control, a legend above
        a metric scale bar, fitted to the points. ``.save(path)`` writes one HTML file
        (see :func:`relaynet.maps.save_map` for an atomic write).
    """
    points = _as_points(points)
    layers, colors = point_layers(points, when=when, cluster=cluster, country=country, tz=tz)
    m = base_map(
        view_bounds(points.geometry.x.to_numpy(), points.geometry.y.to_numpy()),
        tiles,
        offline=offline,
    )
    for layer in layers:
        layer.add_to(m)
    m.add_child(_html.Legend(legend_sections(points, colors)))
    folium.LayerControl(collapsed=False).add_to(m)
    return m
