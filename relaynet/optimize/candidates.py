"""Candidate sites for new points: demand locations, any point file, or a regular lattice.

Every builder returns a GeoDataFrame in EPSG:4326 with the candidate columns
``point_id, name, status, cost, capacity, geometry``:

- ``status`` — ``"new"`` (may be opened), ``"fixed"`` (existing, always open) or
  ``"closable"`` (existing, kept or closed by the model);
- ``cost`` — opening cost used with a budget (default 1, so a budget counts sites);
- ``capacity`` — optional capacity in demand-weight units (NaN = unlimited).
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import InputError, ParameterError
from ..geo import representative_points
from ..io.schema import CRS

log = logging.getLogger(__name__)

CANDIDATE_COLUMNS = ("point_id", "name", "status", "cost", "capacity", "geometry")
STATUSES = ("new", "fixed", "closable")

# Metropolitan France (with Corsica): lattices there are built in Lambert-93.
_FRANCE_BOUNDS = (-5.8, 41.0, 10.0, 51.6)


def _frame(ids, names, geometry, status, cost, capacity) -> gpd.GeoDataFrame:
    if status not in STATUSES:
        raise ParameterError(f"status must be one of {STATUSES}, got {status!r}")
    n = len(ids)
    frame = gpd.GeoDataFrame(
        {
            "point_id": pd.Series(ids, dtype=str).to_numpy(),
            "name": pd.Series(names, dtype=object).fillna("").astype(str).to_numpy(),
            "status": np.full(n, status, dtype=object),
            "cost": np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy(),
            "capacity": np.broadcast_to(np.asarray(capacity, dtype=float), (n,)).copy(),
        },
        geometry=gpd.GeoSeries(geometry).to_crs(CRS).to_numpy(),
        crs=CRS,
    )
    if not np.isfinite(frame["cost"]).all() or (frame["cost"] < 0).any():
        raise ParameterError("candidate costs must be finite and ≥ 0")
    return frame


def candidates_from_demand(
    demand: gpd.GeoDataFrame,
    *,
    prefix: str = "cand:",
    cost: float | np.ndarray = 1.0,
    capacity: float | np.ndarray = np.nan,
    min_weight: float = 0.0,
) -> gpd.GeoDataFrame:
    """One candidate at every demand location (e.g. each commune's town hall).

    Parameters
    ----------
    demand
        Demand points in the canonical schema (polygons: one candidate at a point on each
        surface, :func:`relaynet.geo.representative_points`).
    prefix
        Prepended to ``demand_id`` to make ``point_id`` (keeps ids distinct from
        existing points).
    cost, capacity
        Opening cost and capacity (demand-weight units), scalar or one per row.
    min_weight
        Only demand points with ``weight >= min_weight`` become candidates.
    """
    if "geometry" not in demand or demand.crs is None:
        raise InputError("demand: expected a GeoDataFrame with a CRS")
    keep = np.ones(len(demand), dtype=bool)
    if min_weight > 0 and "weight" in demand:
        keep = demand["weight"].to_numpy(dtype=float) >= min_weight
    part = demand.loc[keep]
    ids = part["demand_id"] if "demand_id" in part else pd.Series(part.index)
    names = part["name"] if "name" in part else pd.Series([""] * len(part))
    geometry = representative_points(part.geometry, "demand")
    cost = np.asarray(cost, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    cost = cost[keep] if cost.ndim else cost
    capacity = capacity[keep] if capacity.ndim else capacity
    return _frame(
        prefix + ids.astype(str).to_numpy(dtype=object),
        names.to_numpy(),
        geometry,
        "new",
        cost,
        capacity,
    )


def candidates_from_points(
    source: gpd.GeoDataFrame | str | os.PathLike,
    *,
    status: str = "new",
    id_column: str = "point_id",
    cost: float | str = 1.0,
    capacity: float | str | None = None,
) -> gpd.GeoDataFrame:
    """Candidates (or existing sites) from any GeoDataFrame or point file.

    Parameters
    ----------
    source
        A GeoDataFrame with a CRS (polygons are reduced to a point on their surface), or a
        file read with :func:`relaynet.load_points` (rejected rows are logged and left
        out).
    status
        ``"new"`` for candidates, ``"fixed"`` or ``"closable"`` for existing points.
    id_column
        Column holding the site id; the index is used when absent.
    cost, capacity
        A number for every site, or the name of a column holding it. A missing capacity
        (NaN) means unlimited; by default the source's ``capacity`` column is used when it
        has one (the canonical points schema does), else every site is unlimited.
    """
    if not isinstance(source, gpd.GeoDataFrame):
        from ..formats import load_points

        source, rejected = load_points(source)
        if len(rejected):
            log.warning("candidates: %d rows rejected while reading", len(rejected))
    if source.crs is None:
        raise InputError("candidates: GeoDataFrame has no CRS; expected e.g. EPSG:4326")
    ids = source[id_column] if id_column in source else pd.Series(source.index)
    names = source["name"] if "name" in source else pd.Series([""] * len(source))
    if capacity is None:
        capacity = "capacity" if "capacity" in source else np.nan
    values = {}
    for label, value in (("cost", cost), ("capacity", capacity)):
        if isinstance(value, str):
            if value not in source:
                raise InputError(f"candidates: no column {value!r} for {label}")
            column = source[value]
            value = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            given = column.notna() & column.astype(str).str.strip().ne("")
            bad = np.isnan(value) & given.to_numpy()
            if bad.any():
                raise InputError(
                    f"candidates: non-numeric {label} in rows {np.flatnonzero(bad)[:5].tolist()}"
                )
        values[label] = value
    geometry = representative_points(source.geometry, "candidates")
    return _frame(
        ids.astype(str).to_numpy(),
        names.to_numpy(),
        geometry,
        status,
        values["cost"],
        values["capacity"],
    )


def metric_crs(geometry: gpd.GeoSeries) -> str:
    """A metric CRS for building lattices: EPSG:2154 (Lambert-93) inside metropolitan
    France, else the local UTM zone."""
    minx, miny, maxx, maxy = geometry.to_crs(CRS).total_bounds
    x0, y0, x1, y1 = _FRANCE_BOUNDS
    if minx >= x0 and maxx <= x1 and miny >= y0 and maxy <= y1:
        return "EPSG:2154"
    return gpd.GeoSeries(geometry).to_crs(CRS).estimate_utm_crs().to_string()


def candidates_from_grid(
    area: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry,
    spacing_m: float,
    *,
    shape: str = "hex",
    prefix: str = "grid:",
    cost: float = 1.0,
    capacity: float = np.nan,
) -> gpd.GeoDataFrame:
    """A regular square or hexagonal lattice of candidates over a study area.

    Parameters
    ----------
    area
        Demand points (the lattice is clipped to their convex hull), polygons (clipped to
        their union), or a shapely geometry in EPSG:4326.
    spacing_m
        Distance between neighbouring lattice points, in metres.
    shape
        ``"hex"`` (triangular lattice: every point has 6 neighbours at ``spacing_m``) or
        ``"square"``.

    Notes
    -----
    The lattice is built in EPSG:2154 inside metropolitan France, else in the local UTM
    zone, and returned in EPSG:4326.
    """
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        raise ParameterError(f"spacing_m must be a positive number of metres, got {spacing_m!r}")
    if shape not in ("hex", "square"):
        raise ParameterError(f"shape must be 'hex' or 'square', got {shape!r}")
    if isinstance(area, BaseGeometry):
        series = gpd.GeoSeries([area], crs=CRS)
    elif isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise InputError("grid area: GeoDataFrame has no CRS")
        series = gpd.GeoSeries(area.geometry)
    else:
        raise ParameterError(f"area must be a GeoDataFrame or a shapely geometry, got {area!r}")
    crs = metric_crs(series)
    projected = series.to_crs(crs)
    union = shapely.union_all(projected.to_numpy())
    if union.geom_type in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        region = union.convex_hull
        if region.area == 0:  # one point or a line of points: give it some width
            region = region.buffer(spacing_m / 2)
    else:
        region = union
    minx, miny, maxx, maxy = region.bounds
    if (maxx - minx) * (maxy - miny) / spacing_m**2 > 5e7:
        raise ParameterError(f"a {spacing_m:g} m lattice over this area exceeds 50 million points")
    if shape == "square":
        xs = np.arange(minx, maxx + spacing_m, spacing_m)
        ys = np.arange(miny, maxy + spacing_m, spacing_m)
        gx, gy = np.meshgrid(xs, ys)
    else:
        dy = spacing_m * np.sqrt(3) / 2
        ys = np.arange(miny, maxy + dy, dy)
        xs = np.arange(minx - spacing_m, maxx + spacing_m, spacing_m)
        gx, gy = np.meshgrid(xs, ys)
        gx = gx + (np.arange(len(ys)) % 2)[:, None] * spacing_m / 2
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.intersects_xy(region, gx, gy)
    gx, gy = gx[inside], gy[inside]
    geometry = gpd.GeoSeries(gpd.points_from_xy(gx, gy), crs=crs)
    ids = np.array([f"{prefix}{i}" for i in range(len(gx))], dtype=object)
    log.info("lattice: %d %s candidates every %g m in %s", len(ids), shape, spacing_m, crs)
    return _frame(ids, np.full(len(ids), "", dtype=object), geometry, "new", cost, capacity)


def combine_sites(
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None = None,
    *,
    existing_mode: str = "fixed",
) -> gpd.GeoDataFrame:
    """Candidates and existing points in one site table (existing first).

    ``existing`` points get ``status=existing_mode`` (``"fixed"`` or ``"closable"``) unless
    they already carry a ``status`` column; ids must be unique across both tables.
    """
    if existing_mode not in ("fixed", "closable"):
        raise ParameterError(f"existing_mode must be 'fixed' or 'closable', got {existing_mode!r}")
    parts = []
    if existing is not None and len(existing):
        if not set(CANDIDATE_COLUMNS) <= set(existing.columns):
            existing = candidates_from_points(existing, status=existing_mode)
        parts.append(existing[list(CANDIDATE_COLUMNS)].to_crs(CRS))
    if candidates is not None and len(candidates):
        if not set(CANDIDATE_COLUMNS) <= set(candidates.columns):
            candidates = candidates_from_points(candidates, status="new")
        parts.append(candidates[list(CANDIDATE_COLUMNS)].to_crs(CRS))
    if not parts:
        raise InputError("no candidate or existing sites given")
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=CRS)
    bad = ~sites["status"].isin(STATUSES)
    if bad.any():
        raise InputError(f"sites: unknown status values {sites.loc[bad, 'status'].unique()[:5]}")
    dup = sites["point_id"].duplicated()
    if dup.any():
        raise InputError(
            f"sites: point_id values used twice (candidates vs existing?): "
            f"{sites.loc[dup, 'point_id'].unique()[:5].tolist()}"
        )
    return sites
