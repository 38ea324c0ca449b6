"""Road graphs built straight from an OSM file (``.osm.pbf``, ``.osm``, ``.osm.gz``) into arrays.

No networkx graph is ever made: pyosmium reads the road ways (libosmium filters the tags, so
only road ways reach Python) and then the locations of their nodes only, and numpy does the
rest. The result is meant to equal what the osmnx path (:func:`~._build.graph_from_osm_file`,
``graph_from_xml`` + ``simplify_graph`` + ``largest_component`` + ``add_edge_speeds``) gives
on the same file, rule for rule:

* ways: the same highway filter (:func:`~._build._keep_way`); a way referencing a node
  missing from the file is dropped whole (:class:`~._build.ClippedExtractWarning`);
  consecutive repeated nodes are merged;
* direction (drive): osmnx's rules — ``oneway`` in ``yes, true, 1, -1, reverse, T, F`` or
  ``junction=roundabout`` is one-way, ``-1, reverse, T`` run against the node order; walk:
  every way both ways;
* simplification: a node is kept when it is an osmnx *endpoint* (self-loop, no way in or no
  way out, or not exactly two neighbours with degree 2 or 4); the chains of other nodes
  between kept nodes become one edge whose shape is the chain, whose length is the sum of
  the great-circle lengths (osmnx ``great_circle``), whose road type is the slowest of its
  types and whose ``maxspeed`` is the one value, or the mean of the distinct values, of its
  pieces (osmnx's parser); isolated rings are dropped;
* the largest strongly connected component (scipy ``connected_components``);
* speeds: ``maxspeed`` when it parses, else the speed table by road type (a type missing
  from the table: the mean ``maxspeed`` of that type in the graph, else ``fallback_kmh``).

Known difference: where osmnx meets a pattern it warns about ("Unexpected simplify
pattern", parallel one-way pieces running into a two-way chain) the chain is dropped here.
"""

from __future__ import annotations

import logging
import os
import warnings
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import osmium.filter
import osmnx as ox
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import NetworkError
from ..io.osm import bad_node_coordinates
from . import _build
from .snap import Roads

logger = logging.getLogger(__name__)

ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
"""``oneway`` values osmnx reads as one-way."""

REVERSED_VALUES = frozenset({"-1", "reverse", "T"})
"""``oneway`` values osmnx reads as one-way against the node order."""


@dataclass(frozen=True)
class PbfGraph:
    """A road graph read from an OSM file: node ids and coordinates, and its road pieces."""

    node_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    roads: Roads


def _read_ways(path: Path, mode: str):
    """Road ways: flat node refs, ways' ref counts, road type, direction, maxspeed index."""
    types = sorted(_build.DRIVE_HIGHWAYS if mode == "drive" else _build.WALK_HIGHWAYS)
    code = {h: i for i, h in enumerate(types)}
    refs, count, hw, direction, speed = (
        array("q"),
        array("q"),
        array("B"),
        array("b"),
        array("l"),
    )
    maxspeeds: dict[str, int] = {}
    proc = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.TagFilter(*[("highway", h) for h in types])
    )
    for way in proc:
        tags = way.tags
        if not _build._keep_way(tags, mode):
            continue
        nodes = [n.ref for n in way.nodes]
        if len(nodes) < 2:
            continue
        d = 0
        if mode == "drive":
            ow = tags.get("oneway")
            if ow in ONEWAY_VALUES or tags.get("junction") == "roundabout":
                d = -1 if ow in REVERSED_VALUES else 1
        ms = tags.get("maxspeed")
        refs.extend(nodes)
        count.append(len(nodes))
        hw.append(code[tags.get("highway")])
        direction.append(d)
        speed.append(-1 if ms is None else maxspeeds.setdefault(ms, len(maxspeeds)))
    return (
        np.frombuffer(refs, np.int64) if len(refs) else np.zeros(0, np.int64),
        np.frombuffer(count, np.int64) if len(count) else np.zeros(0, np.int64),
        np.frombuffer(hw, np.uint8).astype(np.int64) if len(hw) else np.zeros(0, np.int64),
        np.frombuffer(direction, np.int8) if len(direction) else np.zeros(0, np.int8),
        np.asarray(speed, np.int64),
        types,
        list(maxspeeds),
    )


