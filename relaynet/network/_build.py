"""Building road graphs: OSM extracts (offline), osmnx downloads with a GraphML cache.

The graphs returned here are osmnx ``MultiDiGraph`` objects in EPSG:4326 with, on every
edge, ``length`` (metres), ``speed_kph`` (km/h) and ``travel_time`` (seconds), reduced to their
largest strongly connected component.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import networkx as nx
import numpy as np
import osmium
import osmium.filter
import osmnx as ox

from ..errors import InputError, NetworkError, ParameterError
from ..io.osm import bad_node_coordinates, checked_osm_file

logger = logging.getLogger(__name__)

MODES = ("drive", "walk")
"""Travel modes: ``drive`` (car, one-way streets respected) and ``walk`` (both directions)."""

DRIVE_HIGHWAYS = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "road",
    }
)  # fmt: skip
"""OSM ``highway`` values kept for driving (osmnx's ``drive`` network: no service roads,
tracks or paths). Ways tagged ``area=yes``, ``access=private|no``, ``motor_vehicle=no`` or
``motorcar=no`` are dropped too."""

WALK_HIGHWAYS = frozenset(
    {
        "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
        "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "road",
        "service", "track", "footway", "path", "pedestrian", "steps", "bridleway", "corridor",
    }
)  # fmt: skip
"""OSM ``highway`` values kept for walking (no motorways, no cycleways). Ways tagged
``area=yes``, ``access=private|no`` or ``foot=no`` are dropped."""

DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 110.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 40.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 30.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 15.0,
    "road": 40.0,
}
"""Speed in km/h given to a drive edge whose way has no usable ``maxspeed`` tag, by highway
type (typical French free-flow speeds, a little under the legal limits). An edge with a
``maxspeed`` keeps it (osmnx ``add_edge_speeds``)."""

FALLBACK_SPEED_KMH = 30.0
"""Speed in km/h for a drive edge of a highway type missing from the speed table."""

WALK_SPEED_KMH = 4.8
"""Constant walking speed in km/h (1.33 m/s) for every walk edge."""

ACCESS_SPEED_KMH: dict[str, float] = {"drive": 15.0, "walk": WALK_SPEED_KMH}
"""Speed in km/h of the *access leg*, the straight line from a place (or relay point) to the
point where it joins the road graph, by mode. Driving: 15 km/h, the speed OSRM's car profile
gives service roads, driveways and parking aisles (``highway=service``, which the drive graph
leaves out); walking: :data:`WALK_SPEED_KMH`."""

OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".xml", ".osm.pbf", ".pbf")
"""File endings :func:`graph_from_osm_file` reads (XML, gzip/bzip2 XML or PBF)."""


class ClippedExtractWarning(UserWarning):
    """An OSM extract had ways referencing nodes missing from the file; they were dropped."""


class BadCoordinatesWarning(UserWarning):
    """An OSM file had road ways using a node whose coordinates are not numbers in range
    (``lat="1e99"``, ``nan``, ``91`` …); those ways were left out of the graph."""


@contextmanager
def readable_osm_file(path: Path) -> Iterator[tuple[Path, dict[int, dict[str, str]]]]:
    """:func:`relaynet.io.osm.checked_osm_file` for road files: a copy libosmium reads without
    misreading a coordinate (``1e99`` would be latitude 0, ``nan`` would stop the file)
    and the nodes whose coordinates are not numbers in range; errors as
    :class:`~relaynet.errors.NetworkError`."""
    try:
        with checked_osm_file(path) as (readable, bad):
            yield readable, bad
    except InputError as exc:  # inflating: truncated, corrupt or too large
        detail = str(exc).removeprefix(f"{path}: ")
        raise NetworkError(f"{path}: cannot read OSM data ({detail})") from None
    except osmium.InvalidLocationError as exc:
        raise NetworkError(f"{path}: cannot read OSM data ({exc})") from None


def warn_bad_nodes(path: Path, mode: str, n_ways: int, nodes: dict[int, tuple]) -> None:
    """Say which road ways were left out for nodes with coordinates out of range."""
    shown = "; ".join(
        f"n{node}: lat={lat!r}, lon={lon!r}" for node, (lat, lon) in list(nodes.items())[:3]
    )
    more = f" and {len(nodes) - 3} more nodes" if len(nodes) > 3 else ""
    warnings.warn(
        f"{path}: left out {n_ways} {mode} way(s) using nodes whose coordinates are not "
        f"numbers in range ({shown}{more})",
        BadCoordinatesWarning,
        stacklevel=4,
    )


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ParameterError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


def _keep_way(tags: dict[str, str], mode: str) -> bool:
    """Whether a way with these tags belongs to the ``mode`` network."""
    highway = tags.get("highway")
    if tags.get("area") == "yes" or tags.get("access") in ("private", "no"):
        return False
    if mode == "drive":
        return (
            highway in DRIVE_HIGHWAYS
            and tags.get("motor_vehicle") != "no"
            and tags.get("motorcar") != "no"
        )
    return highway in WALK_HIGHWAYS and tags.get("foot") != "no"


def filter_extract(
    path: Path, out: Path, mode: str, bad: dict[int, dict[str, str]] | None = None
) -> tuple[int, int, int, dict[int, tuple]]:
    """Write to ``out`` (OSM XML) the ``mode`` ways of ``path`` and the nodes they use.

    Ways referencing a node missing from the file (an extract clipped through a way) are
    dropped whole; so are ways using a node whose coordinates are not numbers in range
    (``bad``, from :func:`readable_osm_file`, or out of ±90/±180). Tag and id filtering
    run inside libosmium, so only road ways and their nodes reach Python. Returns
    ``(ways_kept, ways_clipped, ways_with_bad_nodes, {bad node id: (lat, lon) texts})``.
    """
    ways: list[tuple[int, dict[str, str], np.ndarray]] = []
    ways_proc = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for way in ways_proc:
        tags = dict(way.tags)
        if _keep_way(tags, mode) and len(way.nodes) >= 2:
            ways.append((way.id, tags, np.fromiter((r.ref for r in way.nodes), dtype=np.int64)))
    if not ways:
        return 0, 0, 0, {}
    wanted = np.unique(np.concatenate([refs for _, _, refs in ways]))
    nodes_proc = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
        osmium.filter.IdFilter(wanted.tolist())
    )
    found, odd = [], {}
    for n in nodes_proc:
        if n.location.valid():
            found.append((n.id, n.location.lon, n.location.lat))
        elif (coordinates := bad_node_coordinates(n.id, n.location, bad or {})) is not None:
            odd[n.id] = coordinates
    found_ids = np.array(sorted({f[0] for f in found}), dtype=np.int64)
    odd_ids = np.array(sorted(odd), dtype=np.int64)
    kept, dropped, refused, used = [], 0, 0, set()
    for way in ways:
        refs = way[2]
        pos = np.searchsorted(found_ids, refs).clip(0, max(len(found_ids) - 1, 0))
        if found_ids.size and (found_ids[pos] == refs).all():
            kept.append(way)
        elif odd_ids.size and np.isin(refs, odd_ids).any():
            refused += 1
            used.update(refs[np.isin(refs, odd_ids)].tolist())
        else:
            dropped += 1
    odd = {node: odd[node] for node in sorted(used)}
    if not kept:
        return 0, dropped, refused, odd
    needed = np.unique(np.concatenate([refs for _, _, refs in kept]))
    with osmium.SimpleWriter(str(out)) as writer:
        for node_id, x, y in sorted(found):
            i = np.searchsorted(needed, node_id)
            if i < len(needed) and needed[i] == node_id:
                writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(x, y)))
        for way_id, tags, refs in kept:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs.tolist(), tags=tags))
    return len(kept), dropped, refused, odd


def _order_merged_tags(G: nx.MultiDiGraph, speeds_kmh: dict[str, float], fallback_kmh: float):
    """Put the tag lists of simplified edges in a fixed order, in place.

    osmnx's simplification stores the distinct tags of the ways merged into one edge as
    ``list(set(values))``, whose order follows Python's string hashing and so changes from
    one process to the next (``PYTHONHASHSEED``); ``add_edge_speeds`` then prices the edge by
    the *first* ``highway`` value. Here every list is sorted: ``highway`` by speed (km/h, from
    ``speeds_kmh``, else ``fallback_kmh``) then name, so a merged edge gets the slowest of its
    road types' speeds; other lists (``maxspeed``, ``name``, ``osmid`` …) by their text.
    """
    for _, _, data in G.edges(data=True):
        for key, value in data.items():
            if not isinstance(value, list):
                continue
            if key == "highway":
                data[key] = sorted(value, key=lambda h: (speeds_kmh.get(h, fallback_kmh), h))
            else:
                data[key] = sorted(value, key=str)


def finish_graph(
    G: nx.MultiDiGraph,
    mode: str,
    speeds_kmh: dict[str, float] | None = None,
    fallback_kmh: float = FALLBACK_SPEED_KMH,
    walk_speed_kmh: float = WALK_SPEED_KMH,
) -> nx.MultiDiGraph:
    """Largest strongly connected component, edge speeds (km/h) and travel times (s).

    The result does not depend on the process (hash seed): see :func:`_order_merged_tags`.
    """
    if G.number_of_edges() == 0:
        raise NetworkError(f"the {mode} road graph has no edges")
    G = ox.truncate.largest_component(G, strongly=True)
    speeds = dict(DEFAULT_SPEEDS_KMH if speeds_kmh is None else speeds_kmh)
    _order_merged_tags(G, speeds, fallback_kmh)
    if mode == "drive":
        G = ox.add_edge_speeds(G, hwy_speeds=speeds, fallback=fallback_kmh)
    else:
        if not walk_speed_kmh > 0:
            raise ParameterError(f"walk_speed_kmh must be > 0, got {walk_speed_kmh!r}")
        nx.set_edge_attributes(G, float(walk_speed_kmh), "speed_kph")
    G = ox.add_edge_travel_times(G)
    G.graph["relaynet_mode"] = mode
    return G


def graph_from_osm_file(
    path: str | os.PathLike,
    mode: str = "drive",
    speeds_kmh: dict[str, float] | None = None,
    fallback_kmh: float = FALLBACK_SPEED_KMH,
    walk_speed_kmh: float = WALK_SPEED_KMH,
) -> nx.MultiDiGraph:
    """Road graph of a local OSM extract, built offline (see ``RoadNetwork.from_osm_file``).

    The file is read through :func:`readable_osm_file` (the relay-point reader's check):
    a way using a node whose coordinates are not numbers in range is left out with a
    :class:`BadCoordinatesWarning` naming the node, never read as a road at latitude 0.
    """
    _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: OSM extract not found")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise NetworkError(f"{path}: expected an OSM extract ending with one of {OSM_SUFFIXES}")
    with tempfile.TemporaryDirectory(prefix="relaynet-osm-") as tmp:
        out = Path(tmp) / "roads.osm"
        try:
            with readable_osm_file(path) as (readable, bad):
                kept, dropped, refused, odd = filter_extract(readable, out, mode, bad)
        except RuntimeError as exc:  # libosmium parse errors
            raise NetworkError(f"{path}: cannot read OSM data ({exc})") from exc
        if refused:
            warn_bad_nodes(path, mode, refused, odd)
        if dropped:
            msg = (
                f"{path}: dropped {dropped} {mode} way(s) referencing nodes missing from the "
                "extract (clipped extract)"
            )
            warnings.warn(msg, ClippedExtractWarning, stacklevel=3)
        if kept == 0:
            raise NetworkError(f"{path}: no {mode} roads in this extract")
        try:
            G = ox.graph_from_xml(
                out, bidirectional=(mode == "walk"), simplify=True, retain_all=True
            )
        except ValueError as exc:
            raise NetworkError(f"{path}: osmnx could not build the graph ({exc})") from exc
    G.graph["relaynet_source"] = str(path)
    return finish_graph(G, mode, speeds_kmh, fallback_kmh, walk_speed_kmh)


# -- downloads and cache ------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$RELAYNET_CACHE`` or ``~/.cache/relaynet``: where downloaded graphs are kept."""
    return Path(os.environ.get("RELAYNET_CACHE", Path.home() / ".cache" / "relaynet"))


def cache_path(cache_dir: str | os.PathLike | None, key: str, mode: str) -> Path:
    """GraphML file name for a download key (place name or bbox) and mode."""
    slug = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")[:80] or "graph"
    return (
        Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"{slug}_{mode}.graphml"
    )


def is_online(url: str, timeout_s: float) -> bool:
    """Whether a TCP connection to the host of ``url`` opens within ``timeout_s`` seconds."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def download_graph(kind: str, query: object, mode: str, timeout_s: float) -> nx.MultiDiGraph:
    """Download a ``mode`` graph with osmnx (``kind`` = "place" or "bbox") within a timeout."""
    for url in (ox.settings.overpass_url, ox.settings.nominatim_url):
        if kind == "bbox" and url == ox.settings.nominatim_url:
            continue
        if not is_online(url, min(timeout_s, 5.0)):
            raise NetworkError(f"offline: cannot reach {url}")
    saved = ox.settings.requests_timeout
    ox.settings.requests_timeout = timeout_s
    try:
        if kind == "place":
            return ox.graph_from_place(query, network_type=mode, simplify=True)
        return ox.graph_from_bbox(query, network_type=mode, simplify=True)
    except Exception as exc:  # noqa: BLE001 - any download/parse failure becomes one error
        raise NetworkError(f"download failed: {exc}") from exc
    finally:
        ox.settings.requests_timeout = saved
