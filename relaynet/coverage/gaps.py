"""Gap zones: uncovered demand clustered into zones where a new point would help.

Uncovered places are clustered as DBSCAN on the sphere with ``min_samples=1`` would
cluster them: two uncovered places closer than ``eps_m`` (great-circle) join the same
zone, and chains of such neighbours form one zone; an isolated uncovered place is a zone
of its own. Zones are numbered as DBSCAN numbers them (by their first place).

The zones are the connected components of the "closer than ``eps_m``" graph, found
without listing its edges (hundreds of millions among half a million uncovered places):
places become unit vectors and fall in cubic cells whose diagonal is the chord of
``eps_m``, so all places of a cell are one zone; two neighbouring cells join when their
closest pair of places is within ``eps_m`` — decided on a few places of each cell first,
then, only when needed, on the places of each cell close enough to the other cell.
Cell pairs already in one zone are never examined.

``eps_m`` is tied to the standard by default: the standard's straight-line distance (for a
drive-time-only standard, the straight-line reach of the drive time under the assessment's
:class:`~relaynet.coverage.estimate.DriveEstimate`). Two uncovered neighbours closer than
that could both be reached by one new point placed between them.

Each zone gets a polygon: the convex hull of its places, buffered by ``buffer_m``
(default ``eps_m / 2``), computed in a metric CRS — Lambert-93 (EPSG:2154) for zones in
metropolitan France, the zone's UTM zone elsewhere — and returned in EPSG:4326.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import ParameterError
from ..geo import metres_to_chord, unit_vectors
from ..io.schema import CRS, METRIC_CRS_FRANCE
from .assess import Assessment
from .labels import place_labels, text_values

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
    labels = zone_labels(lat, lon, eps)
    weight = access["weight"].to_numpy(float)[todo]
    rural = access["density_class"].astype(str).to_numpy()[todo] == "rural"
    names = place_labels(access)
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
            "area": text_values(access[assessment.by]).to_numpy()[todo],
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


_SAMPLE = 8  # places per cell tried first when deciding whether two cells join
_BITS = 21  # bits per cell coordinate in a cell key


def zone_labels(lat, lon, eps_m: float) -> np.ndarray:
    """Zone of every place: connected components of "within ``eps_m`` metres" (great circle).

    The same partition and numbering as scikit-learn's
    ``DBSCAN(eps=eps_m / R, min_samples=1, metric="haversine")`` (zone 0 holds the first
    place, zone 1 the first place not in zone 0 …), without listing the pairs.

    Parameters
    ----------
    lat, lon
        Places, degrees.
    eps_m
        Neighbourhood radius, metres (> 0).

    Returns
    -------
    Integer zone per place (0 .. n_zones-1).
    """
    xyz = unit_vectors(lat, lon)
    n = len(xyz)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    chord = metres_to_chord(eps_m)
    side = chord / np.sqrt(3.0) * (1 - 1e-9)  # cell diagonal < chord: a cell is one zone
    cell = np.floor(xyz / side).astype(np.int64)
    cell -= cell.min(axis=0) - 2  # room for neighbour offsets of ±2
    if cell.max() >= (1 << _BITS) - 2:
        raise ParameterError(f"eps_m={eps_m!r}: too small for the extent of the places")
    key = (cell[:, 0] << (2 * _BITS)) | (cell[:, 1] << _BITS) | cell[:, 2]
    order = np.argsort(key, kind="stable")
    cells, start, size = np.unique(key[order], return_index=True, return_counts=True)
    sorted_xyz = xyz[order]
    n_cells = len(cells)
    # a few places per cell (NaN-padded): enough to decide most neighbouring pairs
    take = np.minimum(size, _SAMPLE)
    sample = np.full((n_cells, _SAMPLE, 3), np.nan)
    for j in range(_SAMPLE):
        has = take > j
        sample[has, j] = sorted_xyz[start[has] + j]
    # 62 neighbour offsets (one of each ± pair), nearest first; any two places of cells
    # more than 2 apart along an axis are farther than the chord
    offsets = [o for o in itertools.product(range(-2, 3), repeat=3) if o > (0, 0, 0)]
    offsets.sort(key=lambda o: sum(max(abs(d) - 1, 0) ** 2 for d in o))
    edges_a: list[np.ndarray] = []
    edges_b: list[np.ndarray] = []
    labels = np.arange(n_cells)
    for batch in (offsets[:13], offsets[13:]):
        for dx, dy, dz in batch:
            other = cells + ((dx << (2 * _BITS)) + (dy << _BITS) + dz)
            at = np.minimum(np.searchsorted(cells, other), n_cells - 1)
            a = np.flatnonzero(cells[at] == other)
            b = at[a]
            apart = labels[a] != labels[b]
            a, b = a[apart], b[apart]
            if not len(a):
                continue
            close = np.zeros(len(a), dtype=bool)
            for lo in range(0, len(a), 16384):
                gap = sample[a[lo : lo + 16384], :, None] - sample[b[lo : lo + 16384], None]
                near = np.einsum("pijk,pijk->pij", gap, gap) <= chord * chord
                close[lo : lo + 16384] = near.any(axis=(1, 2))
            # the sample decided when both cells are small; otherwise look closer
            unsure = np.flatnonzero(~close & ((size[a] > _SAMPLE) | (size[b] > _SAMPLE)))
            for i in unsure:
                close[i] = _cells_within(
                    sorted_xyz, start, size, a[i], b[i], (dx, dy, dz), side, chord
                )
            edges_a.append(a[close])
            edges_b.append(b[close])
        labels = _components(n_cells, edges_a, edges_b)
    point_zone = np.empty(n, dtype=np.int64)
    point_zone[order] = np.repeat(labels, size)
    # number zones by their first place, as DBSCAN does
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, point_zone, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[point_zone]


def _components(n: int, edges_a: list[np.ndarray], edges_b: list[np.ndarray]) -> np.ndarray:
    a = np.concatenate(edges_a) if edges_a else np.zeros(0, np.int64)
    b = np.concatenate(edges_b) if edges_b else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _cells_within(xyz, start, size, a: int, b: int, offset, side: float, chord: float) -> bool:
    """Exact: some place of cell ``a`` within ``chord`` of some place of cell ``b``."""
    pa = xyz[start[a] : start[a] + size[a]]
    pb = xyz[start[b] : start[b] + size[b]]
    # only places within the chord of the other cell's box can be part of a close pair
    low_a = np.floor(pa[0] / side)  # any place's cell corner (all share the cell)
    box_b = (low_a + np.asarray(offset)) * side
    pa = pa[_box_distance2(pa, box_b, side) <= chord * chord]
    box_a = low_a * side
    pb = pb[_box_distance2(pb, box_a, side) <= chord * chord]
    if not len(pa) or not len(pb):
        return False
    for chunk in range(0, len(pa), 1024):
        part = pa[chunk : chunk + 1024]
        gap = part[:, None, :] - pb[None, :, :]
        if (np.einsum("ijk,ijk->ij", gap, gap) <= chord * chord).any():
            return True
    return False


def _box_distance2(points: np.ndarray, corner: np.ndarray, side: float) -> np.ndarray:
    """Squared distance from points to the axis-aligned cube [corner, corner + side]."""
    below = np.maximum(corner - points, 0.0)
    above = np.maximum(points - (corner + side), 0.0)
    return np.sum((below + above) ** 2, axis=1)


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


__all__ = ["GAP_COLUMNS", "default_eps_m", "find_gaps", "metric_crs", "zone_labels"]
