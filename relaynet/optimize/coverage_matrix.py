"""Sparse coverage structure: for each demand point, only the sites within the standard.

The structure is a ``scipy.sparse`` CSR array (demand × site) whose stored values are
great-circle distances in metres; which pairs are stored is decided by the travel cost
source that :func:`relaynet.coverage.assess` uses (:mod:`relaynet.costs`), so the
optimizer's "covered" is assess's "covered". A demand point sitting on a site has distance ``0``:
that zero is an *explicit* stored entry, so always read the structure through
``indptr``/``indices`` (or :meth:`SparseCoverage.to_frame`), never through ``nonzero()``.
No dense demand × site matrix is ever built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from ..costs import DriveEstimate, Places, travel_costs
from ..coverage.density import DEFAULT_THRESHOLDS, DensityThresholds, classify_density
from ..errors import InputError, ParameterError
from ..geo import haversine_m, latlon
from ..nearest import Locator
from ..standard import Standard

log = logging.getLogger(__name__)


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
    road_m
        Measured (or estimated) distance in metres aligned with ``matrix.data`` when the
        standard's distance is by road or comes from a cost table (NaN where unknown),
        else ``None``.
    """

    demand_ids: np.ndarray
    site_ids: np.ndarray
    matrix: sparse.csr_array
    drive_s: np.ndarray | None
    standard: Standard
    road_m: np.ndarray | None = None

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
        """Cost of every stored pair: ``drive_s`` for a time-only standard, else metres —
        the measured ``road_m`` where known, else great-circle."""
        if self.standard.distance_m is None and self.drive_s is not None:
            return self.drive_s
        if self.road_m is not None:
            return np.where(np.isfinite(self.road_m), self.road_m, self.matrix.data)
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
        """The stored pairs as a table ``demand_id, point_id, distance_m[, drive_s][, road_m]``."""
        frame = pd.DataFrame(
            {
                "demand_id": self.demand_ids[self.rows],
                "point_id": self.site_ids[self.matrix.indices],
                "distance_m": self.matrix.data,
            }
        )
        if self.drive_s is not None:
            frame["drive_s"] = self.drive_s
        if self.road_m is not None:
            frame["road_m"] = self.road_m
        return frame


def _ids(frame: pd.DataFrame, column: str, label: str) -> np.ndarray:
    ids = frame[column] if column in frame else pd.Series(frame.index)
    ids = ids.astype(str).to_numpy()
    if len(pd.unique(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()[:5]
        raise InputError(f"{label}: duplicate {column} values {dup.tolist()}")
    return ids


def sparse_coverage(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    standard: Standard,
    *,
    network=None,
    costs=None,
    costs_unit: str | None = None,
    drive_estimate: DriveEstimate | None = None,
    density_thresholds: DensityThresholds = DEFAULT_THRESHOLDS,
) -> SparseCoverage:
    """Pairs (demand point, site) within the service standard, as a sparse structure.

    "Within" is decided exactly as :func:`relaynet.coverage.assess` decides it: by the
    same travel cost source (:func:`relaynet.costs.travel_costs`) and the same
    :class:`~relaynet.nearest.Locator` radius queries.

    Parameters
    ----------
    demand
        Demand points (``demand_id`` column, else the index), Point geometries in any CRS
        (converted to EPSG:4326; other geometries are rejected, see :mod:`relaynet.geo`).
    sites
        Candidate and existing sites (``point_id`` column, else the index).
    standard
        Straight-line distance part: Locator radius query (great-circle metres). Road
        distance and time parts: measured on ``network``, read from ``costs``, or
        estimated from the straight line with ``drive_estimate`` (the default, as in
        ``assess``). With two parts, ``combine="any"`` keeps the union, ``"all"`` the
        intersection.
    network, costs, costs_unit, drive_estimate
        The travel cost source, as for :func:`relaynet.coverage.assess`; a sparse
        ``costs`` matrix is (demand × sites) in the order given.
    density_thresholds
        Density classes for an estimate with per-class values.

    Returns
    -------
    SparseCoverage
        CSR (demand × site) of great-circle metres; memory grows with the number of pairs,
        never with demand × sites.
    """
    if not isinstance(standard, Standard):
        raise ParameterError(f"standard must be a relaynet Standard, got {standard!r}")
    source = travel_costs(network, costs, costs_unit, drive_estimate)
    lat, lon = latlon(demand, "demand")
    if not isinstance(sites, gpd.GeoDataFrame):
        raise InputError(f"sites: expected a GeoDataFrame, got {type(sites).__name__}")
    demand_ids = _ids(demand, "demand_id", "demand")
    site_ids = _ids(sites, "point_id", "sites")
    n, m = len(demand_ids), len(site_ids)
    locator = Locator(sites.assign(point_id=site_ids))
    density = None
    if not source.estimate.uniform:
        density = classify_density(demand, density_thresholds).to_numpy(object)
    places = Places(demand_ids, lat, lon, density, locator)
    pairs = source.covering_pairs(places, standard, np.ones(m, dtype=bool))
    rows, cols = pairs.place, pairs.row
    distance = haversine_m(lat[rows], lon[rows], locator.lat_[cols], locator.lon_[cols])
    drive_s = None
    if standard.drive_s is not None:
        drive_s = pairs.drive_s if pairs.drive_s is not None else np.full(len(rows), np.nan)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    matrix = sparse.csr_array((distance, cols.astype(np.int32), indptr), shape=(n, m))
    log.info(
        "sparse coverage: %d demand × %d sites, %d pairs within %s (%s)",
        n,
        m,
        len(rows),
        standard.label,
        source.describe(),
    )
    road_m = None
    if standard.distance_m is not None and pairs.road_m is not None:
        road_m = pairs.road_m
    return SparseCoverage(demand_ids, site_ids, matrix, drive_s, standard, road_m)