def _read_nodes(
    path: Path, wanted: np.ndarray, bad: dict[int, dict[str, str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, tuple]]:
    """Ids (sorted), latitudes and longitudes of the ``wanted`` nodes present in the file,
    and ``{id: (lat, lon) texts}`` of those whose coordinates are not numbers in range
    (``bad``: from :func:`~._build.readable_osm_file`)."""
    ids, lon, lat, odd = array("q"), array("d"), array("d"), {}
    proc = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
        osmium.filter.IdFilter(wanted.tolist())
    )
    for node in proc:
        loc = node.location
        if loc.valid():
            ids.append(node.id)
            lon.append(loc.lon)
            lat.append(loc.lat)
        elif (coordinates := bad_node_coordinates(node.id, loc, bad)) is not None:
            odd[node.id] = coordinates
    ids_, lon_, lat_ = (
        np.frombuffer(x, dt) for x, dt in ((ids, np.int64), (lon, float), (lat, float))
    )
    order = np.argsort(ids_, kind="stable")
    return ids_[order], lat_[order], lon_[order], odd


def _clean_speeds(values: list[str]) -> np.ndarray:
    """km/h of each distinct ``maxspeed`` text, NaN when osmnx cannot read it."""
    out = np.full(len(values), np.nan)
    for i, text in enumerate(values):
        kmh = ox.routing._clean_maxspeed(text)
        if kmh is not None:
            out[i] = float(kmh)
    return out


def graph_from_pbf(
    path: str | os.PathLike,
    mode: str = "drive",
    speeds_kmh: dict[str, float] | None = None,
    fallback_kmh: float = _build.FALLBACK_SPEED_KMH,
    walk_speed_kmh: float = _build.WALK_SPEED_KMH,
) -> PbfGraph:
    """Read the ``mode`` road graph of an OSM file into arrays (see the module notes)."""
    _build._check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: OSM extract not found")
    if not path.name.lower().endswith(_build.OSM_SUFFIXES):
        raise NetworkError(
            f"{path}: expected an OSM extract ending with one of {_build.OSM_SUFFIXES}"
        )
    if mode == "walk" and not walk_speed_kmh > 0:
        raise NetworkError(f"walk_speed_kmh must be > 0, got {walk_speed_kmh!r}")
    try:
        with _build.readable_osm_file(path) as (readable, odd_texts):
            refs, count, hw, direction, ms, types, ms_text = _read_ways(readable, mode)
            wanted = np.unique(refs)
            node_ids, node_lat, node_lon, odd = _read_nodes(readable, wanted, odd_texts)
    except RuntimeError as exc:  # libosmium parse errors
        raise NetworkError(f"{path}: cannot read OSM data ({exc})") from exc
    if len(count) == 0:
        raise NetworkError(f"{path}: no {mode} roads in this extract")

    # ways referencing nodes missing from the file, or whose coordinates are not numbers in
    # range, are dropped whole
    way_of = np.repeat(np.arange(len(count)), count)
    pos = np.searchsorted(node_ids, refs).clip(0, max(len(node_ids) - 1, 0))
    missing = (node_ids[pos] != refs) if len(node_ids) else np.ones(len(refs), bool)
    odd_ref = np.isin(refs, np.fromiter(odd, np.int64, len(odd)))
    refused = np.bincount(way_of[odd_ref], minlength=len(count)) > 0
    bad = np.bincount(way_of[missing], minlength=len(count)) > 0
    if refused.any():
        used = set(refs[odd_ref & refused[way_of]].tolist())
        odd = {node: odd[node] for node in sorted(used)}
        _build.warn_bad_nodes(path, mode, int(refused.sum()), odd)
    if (bad & ~refused).any():
        msg = (
            f"{path}: dropped {int((bad & ~refused).sum())} {mode} way(s) referencing nodes "
            "missing from the extract (clipped extract)"
        )
        warnings.warn(msg, _build.ClippedExtractWarning, stacklevel=3)
    if bad.all():
        raise NetworkError(f"{path}: no {mode} roads in this extract")
    keep_ref = ~bad[way_of]
    node = pos[keep_ref]
    way_of = way_of[keep_ref]
    good = np.flatnonzero(~bad)
    renum = np.full(len(count), -1, np.int64)
    renum[good] = np.arange(len(good))
    way_of = renum[way_of]
    hw, direction, ms = hw[good], direction[good], ms[good]
    del refs, pos, missing, keep_ref

    # merge consecutive repeats; run reversed one-ways in their travel direction
    first = np.ones(len(node), bool)
    first[1:] = (node[1:] != node[:-1]) | (way_of[1:] != way_of[:-1])
    node, way_of = node[first], way_of[first]
    start = np.searchsorted(way_of, np.arange(len(good) + 1))
    rev = direction[way_of] < 0
    if rev.any():
        idx = np.arange(len(node))
        idx[rev] = start[way_of[rev]] + start[way_of[rev] + 1] - 1 - idx[rev]
        node = node[idx]

    # directed segments in osmnx's insertion order: each way forward, then backward if two-way
    seg = np.flatnonzero(way_of[1:] == way_of[:-1])  # segment node[seg] -> node[seg + 1]
    su, sv, sw = node[seg], node[seg + 1], way_of[seg]
    two = direction[sw] == 0 if mode == "drive" else np.ones(len(sw), bool)
    eu = np.concatenate([su, sv[two]])
    ev = np.concatenate([sv, su[two]])
    ew = np.concatenate([sw, sw[two]])
    insert = np.lexsort(
        (np.concatenate([seg, seg[two]]), np.r_[np.zeros(len(su)), np.ones(two.sum())], ew)
    )
    eu, ev, ew = eu[insert], ev[insert], ew[insert]
    del seg, su, sv, sw, two, insert, node, way_of

    simple = _simplify(eu, ev, ew, hw, ms, node_lat, node_lon, len(node_ids))
    del eu, ev, ew
    return _finish(
        simple,
        node_ids,
        node_lat,
        node_lon,
        mode,
        types,
        _clean_speeds(ms_text),
        speeds_kmh,
        fallback_kmh,
        walk_speed_kmh,
    )


