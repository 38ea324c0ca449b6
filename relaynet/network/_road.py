"""RoadNetwork: drive/walk access by road for every place, with one multi-source search."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import shapely

from ..errors import NetworkError, ParameterError
from ..io.schema import CRS
from . import _build
from . import _inputs as _in
from ._queries import AccessQueries
from ._search import Router
from .snap import Roads, SnapIndex

logger = logging.getLogger(__name__)


class RoadNetwork(AccessQueries):
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

    def by_length(self) -> RoadNetwork:
        """The same roads with metres as costs, for road-distance searches.

        Every road piece costs its length in metres in the directions it may be travelled
        (a zero-length piece 1 mm, so that it still costs a step) and the access legs
        count their straight-line metres (access at 1 m/s): the "time" of a trip on the
        result is door-to-door metres, access legs plus the shortest length along roads.
        Same nodes, pieces and shapes (snapping is unchanged); ``mode`` is kept.
        """
        metres = np.maximum(self.roads.length_m, 1e-3)
        roads = replace(
            self.roads,
            fwd_s=np.where(np.isfinite(self.roads.fwd_s), metres, np.nan),
            bwd_s=np.where(np.isfinite(self.roads.bwd_s), metres, np.nan),
        )
        return RoadNetwork._from_roads(
            self.node_id,
            self.lat,
            self.lon,
            roads,
            mode=self.mode,
            max_snap_m=self.max_snap_m,
            access_speed_kmh=3.6,  # 1 m/s: an access leg costs its metres
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
