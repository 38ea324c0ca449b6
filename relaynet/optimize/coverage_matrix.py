"""Sparse coverage structure: for each demand point, only the sites within the standard.

The structure is a ``scipy.sparse`` CSR array (demand × site) whose stored values are
great-circle distances in metres. A demand point sitting on a site has distance ``0``:
that zero is an *explicit* stored entry, so always read the structure through
``indptr``/``indices`` (or :meth:`SparseCoverage.to_frame`), never through ``nonzero()``.
No dense demand × site matrix is ever built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from ..errors import InputError, ParameterError
from ..standard import Standard

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius used for great-circle distances, in metres."""

DriveSource = pd.DataFrame | Callable[..., pd.DataFrame] | object


@dataclass(frozen=True)
class SparseCoverage:
    """Which sites are within the service standard of which demand points.

    Attributes
    ----------
    demand_ids, site_ids
        Row and column labels (str).
    matrix
        CSR array (demand × site), stored value = great-circle distance in metres; only
        pairs within the standard are stored (explicit zeros included).
    drive_s
        Travel time in seconds aligned with ``matrix.data`` (NaN where unknown), or
        ``None`` when the standard has no time part.
    standard
        The standard the structure was built for.
    """

    demand_ids: np.ndarray
    site_ids: np.ndarray
    matrix: sparse.csr_array
    drive_s: np.ndarray | None
    standard: Standard

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def nnz(self) -> int:
        """Number of (demand, site) pairs within the standard."""
        return int(self.matrix.indptr[-1])

    @property
    def rows(self) -> np.ndarray:
        """Demand index of every stored pair (aligned with ``matrix.data``)."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.matrix.indptr))

    def cost(self) -> np.ndarray:
        """Cost of every stored pair: ``drive_s`` for a time-only standard, else metres."""
        if self.standard.distance_m is None and self.drive_s is not None:
            return self.drive_s
        return self.matrix.data

    def count_open(self, open_sites: np.ndarray) -> np.ndarray:
        """Number of open sites within the standard of each demand point.

        Parameters
        ----------
        open_sites
            Boolean mask over the sites (length = number of columns).
        """
        hits = np.asarray(open_sites, dtype=bool)[self.matrix.indices]
        return np.bincount(self.rows, weights=hits, minlength=self.shape[0]).astype(np.int64)

    def to_frame(self) -> pd.DataFrame:
        """The stored pairs as a table ``demand_id, point_id, distance_m[, drive_s]``."""
        frame = pd.DataFrame(
            {
                "demand_id": self.demand_ids[self.rows],
                "point_id": self.site_ids[self.matrix.indices],
                "distance_m": self.matrix.data,
            }
        )
        if self.drive_s is not None:
            frame["drive_s"] = self.drive_s
        return frame


def unit_vectors(geometry: gpd.GeoSeries) -> np.ndarray:
    """Points in EPSG:4326 as 3-D unit vectors (n, 3) on the sphere."""
    lat = np.radians(geometry.y.to_numpy(dtype=float))
    lon = np.radians(geometry.x.to_numpy(dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def haversine_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between paired unit vectors ``a`` and ``b`` (n, 3)."""
    chord = np.linalg.norm(a - b, axis=1)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def _points_4326(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoSeries:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{label}: expected a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise InputError(f"{label}: GeoDataFrame has no CRS; expected EPSG:4326")
    geometry = frame.geometry.to_crs(4326)
    if len(geometry) and not (geometry.geom_type == "Point").all():
        geometry = geometry.representative_point()
    if geometry.is_empty.any() or geometry.isna().any():
        bad = np.flatnonzero((geometry.is_empty | geometry.isna()).to_numpy())[:5]
        raise InputError(f"{label}: empty or missing geometry on rows {bad.tolist()}")
    return geometry


def _ids(frame: pd.DataFrame, column: str, label: str) -> np.ndarray:
    ids = frame[column] if column in frame else pd.Series(frame.index)
    ids = ids.astype(str).to_numpy()
    if len(pd.unique(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()[:5]
        raise InputError(f"{label}: duplicate {column} values {dup.tolist()}")
    return ids


def _drive_pairs(drive, demand, sites, demand_ids, site_ids, max_time_s: float):
    """(row, col, drive_s) arrays from a precomputed table or a bounded road search."""
    if drive is None:
        raise ParameterError(
            "the standard has a drive-time part: pass drive= (a RoadNetwork, a callable "
            "(demand, sites, max_time_s) -> table, or a table demand_id, point_id, drive_s)"
        )
    if isinstance(drive, pd.DataFrame):
        table = drive
    elif hasattr(drive, "within"):
        table = drive.within(demand, sites, max_time_s)
    elif callable(drive):
        table = drive(demand, sites, max_time_s)
    else:
        raise ParameterError(f"drive= must be a table, a RoadNetwork or a callable, got {drive!r}")
    missing = {"demand_id", "point_id", "drive_s"} - set(table.columns)
    if missing:
        raise InputError(f"drive table lacks columns {sorted(missing)}")
    rows = pd.Index(demand_ids).get_indexer(table["demand_id"].astype(str))
    cols = pd.Index(site_ids).get_indexer(table["point_id"].astype(str))
    time = pd.to_numeric(table["drive_s"], errors="coerce").to_numpy(dtype=float)
    keep = (rows >= 0) & (cols >= 0) & np.isfinite(time) & (time <= max_time_s)
    if (rows < 0).any() or (cols < 0).any():
        log.info(
            "drive table: %d rows name unknown demand or sites, ignored",
            int(((rows < 0) | (cols < 0)).sum()),
        )
    return rows[keep], cols[keep], time[keep]


def sparse_coverage(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    standard: Standard,
    *,
    drive: DriveSource | None = None,
) -> SparseCoverage:
    """Pairs (demand point, site) within the service standard, as a sparse structure.

    Parameters
    ----------
    demand
        Demand points (``demand_id`` column, else the index), any CRS (converted to
        EPSG:4326; polygons reduced to a point on their surface).
    sites
        Candidate and existing sites (``point_id`` column, else the index).
    standard
        Distance part: radius query on 3-D unit vectors with ``scipy.spatial.cKDTree``
        (chord radius equivalent to the great-circle distance, in metres). Time part:
        pairs from ``drive``. With both parts, ``combine="any"`` keeps the union,
        ``"all"`` the intersection.
    drive
        Needed when the standard has ``drive_s``: a table ``demand_id, point_id, drive_s``
        (seconds), an object with ``.within(demand, sites, max_time_s)`` such as
        :class:`relaynet.network.RoadNetwork`, or a callable with that signature.

    Returns
    -------
    SparseCoverage
        CSR (demand × site) of great-circle metres; memory grows with the number of pairs,
        never with demand × sites.
    """
    if not isinstance(standard, Standard):
        raise ParameterError(f"standard must be a relaynet Standard, got {standard!r}")
    demand_geom = _points_4326(demand, "demand")
    site_geom = _points_4326(sites, "sites")
    demand_ids = _ids(demand, "demand_id", "demand")
    site_ids = _ids(sites, "point_id", "sites")
    n, m = len(demand_ids), len(site_ids)
    xyz_d, xyz_s = unit_vectors(demand_geom), unit_vectors(site_geom)

    key_parts, time_parts = [], []
    if standard.distance_m is not None and n and m:
        radius = float(standard.distance_m)
        chord = 2.0 * np.sin(min(radius / (2.0 * EARTH_RADIUS_M), np.pi / 2))
        pairs = cKDTree(xyz_d).sparse_distance_matrix(
            cKDTree(xyz_s), chord * (1 + 1e-12), output_type="ndarray"
        )
        gc = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(pairs["v"] / 2.0, 0.0, 1.0))
        ok = gc <= radius
        key_parts.append(pairs["i"][ok].astype(np.int64) * m + pairs["j"][ok])
    if standard.drive_s is not None and n and m:
        rows, cols, time = _drive_pairs(
            drive, demand, sites, demand_ids, site_ids, float(standard.drive_s)
        )
        drive_keys = rows.astype(np.int64) * m + cols
        drive_keys, first = np.unique(drive_keys, return_index=True)
        time_parts = [drive_keys, time[first]]
        key_parts.append(drive_keys)

    if len(key_parts) == 2:
        if standard.combine == "any":
            keys = np.union1d(key_parts[0], key_parts[1])
        else:
            keys = np.intersect1d(key_parts[0], key_parts[1])
    elif key_parts:
        keys = np.unique(key_parts[0])
    else:
        keys = np.zeros(0, dtype=np.int64)

    rows, cols = keys // max(m, 1), keys % max(m, 1)
    distance = haversine_m(xyz_d[rows], xyz_s[cols])
    drive_s = None
    if time_parts:
        drive_s = np.full(len(keys), np.nan)
        known_keys, known_time = time_parts
        if len(known_keys) and len(keys):
            at = np.minimum(np.searchsorted(known_keys, keys), len(known_keys) - 1)
            hit = known_keys[at] == keys
            drive_s[hit] = known_time[at[hit]]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    matrix = sparse.csr_array((distance, cols.astype(np.int32), indptr), shape=(n, m))
    log.info(
        "sparse coverage: %d demand × %d sites, %d pairs within %s", n, m, len(keys), standard.label
    )
    return SparseCoverage(demand_ids, site_ids, matrix, drive_s, standard)