def _simplify(eu, ev, ew, hw, ms, lat, lon, n):
    """osmnx ``simplify_graph`` on arrays; see the module notes."""
    out_deg = np.bincount(eu, minlength=n)
    in_deg = np.bincount(ev, minlength=n)
    nb = np.unique(np.concatenate([eu * n + ev, ev * n + eu]))
    nbx, nby = np.divmod(nb, n)
    n_nbr = np.bincount(nbx, minlength=n)
    loop = np.zeros(n, bool)
    loop[eu[eu == ev]] = True
    deg = in_deg + out_deg
    endpoint = loop | (in_deg == 0) | (out_deg == 0) | ~((n_nbr == 2) & ((deg == 2) | (deg == 4)))
    used = deg > 0
    endpoint &= used
    # the two neighbours of interstitial nodes (n_nbr == 2)
    first_nb = np.full(n, -1, np.int64)
    second_nb = np.full(n, -1, np.int64)
    starts = np.searchsorted(nbx, np.arange(n))
    two = np.flatnonzero(n_nbr == 2)
    first_nb[two] = nby[starts[two]]
    second_nb[two] = nby[starts[two] + 1]

    # distinct directed pairs, attributes from the first inserted edge (edges are in that order)
    key = eu * n + ev
    pkey, pfirst = np.unique(key, return_index=True)
    pu, pv = np.divmod(pkey, n)
    length_all = ox.distance.great_circle(lat[eu], lon[eu], lat[ev], lon[ev])
    plen = length_all[pfirst]
    phw, pms = hw[ew[pfirst]], ms[ew[pfirst]]

    # edges between two endpoints stay as they are (parallel ones included)
    direct = endpoint[eu] & endpoint[ev]
    d_u, d_v, d_len = eu[direct], ev[direct], length_all[direct]
    d_hw, d_ms = hw[ew[direct]], ms[ew[direct]]

    # chains: from an endpoint into an interstitial node, on until an endpoint
    nxt_node = np.where(pu == first_nb[pv], second_nb[pv], first_nb[pv])
    nxt = np.searchsorted(pkey, pv * n + nxt_node).clip(0, len(pkey) - 1)
    nxt = np.where(pkey[nxt] == pv * n + nxt_node, nxt, -2)  # -2: broken chain
    nxt[endpoint[pv]] = -1
    start_pairs = np.flatnonzero(endpoint[pu] & ~endpoint[pv])
    chain_rows, chain_pairs = [], []
    cur, cid = start_pairs, np.arange(len(start_pairs))
    broken = np.zeros(len(start_pairs), bool)
    for _ in range(len(pkey) + 1):
        if cur.size == 0:
            break
        chain_rows.append(cid)
        chain_pairs.append(cur)
        step = nxt[cur]
        broken[cid[step == -2]] = True
        go = step >= 0
        cur, cid = step[go], cid[go]
    rows = np.concatenate(chain_rows) if chain_rows else np.zeros(0, np.int64)
    prs = np.concatenate(chain_pairs) if chain_pairs else np.zeros(0, np.int64)
    order = np.argsort(rows, kind="stable")  # chain by chain, in walking order
    rows, prs = rows[order], prs[order]
    ok_chain = ~broken
    keep = ok_chain[rows]
    rows, prs = rows[keep], prs[keep]
    ids = np.flatnonzero(ok_chain)
    renum = np.full(len(start_pairs), -1, np.int64)
    renum[ids] = np.arange(len(ids))
    rows = renum[rows]
    n_chain = len(ids)
    c_start = np.searchsorted(rows, np.arange(n_chain + 1))
    c_len = np.add.reduceat(plen[prs], c_start[:-1]) if n_chain else np.zeros(0)
    c_u = pu[prs[c_start[:-1]]] if n_chain else np.zeros(0, np.int64)
    c_v = pv[prs[c_start[1:] - 1]] if n_chain else np.zeros(0, np.int64)
    # interior nodes: heads of every pair but the last of each chain
    last = np.zeros(len(prs), bool)
    last[c_start[1:] - 1] = True
    inner = pv[prs[~last]]
    vptr = np.concatenate([[0], np.cumsum(np.diff(c_start) - 1)]).astype(np.int64)
    # the reverse chain of a two-way road starts with the reverse of this one's last pair
    chain_of_start = np.full(len(pkey), -1, np.int64)
    chain_of_start[prs[c_start[:-1]]] = np.arange(n_chain)
    if n_chain:
        lp = prs[c_start[1:] - 1]
        rkey = pv[lp] * n + pu[lp]
        rp = np.searchsorted(pkey, rkey).clip(0, len(pkey) - 1)
        partner = np.where(pkey[rp] == rkey, chain_of_start[rp], -1)
        partner = np.where(
            (partner >= 0) & (partner[partner.clip(0)] == np.arange(n_chain)), partner, -1
        )
    else:
        partner = np.zeros(0, np.int64)
    # road types and maxspeed texts met along each chain
    c_hw = [phw[prs], rows]
    c_ms = [pms[prs], rows]
    return (d_u, d_v, d_len, d_hw, d_ms), (c_u, c_v, c_len, c_hw, c_ms, vptr, inner, partner)


