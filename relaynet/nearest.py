"""Nearest eligible relay points, as the crow flies: the access table.

Points and places become 3-D unit vectors, so that Euclidean (chord) order equals
great-circle order and a Euclidean k-d tree (``scipy.spatial.cKDTree``, multi-threaded)
answers exactly; distances are reported in great-circle metres on a sphere of radius
:data:`relaynet.geo.EARTH_RADIUS_M` (all of it in :mod:`relaynet.geo`).

Filters never degrade to "query everything, then drop": each distinct eligibility mask
gets its own tree over the eligible points only (built once, cached by the mask's
content), so the k returned are exactly the k nearest *eligible* points, at the same cost
whether 100 % or 1 % of the points are eligible.

Trees are built on first use: a handful of places against the points (the command line's
``--at``) are answered by one exact brute-force pass over the eligible points' unit
vectors instead (same chord distances, ties by point order), which costs less than
building a tree — or importing scipy.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from .eligibility import Eligibility
from .errors import ParameterError
from .geo import (
    check_latlon,
    chord_to_metres,
    haversine_m,
    latlon,
    metres_to_chord,
    unit_vectors,
)

log = logging.getLogger(__name__)

ACCESS_COLUMNS = ("demand_id", "rank", "point_id", "distance_m", "name", "network", "kind")
"""Columns of the access table returned by :meth:`Locator.nearest`."""

WITHIN_COLUMNS = ("demand_id", "point_id", "distance_m")
"""Columns of the sparse table returned by :meth:`Locator.within`."""


def places_latlon(places) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalize places → ``(demand_id, lat, lon)``: a pandas ``str`` array and two arrays.

    ``places`` is a GeoDataFrame (its ``demand_id`` column, else its index, gives the
    ids), a ``(lat, lon)`` pair of numbers or of arrays (ids ``"0"``, ``"1"`` …), or a
    string naming a French commune/postcode (see :func:`relaynet.places.resolve_place`).
    """
    if isinstance(places, str):
        from .places import resolve_place

        places = resolve_place(places)
    if isinstance(places, gpd.GeoDataFrame):
        lat, lon = latlon(places, "places")
        ids = (
            (places["demand_id"] if "demand_id" in places.columns else places.index.to_series())
            .astype(str)
            .to_numpy(object)
        )
        return ids, lat, lon
    if isinstance(places, pd.DataFrame):
        raise ParameterError(
            "places: a plain DataFrame has no geometry; pass a GeoDataFrame "
            "(e.g. via relaynet.load_demand) or a (lat, lon) pair of arrays"
        )
    try:
        lat_in, lon_in = places
        lat = np.atleast_1d(np.asarray(lat_in, dtype=float))
        lon = np.atleast_1d(np.asarray(lon_in, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError(
            "places: expected a GeoDataFrame, a (lat, lon) pair or a commune "
            f"name, got {type(places).__name__}"
        ) from None
    if lat.shape != lon.shape or lat.ndim != 1:
        raise ParameterError(f"places: lat and lon shapes differ ({lat.shape} vs {lon.shape})")
    check_latlon(lat, lon, "places")
    return pd.Series(np.arange(len(lat))).astype("str").array, lat, lon


_BRUTE_FORCE_PAIRS = 1_000_000
"""Largest places × eligible points answered by brute force instead of a k-d tree."""


class _Index:
    """A k-d tree over a subset of the points (``rows`` into the full table), built on
    first use."""

    __slots__ = ("_first", "_tree", "leafsize", "n", "rows", "xyz")

    def __init__(self, xyz: np.ndarray, rows: np.ndarray | None, leafsize: int) -> None:
        self.rows = rows
        self.xyz = xyz if rows is None else xyz[rows]
        self.n = len(self.xyz)
        self.leafsize = leafsize
        self._tree = None
        self._first = None

    def _first_of_spot(self):
        """(tree, positions) over one point per distinct location — the lowest position,
        hence the lowest row — for k=1 queries: points at the same spot tie, and the
        lowest row wins, as in the brute-force path and the radius pairs. ``positions``
        is None when no two points share a location (the tree is :attr:`tree`)."""
        if self._first is None:
            _, first = np.unique(self.xyz, axis=0, return_index=True)
            if len(first) == self.n:
                self._first = (self.tree, None)
            else:
                from scipy.spatial import cKDTree

                first = np.sort(first)
                tree = cKDTree(self.xyz[first], leafsize=self.leafsize, balanced_tree=False)
                self._first = (tree, first)
        return self._first

    @property
    def tree(self):
        """The ``scipy.spatial.cKDTree`` over the subset (None when it is empty)."""
        if self._tree is None and self.n:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.xyz, leafsize=self.leafsize, balanced_tree=False)
        return self._tree

    def query(self, xyz: np.ndarray, k: int, bound: float, workers: int):
        """Chords and positions of the k nearest (``inf`` and ``n`` past the end/bound),
        shape (m, k), like ``cKDTree.query``."""
        m = len(xyz)
        if self._tree is None and m * self.n <= _BRUTE_FORCE_PAIRS:
            chord = np.sqrt(((xyz[:, None, :] - self.xyz[None, :, :]) ** 2).sum(axis=2))
            take = min(k, self.n)
            order = np.argsort(chord, axis=1, kind="stable")[:, :take]
            found = np.full((m, k), self.n, dtype=np.int64)
            dist = np.full((m, k), np.inf)
            nearest = np.take_along_axis(chord, order, axis=1)
            inside = nearest <= bound
            found[:, :take] = np.where(inside, order, self.n)
            dist[:, :take] = np.where(inside, nearest, np.inf)
            return dist, found
        if k == 1:
            tree, positions = self._first_of_spot()
            chord, found = tree.query(xyz, k=1, distance_upper_bound=bound, workers=workers)
            if positions is not None:
                found = np.append(positions, self.n)[found]
            return chord.reshape(m, 1), found.reshape(m, 1)
        chord, found = self.tree.query(xyz, k=k, distance_upper_bound=bound, workers=workers)
        return chord.reshape(m, k), found.reshape(m, k)


class Locator:
    """Index of relay points for nearest and radius queries (great-circle metres).

    Parameters
    ----------
    points
        Relay points in the canonical schema (GeoDataFrame with Point geometries; any CRS,
        converted to EPSG:4326). ``point_id`` is required; ``name``, ``network``, ``kind``
        are copied to the access table when present.
    cache_size
        Number of filtered sub-indexes (one per distinct eligibility mask) kept.
    workers
        Threads used by tree queries (``-1``: all cores).

    Attributes
    ----------
    points_ : GeoDataFrame
        The points, as given.
    xyz_ : ndarray, shape (n, 3)
        Unit vectors of the points.

    Examples
    --------
    >>> loc = Locator(points)                                            # doctest: +SKIP
    >>> loc.nearest("Lyon 3e", k=5, where=Eligibility(open_at="2026-11-28 18:30"))
    """

    def __init__(
        self,
        points: gpd.GeoDataFrame,
        *,
        cache_size: int = 16,
        leafsize: int = 16,
        workers: int = -1,
    ) -> None:
        if not isinstance(points, gpd.GeoDataFrame):
            raise ParameterError("Locator: points must be a GeoDataFrame (see load_points)")
        if "point_id" not in points.columns:
            raise ParameterError("Locator: points have no 'point_id' column")
        lat, lon = latlon(points, "points")
        self.points_ = points
        self.lat_, self.lon_ = lat, lon
        self.xyz_ = unit_vectors(lat, lon)
        self.cache_size = int(cache_size)
        self.leafsize = int(leafsize)
        self.workers = int(workers)
        self._full = _Index(self.xyz_, None, self.leafsize)
        self._indexes: OrderedDict[bytes, _Index] = OrderedDict()
        self._masks: OrderedDict[Eligibility, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the caches are shared by the threads of assess
        self._columns = {
            c: self._column_array(points, c) for c in ("point_id", "name", "network", "kind")
        }

    @staticmethod
    def _column_array(points: pd.DataFrame, column: str):
        dtype = "category" if column in ("network", "kind") else "str"
        if column not in points.columns:
            return pd.Series([None] * len(points), dtype=object).astype(dtype).array
        return points[column].astype(dtype).array

    def __len__(self) -> int:
        return len(self.points_)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- eligibility ------------------------------------------------------------------------

    def mask(self, where: Eligibility | np.ndarray | None) -> np.ndarray | None:
        """Boolean mask of eligible points (``None`` = all), cached per Eligibility."""
        if where is None:
            return None
        if isinstance(where, Eligibility):
            if where.is_empty:
                return None
            with self._lock:
                cached = self._masks.get(where)
                if cached is None:
                    cached = where.mask(self.points_)
                    self._masks[where] = cached
                    while len(self._masks) > self.cache_size:
                        self._masks.popitem(last=False)
            return cached
        mask = np.asarray(where)
        if mask.dtype != bool or mask.shape != (len(self),):
            raise ParameterError(
                f"where: expected an Eligibility or a boolean mask of shape "
                f"({len(self)},), got {mask.dtype} {mask.shape}"
            )
        return mask

    def _index(self, where) -> _Index:
        mask = self.mask(where)
        if mask is None or mask.all():
            return self._full
        key = hashlib.blake2b(np.packbits(mask).tobytes(), digest_size=16).digest()
        with self._lock:
            index = self._indexes.get(key)
            if index is None:
                index = _Index(self.xyz_, np.flatnonzero(mask), self.leafsize)
                self._indexes[key] = index
                while len(self._indexes) > self.cache_size:
                    self._indexes.popitem(last=False)
                log.info("built index over %d of %d eligible points", len(index.rows), len(self))
            else:
                self._indexes.move_to_end(key)
        return index

    # -- queries ------------------------------------------------------------------------------

    def query(
        self, lat, lon, k: int = 1, where=None, max_distance_m: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Array core of :meth:`nearest`.

        Returns
        -------
        (rows, distance_m)
            Arrays of shape (m, k): row positions into :attr:`points_` (``-1`` when fewer
            than k eligible points lie within ``max_distance_m``) and great-circle metres
            (NaN there), sorted by distance.
        """
        k = int(k)
        if k < 1:
            raise ParameterError(f"k={k!r}: expected an integer ≥ 1")
        bound = np.inf
        if max_distance_m is not None:
            if not np.isfinite(max_distance_m) or max_distance_m < 0:
                raise ParameterError(f"max_distance_m={max_distance_m!r}: expected metres ≥ 0")
            bound = metres_to_chord(max_distance_m) * (1 + 1e-9) + 1e-15
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = np.atleast_1d(np.asarray(lon, float))
        m = len(lat)
        index = self._index(where)
        rows = np.full((m, k), -1, dtype=np.int64)
        dist = np.full((m, k), np.nan)
        if index.n == 0 or m == 0:
            return rows, dist
        chord, found = index.query(unit_vectors(lat, lon), k, bound, self.workers)
        ok = np.isfinite(chord)
        n_sub = index.n
        found = np.where(ok, found, n_sub)
        mapped = found if index.rows is None else np.append(index.rows, -1)[found]
        rows[:] = np.where(ok, mapped, -1)
        dist[ok] = chord_to_metres(chord[ok])
        if max_distance_m is not None:
            over = dist > max_distance_m
            rows[over], dist[over] = -1, np.nan
        return rows, dist

    def nearest(
        self,
        places,
        k: int = 1,
        where: Eligibility | np.ndarray | None = None,
        max_distance_m: float | None = None,
    ) -> pd.DataFrame:
        """The k nearest eligible points of every place: the access table.

        Parameters
        ----------
        places
            GeoDataFrame of demand points (``demand_id`` column, else index), a
            ``(lat, lon)`` pair (degrees; numbers or arrays), or a French commune name /
            postcode (``"Lyon 3e"``, ``"69003"``).
        k
            Number of points per place.
        where
            :class:`~relaynet.eligibility.Eligibility` (or a boolean mask over the points);
            ``None``: every point.
        max_distance_m
            Ignore points farther than this great-circle distance (metres).

        Returns
        -------
        DataFrame
            Exactly k rows per place, in place order then rank: ``demand_id`` (str),
            ``rank`` (1..k), ``point_id`` (str, NA when fewer than k eligible points
            qualify), ``distance_m`` (great-circle metres, NaN there), ``name`` (str),
            ``network`` and ``kind`` (categorical: cheap for millions of rows).
        """
        ids, lat, lon = places_latlon(places)
        rows, dist = self.query(lat, lon, k=k, where=where, max_distance_m=max_distance_m)
        return self._table(ids, rows, dist)

    def _table(self, ids: np.ndarray, rows: np.ndarray, dist: np.ndarray) -> pd.DataFrame:
        m, k = rows.shape
        flat = rows.ravel()
        data = {
            "demand_id": ids.take(np.repeat(np.arange(m), k)),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), m),
        }
        data["point_id"] = self._columns["point_id"].take(flat, allow_fill=True)
        data["distance_m"] = dist.ravel()
        for column in ("name", "network", "kind"):
            data[column] = self._columns[column].take(flat, allow_fill=True)
        return pd.DataFrame(data, columns=list(ACCESS_COLUMNS))

    def within(
        self, places, radius_m: float, where: Eligibility | np.ndarray | None = None
    ) -> pd.DataFrame:
        """Every eligible point within ``radius_m`` great-circle metres of each place.

        Returns
        -------
        DataFrame
            Sparse pairs ``demand_id``, ``point_id``, ``distance_m``; ordered by place,
            then distance. Places with no point in range have no row.
        """
        if radius_m is None or not np.isfinite(radius_m) or radius_m < 0:
            raise ParameterError(f"radius_m={radius_m!r}: expected metres ≥ 0")
        ids, lat, lon = places_latlon(places)
        place_idx, rows, dist = self.within_arrays(lat, lon, radius_m, where)
        return pd.DataFrame(
            {
                "demand_id": ids.take(place_idx),
                "point_id": self._columns["point_id"].take(rows),
                "distance_m": dist,
            }
        )

    def within_arrays(
        self, lat, lon, radius_m: float, where=None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Array core of :meth:`within`: ``(place position, point row, distance_m)``.

        ``radius_m`` is one radius or one per place (metres).
        """
        index = self._index(where)
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = np.atleast_1d(np.asarray(lon, float))
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        if index.n == 0 or len(lat) == 0:
            return empty
        xyz = unit_vectors(lat, lon)
        radius_m = np.asarray(radius_m, float)
        chord = metres_to_chord(radius_m) * (1 + 1e-9) + 1e-15
        hits = index.tree.query_ball_point(xyz, r=chord, workers=self.workers, return_sorted=False)
        lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        total = int(lengths.sum())
        if total == 0:
            return empty
        sub = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if len(h)])
        place_idx = np.repeat(np.arange(len(lat)), lengths)
        rows = sub if index.rows is None else index.rows[sub]
        dist = chord_to_metres(np.linalg.norm(self.xyz_[rows] - xyz[place_idx], axis=1))
        keep = dist <= (radius_m if radius_m.ndim == 0 else radius_m[place_idx])
        place_idx, rows, dist = place_idx[keep], rows[keep], dist[keep]
        order = np.lexsort((dist, place_idx))
        return place_idx[order], rows[order], dist[order]

    def count_within(self, lat, lon, radius_m: float, where=None) -> np.ndarray:
        """Number of eligible points within ``radius_m`` metres (great-circle) of each place
        (one radius, or one per place).

        A count-only radius query: no pair list is built, so it stays cheap in dense cities
        where :meth:`within` would return tens of millions of pairs. Points exactly on the
        boundary may differ from :meth:`within` by floating-point rounding only.
        """
        if not np.all(np.isfinite(radius_m)) or np.any(np.asarray(radius_m) < 0):
            raise ParameterError(f"radius_m={radius_m!r}: expected metres ≥ 0")
        index = self._index(where)
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = np.atleast_1d(np.asarray(lon, float))
        if index.n == 0 or len(lat) == 0:
            return np.zeros(len(lat), dtype=np.int64)
        counts = index.tree.query_ball_point(
            unit_vectors(lat, lon),
            r=metres_to_chord(radius_m),
            return_length=True,
            workers=self.workers,
        )
        return np.asarray(counts, dtype=np.int64)


def nearest(
    points: gpd.GeoDataFrame, places, k: int = 1, where=None, max_distance_m: float | None = None
) -> pd.DataFrame:
    """One-off :meth:`Locator.nearest` (build a :class:`Locator` to reuse the index)."""
    return Locator(points).nearest(places, k=k, where=where, max_distance_m=max_distance_m)


__all__ = [
    "ACCESS_COLUMNS",
    "Locator",
    "WITHIN_COLUMNS",
    "chord_to_metres",
    "haversine_m",
    "metres_to_chord",
    "nearest",
    "places_latlon",
    "unit_vectors",
]
