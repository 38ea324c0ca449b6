"""RoadNetwork: drive/walk access by road for every place, with one multi-source search."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from pyproj import Transformer

from ..errors import NetworkError, ParameterError
from ..schema import CRS
from . import _build
from . import _inputs as _in
from . import snap as _snap
from ._search import Router
from .snap import Roads, SnapIndex, Snapped

logger = logging.getLogger(__name__)


class RoadNetwork:
    """A road graph for one travel mode, ready for multi-source nearest-point searches.

    Build it with :meth:`from_osm_file` (small extracts, through osmnx), :meth:`from_pbf`
    (large ``.osm.pbf`` extracts, straight to arrays with pyosmium), :meth:`from_place` /
    :meth:`from_bbox` (osmnx download, cached as GraphML), :meth:`load` (a cached GraphML) or
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
        A place or point farther than this (metres, great circle) from the nearest road is
        *off road*: flagged and left without a result instead of being snapped.
    graph : networkx.MultiDiGraph, optional
        The osmnx graph the arrays come from, kept for :meth:`to_networkx` / :meth:`save`.
    shapes : (offsets, lat, lon), optional
        Edge shapes: the interior vertices (degrees, in travel order, endpoints excluded) of
        edge ``i`` are ``lat[offsets[i]:offsets[i + 1]]``; straight edges when omitted.
    access_speed_kmh : float, optional
        Speed of the access legs in km/h; default :data:`ACCESS_SPEED_KMH` of the mode.

    Notes
    -----
    Places and points snap to the nearest point of the nearest *edge* (its shape), measured
    on the sphere (great-circle arcs between shape vertices, no projection; see
    :mod:`relaynet.network.snap`). A trip runs: the *access leg* from the place to its snapped
    location in a straight line at ``access_speed_kmh``; along the road to one end of that
    edge for the prorated part of the edge's time, in the directions the edge may be
    travelled; the graph; the part of the point's edge up to the point; the point's access
    leg. Place and point on the same edge also reach each other directly along it. Reported
    ``road_m`` is the length along roads (snapped location to snapped location), ``snap_m``
    the place's access leg in metres. Graphs built by relaynet keep only their largest
    strongly connected component, so every node reaches every other one; a place whose
    nearest road lies in a dropped component snaps to the component and its ``snap_m``
    shows it.
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
        shapes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        access_speed_kmh: float | None = None,
    ) -> None:
        u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        time_s, length_m = np.asarray(time_s, dtype=float), np.asarray(length_m, dtype=float)
        if not (len(u) == len(v) == len(time_s) == len(length_m)):
            raise NetworkError("edge arrays u, v, time_s, length_m differ in length")
        try:
            roads = Roads.one_way(u, v, time_s, length_m, shapes)
        except ValueError as exc:
            raise NetworkError(str(exc)) from exc
        self._setup(node_id, lat, lon, roads, mode, max_snap_m, graph, access_speed_kmh)

    def _setup(self, node_id, lat, lon, roads, mode, max_snap_m, graph, access_speed_kmh):
        _build._check_mode(mode)
        if not max_snap_m > 0:
            raise ParameterError(f"max_snap_m must be > 0 metres, got {max_snap_m!r}")
        speed = _build.ACCESS_SPEED_KMH[mode] if access_speed_kmh is None else access_speed_kmh
        if not (isinstance(speed, int | float) and np.isfinite(speed) and speed > 0):
            raise ParameterError(f"access_speed_kmh must be > 0 km/h, got {access_speed_kmh!r}")
        self.node_id = np.asarray(node_id)
        self.lat = np.asarray(lat, dtype=float)
        self.lon = np.asarray(lon, dtype=float)
        n = len(self.node_id)
        u, v, time_s, length_m = roads.edges()
        if n == 0 or len(u) == 0:
            raise NetworkError("a road network needs at least one node and one edge")
        if min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n:
            raise NetworkError("edge endpoints must be node positions 0..n-1")
        if not (np.isfinite(time_s).all() and (time_s > 0).all()):
            raise NetworkError("edge travel times must be finite and > 0 seconds")
        self.mode = mode
        self.max_snap_m = float(max_snap_m)
        self.access_speed_kmh = float(speed)
        self.graph = graph
        self.roads = roads
        self.time_column = f"{mode}_s"
        self._router = Router(u, v, time_s, length_m, n)
        self._xyz = _in.xyz(self.lat, self.lon)
        self._index: SnapIndex | None = None
        # straight-line metres per second an edge can cover at most (bounds bounded searches)
        ru, rv = self._router.fu, self._router.fv
        chord = np.sqrt(((self._xyz[ru] - self._xyz[rv]) ** 2).sum(axis=1))
        self._max_speed_mps = float((chord / self._router.fw).max()) if len(ru) else 0.0

    @classmethod
    def _from_roads(
        cls,
        node_id: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        roads: Roads,
        *,
        mode: str,
        max_snap_m: float,
        access_speed_kmh: float | None,
    ) -> RoadNetwork:
        net = cls.__new__(cls)
        net._setup(node_id, lat, lon, roads, mode, max_snap_m, None, access_speed_kmh)
        return net

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def from_graph(
        cls,
        G: nx.MultiDiGraph,
        mode: str | None = None,
        *,
        max_snap_m: float = 1000.0,
        access_speed_kmh: float | None = None,
    ) -> RoadNetwork:
        """Wrap an osmnx graph in EPSG:4326 with ``travel_time`` (s) and ``length`` (m) edges.

        ``mode`` defaults to the graph's ``relaynet_mode`` attribute, else ``"drive"``. Edge
        ``geometry`` (shapely LineString, from ``u`` to ``v``) is used for snapping when
        present, else the edge is straight.
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
        inner = [
            shapely.get_coordinates(d["geometry"])[1:-1]
            if isinstance(d.get("geometry"), shapely.LineString)
            else np.zeros((0, 2))
            for _, _, d in G.edges(data=True)
        ]
        offsets = np.zeros(len(inner) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in inner], out=offsets[1:])
        coords = np.concatenate(inner) if inner else np.zeros((0, 2))
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
            shapes=(offsets, coords[:, 1], coords[:, 0]),
            access_speed_kmh=access_speed_kmh,
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
        access_speed_kmh: float | None = None,
    ) -> RoadNetwork:
        """Build the ``mode`` road network of a local OSM extract, offline, through osmnx.

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
        access_speed_kmh : float, optional
            Speed of the access legs (see the class).

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
        return cls.from_graph(G, mode, max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh)

    @classmethod
    def from_pbf(
        cls,
        path: str | os.PathLike,
        mode: str = "drive",
        *,
        max_snap_m: float = 1000.0,
        speeds_kmh: dict[str, float] | None = None,
        fallback_kmh: float = _build.FALLBACK_SPEED_KMH,
        walk_speed_kmh: float = _build.WALK_SPEED_KMH,
        access_speed_kmh: float | None = None,
    ) -> RoadNetwork:
        """Build the ``mode`` road network of a large OSM file straight into arrays.

        For regional extracts (``.osm.pbf``; ``.osm``/``.osm.gz`` work too): pyosmium reads
        the road ways and their nodes, numpy simplifies the graph, keeps its largest strongly
        connected component and times it, without building an osmnx/networkx graph. The rules
        are those of :meth:`from_osm_file` (same highway filter, one-way rules, speed table
        and simplification), so both give the same travel times on the same file; see
        :mod:`relaynet.network.pbf`. :attr:`graph` is ``None`` (:meth:`to_networkx` rebuilds
        one on demand).

        Parameters are those of :meth:`from_osm_file`.

        Raises
        ------
        NetworkError
            Missing or unreadable file, or no road of this mode in it.
        """
        from .pbf import graph_from_pbf

        g = graph_from_pbf(path, mode, speeds_kmh, fallback_kmh, walk_speed_kmh)
        return cls._from_roads(
            g.node_id,
            g.lat,
            g.lon,
            g.roads,
            mode=mode,
            max_snap_m=max_snap_m,
            access_speed_kmh=access_speed_kmh,
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        max_snap_m: float = 1000.0,
        access_speed_kmh: float | None = None,
    ) -> RoadNetwork:
        """Read a GraphML graph written by :meth:`save` (or osmnx, with travel times)."""
        path = Path(path)
        if not path.is_file():
            raise NetworkError(f"{path}: cached road graph not found")
        try:
            G = ox.load_graphml(path)
        except Exception as exc:  # noqa: BLE001 - any parse failure is one clear error
            raise NetworkError(f"{path}: not a readable GraphML road graph ({exc})") from exc
        return cls.from_graph(G, max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh)

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
        """The osmnx graph (rebuilt from the arrays, with edge shapes, if needed)."""
        if self.graph is not None:
            return self.graph
        r = self.roads
        G = nx.MultiDiGraph(crs=CRS, relaynet_mode=self.mode)
        ids = self.node_id.tolist()
        G.add_nodes_from(
            (ids[i], {"x": x, "y": y}) for i, (x, y) in enumerate(zip(self.lon, self.lat))
        )
        for i in range(len(r)):
            a, b, lo, hi = int(r.a[i]), int(r.b[i]), r.vptr[i], r.vptr[i + 1]
            shape = None
            if hi > lo:
                xy = np.column_stack([r.vlon[lo:hi], r.vlat[lo:hi]])
                ends = np.array([[self.lon[a], self.lat[a]], [self.lon[b], self.lat[b]]])
                shape = np.vstack([ends[:1], xy, ends[1:]])
            for t, forward in ((r.fwd_s[i], True), (r.bwd_s[i], False)):
                if not np.isfinite(t):
                    continue
                data = {"travel_time": float(t), "length": float(r.length_m[i])}
                if shape is not None:
                    data["geometry"] = shapely.LineString(shape if forward else shape[::-1])
                tail, head = (a, b) if forward else (b, a)
                G.add_edge(ids[tail], ids[head], **data)
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