def _finish(simple, node_ids, lat, lon, mode, types, ms_kmh, speeds_kmh, fallback_kmh, walk_kmh):
    (d_u, d_v, d_len, d_hw, d_ms), (c_u, c_v, c_len, c_hw, c_ms, vptr, inner, partner) = simple
    n_direct, n_chain = len(d_u), len(c_u)
    n = len(node_ids)
    u = np.concatenate([d_u, c_u])
    v = np.concatenate([d_v, c_v])
    length = np.concatenate([d_len, c_len])
    table = dict(_build.DEFAULT_SPEEDS_KMH if speeds_kmh is None else speeds_kmh)
    # a chain's road type: the slowest of its types (then by name), as _order_merged_tags does
    order_key = np.array([(table.get(t, fallback_kmh), t) for t in types], dtype=object)
    rank_of = np.empty(len(types), np.int64)
    rank_of[sorted(range(len(types)), key=lambda i: tuple(order_key[i]))] = np.arange(len(types))
    type_of_rank = np.argsort(rank_of)
    hw_vals, hw_rows = c_hw
    c_rank = np.full(n_chain, len(types), np.int64)
    np.minimum.at(c_rank, hw_rows, rank_of[hw_vals])
    hw = np.concatenate([d_hw, type_of_rank[c_rank]]) if n_chain else d_hw
    # maxspeed: one distinct text -> its value; several -> mean of the readable ones
    kmh = np.full(n_direct + n_chain, np.nan)
    has = d_ms >= 0
    kmh[:n_direct][has] = ms_kmh[d_ms[has]]
    ms_vals, ms_rows = c_ms
    sel = ms_vals >= 0
    if sel.any():
        pair = np.unique(ms_rows[sel] * (len(ms_kmh) + 1) + ms_vals[sel])
        row, val = np.divmod(pair, len(ms_kmh) + 1)
        n_distinct = np.bincount(row, minlength=n_chain)
        single = n_distinct == 1
        first_val = np.full(n_chain, -1, np.int64)
        first_val[row[::-1]] = val[::-1]
        c_kmh = np.full(n_chain, np.nan)
        c_kmh[single] = ms_kmh[first_val[single]]
        many = np.flatnonzero(n_distinct > 1)
        if many.size:
            x = ms_kmh[val]
            ok = np.isfinite(x)
            s = np.bincount(row[ok], weights=x[ok], minlength=n_chain)
            c = np.bincount(row[ok], minlength=n_chain)
            mean = np.where(c > 0, s / np.maximum(c, 1), np.nan)
            c_kmh[many] = mean[many]
        kmh[n_direct:] = c_kmh

    # largest strongly connected component of the simplified graph
    if len(u) == 0:  # only isolated rings, dropped by the simplification (osmnx: no edges)
        raise NetworkError(f"the {mode} road graph has no edges")
    nodes_used = np.unique(np.concatenate([u, v]))
    local = np.searchsorted(nodes_used, u), np.searchsorted(nodes_used, v)
    graph = sp.csr_array((np.ones(len(u)), local), shape=(len(nodes_used), len(nodes_used)))
    _, label = connected_components(graph, directed=True, connection="strong")
    biggest = np.argmax(np.bincount(label))
    in_scc = np.zeros(n, bool)
    in_scc[nodes_used[label == biggest]] = True
    keep = in_scc[u] & in_scc[v]

    if mode == "drive":
        fill = np.array([table.get(t, np.nan) for t in types])
        for code in np.flatnonzero(np.isnan(fill)):
            mine = keep & (hw == code) & np.isfinite(kmh)
            fill[code] = kmh[mine].mean() if mine.any() else fallback_kmh
        speed = np.where(np.isfinite(kmh), kmh, fill[hw])
    else:
        speed = np.full(len(u), float(walk_kmh))
    time_s = (length / 1000) / (speed / (60 * 60))

    # road pieces: a two-way chain and its reverse are one piece
    is_chain = np.r_[np.zeros(n_direct, bool), np.ones(n_chain, bool)]
    part = np.r_[np.full(n_direct, -1), np.where(partner >= 0, partner + n_direct, -1)]
    main = keep & ~(is_chain & (part >= 0) & (part < np.arange(len(u))))
    idx = np.flatnonzero(main)
    bwd = np.where(part[idx] >= 0, part[idx], -1)
    bwd_s = np.where((bwd >= 0) & keep[bwd.clip(0)], time_s[bwd.clip(0)], np.nan)
    # shapes of the kept pieces
    chain_idx = np.where(is_chain[idx], idx - n_direct, -1)
    counts = np.where(chain_idx >= 0, np.diff(vptr)[chain_idx.clip(0)], 0)
    offs = np.zeros(len(idx) + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    within = np.arange(offs[-1]) - np.repeat(offs[:-1], counts)
    shape_nodes = inner[np.repeat(vptr[chain_idx.clip(0)], counts) + within]
    # compress node positions to the component
    new = np.full(n, -1, np.int64)
    kept_nodes = np.flatnonzero(in_scc)
    new[kept_nodes] = np.arange(len(kept_nodes))
    roads = Roads(
        new[u[idx]],
        new[v[idx]],
        time_s[idx],
        bwd_s,
        length[idx],
        offs,
        lat[shape_nodes],
        lon[shape_nodes],
    )
    return PbfGraph(node_ids[kept_nodes], lat[kept_nodes], lon[kept_nodes], roads)
