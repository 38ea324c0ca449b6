"""The queries of :class:`~relaynet.network.RoadNetwork`: snapping, nearest, within, isochrones.

Kept apart from graph building (``_road.py``) for size; :class:`AccessQueries` is a mixin
that only reads the network's arrays (``roads``, ``lat``/``lon``, ``_router``, ``_xyz``,
``max_snap_m``, ``access_speed_kmh``, ``mode``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ..errors import ParameterError
from ..io.schema import CRS
from . import _inputs as _in
from . import snap as _snap
from .snap import SnapIndex, Snapped

logger = logging.getLogger(__name__)


class AccessQueries:
    """Snapping and access queries over a road network's arrays (mixed into RoadNetwork)."""

    # -- snapping -------------------------------------------------------------------------

    @property
    def _snapper(self) -> SnapIndex:
        if self._index is None:
            self._index = SnapIndex(self.roads, self.lat, self.lon)
        return self._index

    @property
    def _access_mps(self) -> float:
        return self.access_speed_kmh / 3.6

    def snap(self, lat: Any, lon: Any) -> pd.DataFrame:
        """Where each coordinate (degrees) joins the road graph: its nearest edge.

        Returns
        -------
        pandas.DataFrame
            One row per coordinate: ``u, v`` (node ids of the nearest edge, travel ``u → v``
            allowed), ``fraction`` (position from ``u``, by length), ``snap_m`` (great-circle
            metres to the edge), ``lat, lon`` (the snapped location). When several edges are
            equally near (a junction, a two-way street) the first one is shown.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        hit = self._snapper.snap(lat, lon)
        first = np.ones(len(hit.owner), bool)
        first[1:] = hit.owner[1:] != hit.owner[:-1]
        r = hit.road[first]
        fwd = np.isfinite(self.roads.fwd_s[r])
        a, b = self.roads.a[r], self.roads.b[r]
        frac = hit.frac[first]
        return pd.DataFrame(
            {
                "u": self.node_id[np.where(fwd, a, b)],
                "v": self.node_id[np.where(fwd, b, a)],
                "fraction": np.where(fwd, frac, 1.0 - frac),
                "snap_m": hit.snap_m,
                "lat": hit.lat[first],
                "lon": hit.lon[first],
            }
        )

    def _places(self, places: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Snapped]:
        """Place ids, coordinates and snaps (rows of off-road places dropped)."""
        ids, lat, lon = _in.places_latlon(places)
        hit = self._snapper.snap(lat, lon)
        return ids, lat, lon, hit.keep(hit.snap_m <= self.max_snap_m)

    def _sources(self, points: gpd.GeoDataFrame, where: _in.Where | None) -> _Sources:
        """Eligible on-road points grouped by location (one search source per location)."""
        pid, plat, plon = _in.points_latlon(points)
        cand = np.flatnonzero(_in.eligible(points, where))
        hit = self._snapper.snap(plat[cand], plon[cand])
        off = hit.snap_m > self.max_snap_m
        if off.any():
            logger.warning(
                "%d eligible point(s) farther than %g m from the %s network are ignored",
                int(off.sum()),
                self.max_snap_m,
                self.mode,
            )
        on = np.flatnonzero(~off)  # positions into cand
        if len(on):
            loc = np.column_stack([plat[cand[on]], plon[cand[on]]])
            _, first, inverse = np.unique(loc, axis=0, return_index=True, return_inverse=True)
            rank = np.empty(len(first), np.int64)
            rank[np.argsort(first, kind="stable")] = np.arange(len(first))
            src = rank[inverse.ravel()]  # numbered by first appearance
            rep = on[np.sort(first)]  # representative (cand position) of each source
        else:
            src, rep = np.zeros(0, np.int64), np.zeros(0, np.int64)
        relabel = np.full(len(cand), -1, np.int64)
        relabel[rep] = np.arange(len(rep))
        rows = relabel[hit.owner] >= 0
        snapped = Snapped(
            relabel[hit.owner[rows]],
            hit.road[rows],
            hit.frac[rows],
            hit.lat[rows],
            hit.lon[rows],
            hit.snap_m[rep],
        )
        order = np.argsort(src, kind="stable")
        start = np.zeros(len(rep) + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=len(rep)), out=start[1:])
        return _Sources(
            pid, plat, plon, snapped, snapped.snap_m / self._access_mps, cand[on][order], start
        )

    # -- queries --------------------------------------------------------------------------

    def nearest(
        self,
        places: Any,
        points: gpd.GeoDataFrame,
        where: _in.Where | None = None,
        k: int = 1,
        max_time_s: float | None = None,
    ) -> pd.DataFrame:
        """The ``k`` fastest-to-reach distinct eligible points of every place, by road.

        One multi-source Dijkstra from all eligible points over the reversed graph gives
        every node its nearest point (travel place → point); ranks 2..k each take one more
        search (see :meth:`Router.nearest_seeded`). Places and points are snapped to edges
        (see the class); points at the same location are distinct points at the same time.

        Parameters
        ----------
        places : GeoDataFrame or (lat, lon) tuple
            Demand points (``demand_id`` column if present, else the index).
        points : GeoDataFrame
            Relay points (``point_id``; ``name``, ``network``, ``kind`` copied when present).
        where : Eligibility, optional
            Any object with ``mask(points) -> bool array``; only those points are searched.
        k : int
            Number of distinct points per place (≥ 1).
        max_time_s : float, optional
            Points farther than this travel time (seconds, access legs included) are not
            returned.

        Returns
        -------
        pandas.DataFrame
            The access table, exactly ``k`` rows per place in place order then rank:
            ``demand_id, rank, point_id, distance_m`` (great circle, metres), ``name,
            network, kind``, then ``drive_s`` / ``walk_s`` (seconds, both access legs
            included), ``road_m`` (metres along roads on that fastest trip), ``snap_m``
            (place to its nearest edge, metres) and ``off_road`` (``snap_m > max_snap_m``: no
            result). ``point_id`` is missing and the numbers NaN when fewer than ``k`` points
            are reachable.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ParameterError(f"k must be an integer >= 1, got {k!r}")
        k = int(k)
        limit = _in.check_time(max_time_s)
        ids, lat, lon, hit = self._places(places)
        src = self._sources(points, where)
        access = hit.snap_m / self._access_mps
        eo, en, et, el = _snap.entries(self.roads, hit, access)
        so, sn, st, sl = _snap.seeds(self.roads, src.snapped, src.access_s)
        t0 = time.perf_counter()
        labels = self._router.nearest_seeded(src.n, sn, so, st, sl, k, limit)
        logger.debug("road search: %d sources, k=%d, %.3f s", src.n, k, time.perf_counter() - t0)
        dq, dp, dt, dl = _snap.same_road(self.roads, hit, access, src.snapped, src.access_s)
        q = np.concatenate([np.repeat(eo, k), dq])
        s = np.concatenate([labels.source[en].ravel(), dp])
        t = np.concatenate([(et[:, None] + labels.time_s[en]).ravel(), dt])
        road = np.concatenate([(el[:, None] + labels.length_m[en]).ravel(), dl])
        ok = (s >= 0) & (t <= limit)
        q, s, t, road = q[ok], s[ok], t[ok], road[ok]
        q, s, t, road = _first_of(np.lexsort((road, t, s, q)), q, s, t, road)
        order = np.lexsort((s, t, q))
        q, s, t, road = q[order], s[order], t[order], road[order]
        keep = _rank_in_group(q) < k  # k sources are enough: each holds >= 1 point
        q, s, t, road = q[keep], s[keep], t[keep], road[keep]
        # expand sources into their points, keep the first k per place
        n_pts = np.diff(src.start)[s]
        q, t, road = np.repeat(q, n_pts), np.repeat(t, n_pts), np.repeat(road, n_pts)
        within = np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
        pt = src.grouped[np.repeat(src.start[s], n_pts) + within]
        rank = _rank_in_group(q)
        keep = rank < k
        slot = q[keep] * k + rank[keep]

        m = len(ids)
        best = np.full(m * k, -1, dtype=np.int64)
        best[slot] = pt[keep]
        tt = np.full(m * k, np.nan)
        tt[slot] = t[keep]
        rd = np.full(m * k, np.nan)
        rd[slot] = road[keep]
        found = best >= 0
        safe = best.clip(0)
        plc = np.repeat(np.arange(m), k)
        dist = np.full(m * k, np.nan)
        dist[found] = _in.haversine_m(
            lat[plc[found]], lon[plc[found]], src.lat[best[found]], src.lon[best[found]]
        )
        pid = src.pid
        table = pd.DataFrame(
            {
                "demand_id": pd.array(ids[plc], dtype="str"),
                "rank": np.tile(np.arange(1, k + 1), m).astype(np.int64),
                "point_id": pd.array(np.where(found, pid[safe], None), dtype="str")
                if len(pid)
                else pd.array([None] * (m * k), dtype="str"),
                "distance_m": dist,
            }
        )
        for col in _in.POINT_INFO:
            if col in points.columns and len(pid):
                values = points[col].astype("str").to_numpy(dtype=object)[safe]
                table[col] = pd.array(np.where(found, values, None), dtype="str")
            else:
                table[col] = pd.array([None] * (m * k), dtype="str")
        table[self.time_column] = tt
        table["road_m"] = rd
        table["snap_m"] = hit.snap_m[plc]
        table["off_road"] = hit.snap_m[plc] > self.max_snap_m
        return table

    def within(
        self,
        places: Any,
        points: gpd.GeoDataFrame,
        max_time_s: float,
        where: _in.Where | None = None,
    ) -> pd.DataFrame:
        """Every (place, eligible point) pair with travel time place → point ≤ ``max_time_s``.

        Bounded Dijkstra searches from chunks of nearby points over the subgraph they can
        reach in ``max_time_s`` (exact; no dense place × point matrix), joined with the
        snapped ends of places and points (times as in :meth:`nearest`, access legs
        included). Off-road places and points (beyond ``max_snap_m``) get no pairs.

        Returns
        -------
        pandas.DataFrame
            ``demand_id, point_id, drive_s`` (or ``walk_s``, seconds), sorted by place order
            then time then point order.
        """
        limit = _in.check_time(max_time_s)
        if not np.isfinite(limit):
            raise ParameterError("within() needs a finite max_time_s")
        ids, _, _, hit = self._places(places)
        src = self._sources(points, where)
        access = hit.snap_m / self._access_mps
        eo, en, et, _ = _snap.entries(self.roads, hit, access)
        so, sn, st, _ = _snap.seeds(self.roads, src.snapped, src.access_s)
        keep_e, keep_s = et <= limit, st <= limit
        eo, en, et = eo[keep_e], en[keep_e], et[keep_e]
        so, sn, st = so[keep_s], sn[keep_s], st[keep_s]
        ent_nodes, ent_inv = np.unique(en, return_inverse=True)
        seed_nodes, seed_inv = np.unique(sn, return_inverse=True)
        reach = limit * self._max_speed_mps * 1.000001
        si, ti, tt = self._router.pairs_within(seed_nodes, ent_nodes, limit, self._xyz, reach)
        pairs = pd.DataFrame({"sn": si, "en": ti, "t": tt})
        joined = pairs.merge(pd.DataFrame({"sn": seed_inv, "src": so, "st": st}), on="sn").merge(
            pd.DataFrame({"en": ent_inv, "q": eo, "et": et}), on="en"
        )
        dq, dp, dt, _ = _snap.same_road(self.roads, hit, access, src.snapped, src.access_s)
        q = np.concatenate([joined["q"].to_numpy(np.int64), dq])
        s = np.concatenate([joined["src"].to_numpy(np.int64), dp])
        t = np.concatenate([(joined["t"] + joined["st"] + joined["et"]).to_numpy(float), dt])
        ok = t <= limit
        q, s, t = _first_of(np.lexsort((t[ok], s[ok], q[ok])), q[ok], s[ok], t[ok])
        # expand sources into their points
        n_pts = np.diff(src.start)[s]
        q, t = np.repeat(q, n_pts), np.repeat(t, n_pts)
        within = np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
        pt = src.grouped[np.repeat(src.start[s], n_pts) + within]
        order = np.lexsort((pt, t, q))
        q, pt, t = q[order], pt[order], t[order]
        return pd.DataFrame(
            {
                "demand_id": pd.array(ids[q], dtype="str"),
                "point_id": pd.array(src.pid[pt], dtype="str"),
                self.time_column: t.astype(float),
            }
        )

    def isochrones(
        self,
        points: gpd.GeoDataFrame,
        minutes: Any = (5, 10, 20),
        *,
        ratio: float = 0.3,
        buffer_m: float = 50.0,
    ) -> gpd.GeoDataFrame:
        """Areas from which each point is reached within each number of minutes.

        For every point (snapped to its edge) one bounded search on the reversed graph
        (travel towards the point, the point's access leg included) finds the nodes within
        each time; the polygon is the concave hull (shapely ``concave_hull``, ``ratio``) of
        those nodes in a local UTM projection, buffered by ``buffer_m`` metres so that one or
        two nodes still give an area. Off-road points get no rows.

        Returns
        -------
        geopandas.GeoDataFrame
            ``point_id, minutes, time_s, nodes, geometry`` (EPSG:4326), one row per point and
            time, larger times last.
        """
        mins = np.unique(np.atleast_1d(np.asarray(minutes, dtype=float)))
        if mins.size == 0 or not (mins > 0).all():
            raise ParameterError(f"minutes must be positive numbers, got {minutes!r}")
        src = self._sources(points, None)
        so, sn, st, _ = _snap.seeds(self.roads, src.snapped, src.access_s)
        utm = gpd.GeoSeries(
            gpd.points_from_xy([np.median(self.lon)], [np.median(self.lat)]), crs=CRS
        ).estimate_utm_crs()
        to_m = Transformer.from_crs(CRS, utm, always_xy=True)
        x, y = to_m.transform(self.lon, self.lat)
        seed_nodes, seed_inv = np.unique(sn, return_inverse=True)
        times = self._router.times_from(seed_nodes, float(mins.max() * 60.0))
        rows: list[dict[str, Any]] = []
        geoms = []
        for j in range(src.n):
            mine = so == j
            dist = (st[mine][:, None] + times[seed_inv[mine]]).min(axis=0)
            for p in src.grouped[src.start[j] : src.start[j + 1]]:
                for mnt in mins:
                    reach = np.flatnonzero(dist <= mnt * 60.0)
                    hull = shapely.concave_hull(
                        shapely.multipoints(np.column_stack([x[reach], y[reach]])), ratio=ratio
                    )
                    geoms.append(hull.buffer(buffer_m))
                    rows.append(
                        {
                            "point_id": src.pid[p],
                            "minutes": float(mnt),
                            "time_s": float(mnt * 60.0),
                            "nodes": len(reach),
                            "order": p,
                        }
                    )
        frame = pd.DataFrame(rows, columns=["point_id", "minutes", "time_s", "nodes", "order"])
        frame = frame.sort_values(["order", "minutes"], kind="stable")
        geoms = [geoms[i] for i in frame.index]
        frame = frame.drop(columns="order").reset_index(drop=True)
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=utm)).to_crs(CRS)
        out["point_id"] = out["point_id"].astype("str")
        out["nodes"] = out["nodes"].astype(np.int64)
        return out


@dataclass(frozen=True)
class _Sources:
    """Eligible on-road points, one search source per distinct location.

    ``snapped`` (owner = source) and ``access_s`` describe each source; the points of source
    ``j`` are ``grouped[start[j]:start[j + 1]]`` (positions into the points frame, input
    order).
    """

    pid: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    snapped: Snapped
    access_s: np.ndarray
    grouped: np.ndarray
    start: np.ndarray

    @property
    def n(self) -> int:
        return len(self.start) - 1


def _rank_in_group(sorted_keys: np.ndarray) -> np.ndarray:
    """Position of each row within its run of equal keys (keys sorted)."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, np.int64)
    new = np.ones(n, bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    starts = np.flatnonzero(new)
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def _first_of(order: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows in ``order``, keeping the first of each run of equal (first two arrays)."""
    out = [a[order] for a in arrays]
    a, b = out[0], out[1]
    first = np.ones(len(a), bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return tuple(x[first] for x in out)
