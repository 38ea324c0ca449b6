"""RoadNetwork: drive/walk access by road for every place, with one multi-source search."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from ..errors import NetworkError, ParameterError
from ..schema import CRS
from . import _build
from . import _inputs as _in
from ._search import Router

logger = logging.getLogger(__name__)


class RoadNetwork:
    """A road graph for one travel mode, ready for multi-source nearest-point searches.

    Build it with :meth:`from_osm_file` (offline), :meth:`from_place` / :meth:`from_bbox`
    (osmnx download, cached as GraphML), :meth:`load` (a cached GraphML) or
    :meth:`from_graph` (an osmnx graph with ``travel_time`` on its edges). The graph is
    converted once to arrays (scipy CSR, parallel edges reduced to the fastest one).

    Parameters
    ----------
    node_id : array of int
        OSM node ids (any unique integers), one per node.
    lat, lon : array of float
        Node coordinates in degrees (EPSG:4326).
    u, v : array of int
        Edges as positions into ``node_id``: travel is possible from ``u`` to ``v``.
    time_s, length_m : array of float
        Edge travel time in seconds (> 0) and road length in metres.
    mode : {"drive", "walk"}
        Names the time column of the results (``drive_s`` or ``walk_s``).
    max_snap_m : float
        A place or point farther than this (metres, great circle) from the nearest graph node
        is *off road*: flagged and left without a result instead of being snapped.
    graph : networkx.MultiDiGraph, optional
        The osmnx graph the arrays come from, kept for :meth:`to_networkx` / :meth:`save`.

    Notes
    -----
    Places and points are snapped to the nearest graph *node* (KD-tree on earth-centred
    coordinates, exact great-circle distance ``snap_m``). Reported times and road lengths run
    from the place's node to the point's node; the snap legs are not added. Graphs built by
    relaynet keep only their largest strongly connected component, so every node reaches
    every other one; a place whose nearest road lies in a dropped component snaps to the
    component and its ``snap_m`` shows it.
    """

    def __init__(
        self,
        node_id: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        time_s: np.ndarray,
        length_m: np.ndarray,
        *,
        mode: str = "drive",
        max_snap_m: float = 1000.0,
        graph: nx.MultiDiGraph | None = None,
    ) -> None:
        _build._check_mode(mode)
        if not max_snap_m > 0:
            raise ParameterError(f"max_snap_m must be > 0 metres, got {max_snap_m!r}")
        self.node_id = np.asarray(node_id)
        self.lat = np.asarray(lat, dtype=float)
        self.lon = np.asarray(lon, dtype=float)
        n = len(self.node_id)
        u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        time_s, length_m = np.asarray(time_s, dtype=float), np.asarray(length_m, dtype=float)
        if n == 0 or len(u) == 0:
            raise NetworkError("a road network needs at least one node and one edge")
        if not (len(u) == len(v) == len(time_s) == len(length_m)):
            raise NetworkError("edge arrays u, v, time_s, length_m differ in length")
        if u.min() < 0 or v.min() < 0 or max(u.max(), v.max()) >= n:
            raise NetworkError("edge endpoints must be node positions 0..n-1")
        if not (np.isfinite(time_s).all() and (time_s > 0).all()):
            raise NetworkError("edge travel times must be finite and > 0 seconds")
        self.mode = mode
        self.max_snap_m = float(max_snap_m)
        self.graph = graph
        self.time_column = f"{mode}_s"
        self._router = Router(u, v, time_s, length_m, n)
        self._xyz = _in.xyz(self.lat, self.lon)
        self._tree = cKDTree(self._xyz)
        # straight-line metres per second an edge can cover at most (bounds bounded searches)
        ru, rv = self._router.fu, self._router.fv
        chord = np.sqrt(((self._xyz[ru] - self._xyz[rv]) ** 2).sum(axis=1))
        self._max_speed_mps = float((chord / self._router.fw).max()) if len(ru) else 0.0

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def from_graph(
        cls, G: nx.MultiDiGraph, mode: str | None = None, *, max_snap_m: float = 1000.0
    ) -> RoadNetwork:
        """Wrap an osmnx graph in EPSG:4326 with ``travel_time`` (s) and ``length`` (m) edges.

        ``mode`` defaults to the graph's ``relaynet_mode`` attribute, else ``"drive"``.
        """
        crs = G.graph.get("crs")
        if crs is not None and ox.projection.is_projected(crs):
            raise NetworkError(f"graph CRS {crs} is projected; expected unprojected {CRS}")
        nodes = list(G.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        try:
            lon = np.fromiter((G.nodes[x]["x"] for x in nodes), dtype=float, count=len(nodes))
            lat = np.fromiter((G.nodes[x]["y"] for x in nodes), dtype=float, count=len(nodes))
            rows = [
                (index[a], index[b], d["travel_time"], d["length"])
                for a, b, d in G.edges(data=True)
            ]
        except KeyError as exc:
            raise NetworkError(
                f"graph lacks node x/y or edge travel_time/length attribute {exc}; "
                "run osmnx add_edge_speeds and add_edge_travel_times first"
            ) from exc
        edges = np.array(rows, dtype=float).reshape(-1, 4)
        return cls(
            np.asarray(nodes),
            lat,
            lon,
            edges[:, 0].astype(np.int64),
            edges[:, 1].astype(np.int64),
            edges[:, 2],
            edges[:, 3],
            mode=mode or G.graph.get("relaynet_mode", "drive"),
            max_snap_m=max_snap_m,
            graph=G,
        )

    @classmethod
    def from_osm_file(
        cls,
        path: str | os.PathLike,
        mode: str = "drive",
        *,
        max_snap_m: float = 1000.0,
        speeds_kmh: dict[str, float] | None = None,
        fallback_kmh: float = _build.FALLBACK_SPEED_KMH,
        walk_speed_kmh: float = _build.WALK_SPEED_KMH,
    ) -> RoadNetwork:
        """Build the ``mode`` road network of a local OSM extract, offline.

        Ways are filtered by highway type (:data:`DRIVE_HIGHWAYS`, :data:`WALK_HIGHWAYS`)
        with pyosmium, the graph is built and simplified by osmnx ``graph_from_xml`` (one-way
        streets respected when driving, every way two-way when walking), reduced to its
        largest strongly connected component, and timed: driving uses the way's ``maxspeed``
        when tagged, else :data:`DEFAULT_SPEEDS_KMH` by highway type (``fallback_kmh`` for
        other types); walking uses ``walk_speed_kmh`` everywhere.

        Parameters
        ----------
        path : path
            ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf`` extract.
        mode : {"drive", "walk"}
        max_snap_m : float
            Off-road limit in metres (see the class).
        speeds_kmh : dict, optional
            Highway type → km/h, replacing :data:`DEFAULT_SPEEDS_KMH`.

        Warns
        -----
        ClippedExtractWarning
            When ways reference nodes missing from the extract: those ways are dropped and
            the warning says how many.

        Raises
        ------
        NetworkError
            Missing or unreadable file, or no road of this mode in it.
        """
        G = _build.graph_from_osm_file(path, mode, speeds_kmh, fallback_kmh, walk_speed_kmh)
        return cls.from_graph(G, mode, max_snap_m=max_snap_m)

    @classmethod
    def load(cls, path: str | os.PathLike, *, max_snap_m: float = 1000.0) -> RoadNetwork:
        """Read a GraphML graph written by :meth:`save` (or osmnx, with travel times)."""
        path = Path(path)
        if not path.is_file():
            raise NetworkError(f"{path}: cached road graph not found")
        try:
            G = ox.load_graphml(path)
        except Exception as exc:  # noqa: BLE001 - any parse failure is one clear error
            raise NetworkError(f"{path}: not a readable GraphML road graph ({exc})") from exc
        return cls.from_graph(G, max_snap_m=max_snap_m)

    @classmethod
    def _download(
        cls,
        kind: str,
        query: Any,
        key: str,
        mode: str,
        cache_dir: Any,
        timeout_s: float,
        max_snap_m: float,
        refresh: bool,
    ) -> RoadNetwork:
        _build._check_mode(mode)
        target = _build.cache_path(cache_dir, key, mode)
        if target.is_file() and not refresh:
            return cls.load(target, max_snap_m=max_snap_m)
        try:
            G = _build.download_graph(kind, query, mode, timeout_s)
        except NetworkError as exc:
            raise NetworkError(
                f"no cached road graph at {target} and the download failed ({exc}); build one "
                "offline with RoadNetwork.from_osm_file or pass a GraphML file to RoadNetwork.load"
            ) from exc
        G = _build.finish_graph(G, mode)
        net = cls.from_graph(G, mode, max_snap_m=max_snap_m)
        net.save(target)
        return net

    @classmethod
    def from_place(
        cls,
        place: str,
        mode: str = "drive",
        *,
        cache_dir: str | os.PathLike | None = None,
        timeout_s: float = 30.0,
        max_snap_m: float = 1000.0,
        refresh: bool = False,
    ) -> RoadNetwork:
        """Road network of a named place (osmnx ``graph_from_place``), cached as GraphML.

        The cache file is ``<cache_dir>/<place>_<mode>.graphml`` (``cache_dir`` defaults to
        ``$RELAYNET_CACHE`` or ``~/.cache/relaynet``); when it exists no request is made. A
        download first checks within 5 s that the servers answer, and every request times
        out after ``timeout_s`` seconds: offline without a cache raises
        :class:`~relaynet.errors.NetworkError` quickly instead of hanging.
        """
        return cls._download("place", place, place, mode, cache_dir, timeout_s, max_snap_m, refresh)

    @classmethod
    def from_bbox(
        cls,
        bbox: tuple[float, float, float, float],
        mode: str = "drive",
        *,
        cache_dir: str | os.PathLike | None = None,
        timeout_s: float = 30.0,
        max_snap_m: float = 1000.0,
        refresh: bool = False,
    ) -> RoadNetwork:
        """Road network inside ``bbox = (west, south, east, north)`` degrees (see from_place)."""
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise ParameterError(f"bbox must be (west, south, east, north), got {bbox!r}")
        key = "bbox_" + "_".join(f"{x:.5f}" for x in bbox)
        return cls._download(
            "bbox", tuple(bbox), key, mode, cache_dir, timeout_s, max_snap_m, refresh
        )

    # -- graph export ---------------------------------------------------------------------

    def to_networkx(self) -> nx.MultiDiGraph:
        """The osmnx graph (rebuilt from the arrays, fastest parallel edge only, if needed)."""
        if self.graph is not None:
            return self.graph
        r = self._router
        G = nx.MultiDiGraph(crs=CRS, relaynet_mode=self.mode)
        ids = self.node_id.tolist()
        G.add_nodes_from(
            (ids[i], {"x": x, "y": y}) for i, (x, y) in enumerate(zip(self.lon, self.lat))
        )
        G.add_edges_from(
            (ids[a], ids[b], {"travel_time": t, "length": ln})
            for a, b, t, ln in zip(r.fu.tolist(), r.fv.tolist(), r.fw.tolist(), r.fl.tolist())
        )
        return G

    def save(self, path: str | os.PathLike) -> Path:
        """Write the graph as GraphML (atomic), readable by :meth:`load` offline."""
        from ..io import atomic_path

        G = self.to_networkx()
        G.graph["relaynet_mode"] = self.mode
        with atomic_path(path) as tmp:
            ox.save_graphml(G, tmp)
        return Path(path)

    # -- description ----------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of directed edges (parallel edges merged)."""
        return self._router.n_edges

    def summary(self) -> dict[str, Any]:
        """Nodes, edges, mode, total road length (km) and bounds (west, south, east, north)."""
        return {
            "mode": self.mode,
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "road_km": float(self._router.fl.sum() / 1000.0),
            "bounds": (
                float(self.lon.min()),
                float(self.lat.min()),
                float(self.lon.max()),
                float(self.lat.max()),
            ),
            "max_snap_m": self.max_snap_m,
        }

    def __repr__(self) -> str:
        return (
            f"RoadNetwork(mode={self.mode!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
            f"max_snap_m={self.max_snap_m:g})"
        )

    # -- queries --------------------------------------------------------------------------

    def snap(self, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        """Nearest graph node of each coordinate and its great-circle distance in metres."""
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        chord, node = self._tree.query(_in.xyz(lat, lon))
        return np.asarray(node, dtype=np.int64), _in.chord_to_arc(np.asarray(chord))

    def _sources(self, points: gpd.GeoDataFrame, where: _in.Where | None):
        """Eligible on-road points: their distinct nodes and a node → points grouping."""
        pid, plat, plon = _in.points_latlon(points)
        usable = _in.eligible(points, where)
        node, snap_m = self.snap(plat, plon) if len(pid) else (np.array([], np.int64), np.array([]))
        off = usable & (snap_m > self.max_snap_m)
        if off.any():
            logger.warning(
                "%d eligible point(s) farther than %g m from the %s network are ignored",
                int(off.sum()),
                self.max_snap_m,
                self.mode,
            )
        usable &= ~off
        idx = np.flatnonzero(usable)
        src_nodes, inverse = np.unique(node[idx], return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        grouped = idx[order]  # point positions, grouped by source, input order within
        start = np.zeros(len(src_nodes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(inverse, minlength=len(src_nodes)), out=start[1:])
        return pid, plat, plon, src_nodes, grouped, start

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
        search (see :meth:`Router.nearest_sources`). Points snapped to the same node are
        distinct points at the same time.

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
            Points farther than this travel time (seconds) are not returned.

        Returns
        -------
        pandas.DataFrame
            The access table, exactly ``k`` rows per place in place order then rank:
            ``demand_id, rank, point_id, distance_m`` (great circle, metres), ``name,
            network, kind``, then ``drive_s`` / ``walk_s`` (seconds, node to node),
            ``road_m`` (metres along that fastest path), ``snap_m`` (place to its node,
            metres) and ``off_road`` (``snap_m > max_snap_m``: no result). ``point_id`` is
            missing and the numbers NaN when fewer than ``k`` points are reachable.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ParameterError(f"k must be an integer >= 1, got {k!r}")
        limit = _in.check_time(max_time_s)
        ids, lat, lon = _in.places_latlon(places)
        pid, plat, plon, src_nodes, grouped, start = self._sources(points, where)
        node, snap_m = self.snap(lat, lon) if len(ids) else (np.array([], np.int64), np.array([]))
        off = snap_m > self.max_snap_m

        t0 = time.perf_counter()
        labels = self._router.nearest_sources(src_nodes, k, limit)
        logger.debug(
            "road search: %d sources, k=%d, %.3f s", len(src_nodes), k, time.perf_counter() - t0
        )
        m = len(ids)
        lab = labels.source[node]  # (m, k) source index per rank
        tim = labels.time_s[node]
        rdm = labels.length_m[node]
        # expand each source node into its points: candidates (m, k * k), keep the first k
        count = np.diff(start)
        cand_pt = np.full((m, k * k), -1, dtype=np.int64)
        cand_t = np.full((m, k * k), np.nan)
        cand_r = np.full((m, k * k), np.nan)
        for r in range(k):
            s = lab[:, r]
            for j in range(k):
                ok = (s >= 0) & (count[s.clip(0)] > j) if len(count) else np.zeros(m, bool)
                c = r * k + j
                cand_pt[ok, c] = grouped[start[s[ok]] + j]
                cand_t[ok, c] = tim[ok, r]
                cand_r[ok, c] = rdm[ok, r]
        cand_pt[off] = -1
        pick = np.argsort(cand_pt < 0, axis=1, kind="stable")[:, :k]
        rows = np.arange(m)[:, None]
        best = cand_pt[rows, pick].ravel()
        found = best >= 0
        t = np.where(found, cand_t[rows, pick].ravel(), np.nan)
        road = np.where(found, cand_r[rows, pick].ravel(), np.nan)

        safe = best.clip(0)
        plc = np.repeat(np.arange(m), k)
        dist = np.full(m * k, np.nan)
        dist[found] = _in.haversine_m(
            lat[plc[found]], lon[plc[found]], plat[best[found]], plon[best[found]]
        )
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
        table[self.time_column] = t
        table["road_m"] = road
        table["snap_m"] = snap_m[plc]
        table["off_road"] = off[plc]
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
        reach in ``max_time_s`` (exact; no dense place × point matrix). Off-road places and
        points (beyond ``max_snap_m``) get no pairs.

        Returns
        -------
        pandas.DataFrame
            ``demand_id, point_id, drive_s`` (or ``walk_s``, seconds), sorted by place order
            then time then point order.
        """
        limit = _in.check_time(max_time_s)
        if not np.isfinite(limit):
            raise ParameterError("within() needs a finite max_time_s")
        ids, lat, lon = _in.places_latlon(places)
        pid, _, _, src_nodes, grouped, start = self._sources(points, where)
        node, snap_m = self.snap(lat, lon) if len(ids) else (np.array([], np.int64), np.array([]))
        on = np.flatnonzero(snap_m <= self.max_snap_m)
        tgt_nodes, tgt_inv = np.unique(node[on], return_inverse=True)
        reach = limit * self._max_speed_mps * 1.000001
        si, ti, tt = self._router.pairs_within(src_nodes, tgt_nodes, limit, self._xyz, reach)
        # expand node pairs into (place, point) pairs
        t_order = np.argsort(tgt_inv, kind="stable")
        t_start = np.zeros(len(tgt_nodes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(tgt_inv, minlength=len(tgt_nodes)), out=t_start[1:])
        n_src = np.diff(start)[si]
        n_tgt = np.diff(t_start)[ti]
        rep = n_src * n_tgt
        pair = np.repeat(np.arange(len(si)), rep)
        offset = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
        p_pos = grouped[start[si[pair]] + offset // n_tgt[pair]]
        d_pos = on[t_order[t_start[ti[pair]] + offset % n_tgt[pair]]]
        order = np.lexsort((p_pos, tt[pair], d_pos))
        d_pos, p_pos, times = d_pos[order], p_pos[order], tt[pair][order]
        return pd.DataFrame(
            {
                "demand_id": pd.array(ids[d_pos], dtype="str"),
                "point_id": pd.array(pid[p_pos], dtype="str"),
                self.time_column: times.astype(float),
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

        For every point (snapped to its node) one bounded search on the reversed graph
        (travel towards the point) finds the nodes within each time; the polygon is the
        concave hull (shapely ``concave_hull``, ``ratio``) of those nodes in a local UTM
        projection, buffered by ``buffer_m`` metres so that one or two nodes still give an
        area. Off-road points get no rows.

        Returns
        -------
        geopandas.GeoDataFrame
            ``point_id, minutes, time_s, nodes, geometry`` (EPSG:4326), one row per point and
            time, larger times last.
        """
        mins = np.unique(np.atleast_1d(np.asarray(minutes, dtype=float)))
        if mins.size == 0 or not (mins > 0).all():
            raise ParameterError(f"minutes must be positive numbers, got {minutes!r}")
        pid, plat, plon = _in.points_latlon(points)
        node, snap_m = self.snap(plat, plon) if len(pid) else (np.array([], np.int64), np.array([]))
        keep = np.flatnonzero(snap_m <= self.max_snap_m)
        utm = gpd.GeoSeries(
            gpd.points_from_xy([np.median(self.lon)], [np.median(self.lat)]), crs=CRS
        ).estimate_utm_crs()
        to_m = Transformer.from_crs(CRS, utm, always_xy=True)
        x, y = to_m.transform(self.lon, self.lat)
        rows: list[dict[str, Any]] = []
        geoms = []
        uniq, inv = np.unique(node[keep], return_inverse=True)
        times = self._router.times_from(uniq, float(mins.max() * 60.0))
        for i, p in enumerate(keep):
            dist = times[inv[i]]
            for mnt in mins:
                reach = np.flatnonzero(dist <= mnt * 60.0)
                hull = shapely.concave_hull(
                    shapely.multipoints(np.column_stack([x[reach], y[reach]])), ratio=ratio
                )
                geoms.append(hull.buffer(buffer_m))
                rows.append(
                    {
                        "point_id": pid[p],
                        "minutes": float(mnt),
                        "time_s": float(mnt * 60.0),
                        "nodes": len(reach),
                    }
                )
        frame = pd.DataFrame(rows, columns=["point_id", "minutes", "time_s", "nodes"])
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=utm)).to_crs(CRS)
        out["point_id"] = out["point_id"].astype("str")
        out["nodes"] = out["nodes"].astype(np.int64)
        return out
