"""Gap zones: uncovered demand clustered into zones where a new point would help.

Uncovered places are clustered with scikit-learn's DBSCAN on the sphere
(``metric="haversine"``, ``min_samples=1``): two uncovered places closer than ``eps_m``
join the same zone, and chains of such neighbours form one zone. With ``min_samples=1``
there is no noise: an isolated uncovered place is a zone of its own.

``eps_m`` is tied to the standard by default: the standard's straight-line distance (for a
drive-time-only standard, the straight-line reach of the drive time under the assessment's
:class:`~relaynet.coverage.estimate.DriveEstimate`). Two uncovered neighbours closer than
that could both be reached by one new point placed between them.

Each zone gets a polygon: the convex hull of its places, buffered by ``buffer_m``
(default ``eps_m / 2``), computed in a metric CRS — Lambert-93 (EPSG:2154) for zones in
metropolitan France, the zone's UTM zone elsewhere — and returned in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import DBSCAN

from ..errors import ParameterError
from ..geo import EARTH_RADIUS_M
from ..schema import CRS, METRIC_CRS_FRANCE
from .assess import Assessment

GAP_COLUMNS = (
    "gap_id",
    "rank",
    "uncovered_weight",
    "n_places",
    "rural_share",
    "nearest_point_id",
    "nearest_point_m",
    "centroid_lat",
    "centroid_lon",
    "areas",
    "places",
    "crs_used",
    "geometry",
)
"""Columns of :func:`find_gaps`'s result."""

_METRO_BOUNDS = (-5.8, 41.2, 9.8, 51.2)  # lon_min, lat_min, lon_max, lat_max (incl. Corsica)


def default_eps_m(assessment: Assessment) -> float:
    """Clustering radius tied to the standard, metres (see the module docstring)."""
    std = assessment.standard
    if std.distance_m is not None:
        return float(std.distance_m)
    return assessment.drive_estimate.max_distance_m(std.drive_s)


def metric_crs(lon: float, lat: float) -> str:
    """EPSG:2154 inside metropolitan France, else the WGS84 UTM zone of (lon, lat)."""
    x0, y0, x1, y1 = _METRO_BOUNDS
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        return METRIC_CRS_FRANCE
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def find_gaps(
    assessment: Assessment,
    *,
    window: str | None = None,
    eps_m: float | None = None,
    buffer_m: float | None = None,
    min_weight: float = 0.0,
    max_names: int = 5,
) -> gpd.GeoDataFrame:
    """Zones of uncovered demand, ranked by uncovered weight.

    Parameters
    ----------
    assessment
        Result of :func:`~relaynet.coverage.assess`.
    window
        Name of one of the assessment's time windows: gaps of that window's coverage
        (default: the base eligibility).
    eps_m
        DBSCAN neighbourhood radius in metres (default :func:`default_eps_m`).
    buffer_m
        Buffer around each zone's convex hull, metres (default ``eps_m / 2``).
    min_weight
        Drop zones whose uncovered weight is below this.
    max_names
        Number of place names listed in ``places`` (largest first).

    Returns
    -------
    GeoDataFrame (EPSG:4326) with :data:`GAP_COLUMNS`: ``uncovered_weight``, ``n_places``,
    ``rural_share`` (share of the zone's uncovered weight in rural places), the nearest
    existing eligible point to any place of the zone and its distance in metres, the
    zone's weighted centroid, its areas and largest places. ``rank`` 1 is the largest.
    """
    access = assessment.access
    if window is None:
        covered = access["covered"].to_numpy(bool)
        point_id = access["point_id"]
        distance = access["distance_m"].to_numpy(float)
    else:
        if window not in assessment.window_access:
            raise ParameterError(
                f"window={window!r}: not a window of this assessment; "
                f"expected one of {list(assessment.window_access)}"
            )
        table = assessment.window_access[window]
        covered = table["covered"].to_numpy(bool)
        point_id = table["point_id"]
        distance = table["distance_m"].to_numpy(float)
    eps = default_eps_m(assessment) if eps_m is None else float(eps_m)
    if not (np.isfinite(eps) and eps > 0):
        raise ParameterError(f"eps_m={eps_m!r}: expected metres > 0")
    buffer = eps / 2 if buffer_m is None else float(buffer_m)
    if not (np.isfinite(buffer) and buffer >= 0):
        raise ParameterError(f"buffer_m={buffer_m!r}: expected metres ≥ 0")
    todo = np.flatnonzero(~covered & (access["weight"].to_numpy(float) > 0))
    if len(todo) == 0:
        return gpd.GeoDataFrame(
            {c: [] for c in GAP_COLUMNS if c != "geometry"}, geometry=[], crs=CRS
        )
    lat = access["lat"].to_numpy(float)[todo]
    lon = access["lon"].to_numpy(float)[todo]
    labels = DBSCAN(
        eps=eps / EARTH_RADIUS_M, min_samples=1, metric="haversine", algorithm="ball_tree"
    ).fit_predict(np.radians(np.column_stack([lat, lon])))
    weight = access["weight"].to_numpy(float)[todo]
    rural = access["density_class"].astype(str).to_numpy()[todo] == "rural"
    names = _place_names(access)
    members = pd.DataFrame(
        {
            "zone": labels,
            "weight": weight,
            "rural_weight": weight * rural,
            "lat": lat,
            "lon": lon,
            "wlat": weight * lat,
            "wlon": weight * lon,
            "distance": distance[todo],
            "point_id": np.asarray(point_id.astype(object))[todo],
            "area": _text(access[assessment.by]).to_numpy()[todo],
            "name": names.to_numpy()[todo],
        }
    )
    zones = members.groupby("zone").agg(
        uncovered_weight=("weight", "sum"),
        n_places=("weight", "size"),
        rural_weight=("rural_weight", "sum"),
        wlat=("wlat", "sum"),
        wlon=("wlon", "sum"),
    )
    zones["rural_share"] = zones["rural_weight"] / zones["uncovered_weight"]
    zones["centroid_lat"] = zones["wlat"] / zones["uncovered_weight"]
    zones["centroid_lon"] = zones["wlon"] / zones["uncovered_weight"]
    closest = members.sort_values("distance", na_position="last").groupby("zone").first()
    zones["nearest_point_id"] = closest["point_id"]
    zones["nearest_point_m"] = closest["distance"]
    zones["areas"] = members.groupby("zone")["area"].agg(lambda s: ";".join(sorted(set(s) - {""})))
    largest = members.sort_values("weight", ascending=False).groupby("zone").head(max_names)
    zones["places"] = largest.groupby("zone")["name"].agg("; ".join)
    zones = zones[zones["uncovered_weight"] >= min_weight]
    geometry, crs_used = _zone_polygons(members, zones, buffer)
    zones["crs_used"] = crs_used
    zones = zones.sort_values(["uncovered_weight", "n_places"], ascending=[False, False])
    geometry = geometry.reindex(zones.index)
    zones["rank"] = np.arange(1, len(zones) + 1)
    zones["gap_id"] = [f"gap-{r:04d}" for r in zones["rank"]]
    out = gpd.GeoDataFrame(zones.reset_index(drop=True), geometry=geometry.to_numpy(), crs=CRS)
    return out[list(GAP_COLUMNS)]


def _text(values: pd.Series) -> pd.Series:
    """Values as Python strings, ``""`` where missing (pandas' ``str`` dtype keeps NaN)."""
    values = values.astype(object)
    return values.where(values.notna(), "").map(str).str.strip()


def _place_names(access: pd.DataFrame) -> pd.Series:
    """Each place's name, its ``demand_id`` where the name is missing or blank."""
    ids = _text(access["demand_id"])
    if "name" not in access.columns:
        return ids
    names = _text(access["name"])
    return names.where(names != "", ids)


def _zone_polygons(
    members: pd.DataFrame, zones: pd.DataFrame, buffer_m: float
) -> tuple[pd.Series, pd.Series]:
    """Buffered convex hull of each zone (EPSG:4326) and the metric CRS used."""
    crs_of = pd.Series(
        [metric_crs(x, y) for x, y in zip(zones["centroid_lon"], zones["centroid_lat"])],
        index=zones.index,
    )
    geometry = pd.Series([None] * len(zones), index=zones.index, dtype=object)
    members = members[members["zone"].isin(zones.index)]
    for crs, ids in crs_of.groupby(crs_of).groups.items():
        part = members[members["zone"].isin(ids)].sort_values("zone")
        projected = gpd.GeoSeries.from_xy(part["lon"], part["lat"], crs=CRS).to_crs(crs)
        codes, uniques = pd.factorize(part["zone"], sort=True)
        multi = shapely.multipoints(shapely.get_coordinates(projected.values), indices=codes)
        hulls = shapely.convex_hull(multi)
        shapes = shapely.buffer(hulls, buffer_m, quad_segs=8) if buffer_m > 0 else hulls
        back = gpd.GeoSeries(shapes, crs=crs).to_crs(CRS)
        geometry.loc[uniques] = back.to_numpy()
    return geometry, crs_of


__all__ = ["GAP_COLUMNS", "default_eps_m", "find_gaps", "metric_crs"]
