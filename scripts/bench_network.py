"""Benchmark relaynet.network: one multi-source search vs one networkx Dijkstra per place.

Two graphs:

* the bundled Andorra extract (``data/osm/andorra.osm.gz``, drive), every graph node a place;
* a synthetic grid of ``side × side`` nodes (default 1000 × 1000 = 1 000 000 nodes, ~4 M
  directed edges, 100 m spacing, random speeds 30–90 km/h per direction).

For each: time ``RoadNetwork.nearest`` (k=1 and k=3) for all places, and a naive per-place
networkx ``single_source_dijkstra_path_length`` (then min over points) on a sample of places,
extrapolated to all places. Prints figures and ratios. The machine may be shared: figures are
noisy.

Usage: ``.venv/bin/python scripts/bench_network.py [--side 1000] [--places 100000]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
import numpy as np

from relaynet.network import RoadNetwork

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _naive(G: nx.DiGraph, place_nodes, point_nodes) -> tuple[np.ndarray, float]:
    """One full networkx Dijkstra per place, min over the points; seconds per place."""
    targets = list(point_nodes)
    out = []
    start = time.perf_counter()
    for p in place_nodes:
        lengths = nx.single_source_dijkstra_path_length(G, p, weight="travel_time")
        out.append(min(lengths.get(t, np.inf) for t in targets))
    return np.array(out), (time.perf_counter() - start) / len(place_nodes)


def _report(name, n_places, t1, t3, per_place, check):
    naive_total = per_place * n_places
    for k, t in ((1, t1), (3, t3)):
        label = f"nearest k={k}, all {n_places:,} places"
        print(f"  {label:<36}: {t:8.3f} s")
    print(f"  naive networkx per place            : {per_place:8.4f} s/place")
    print(f"  naive extrapolated to all places    : {naive_total:10.1f} s")
    print(f"  speed-up k=1 vs naive               : {naive_total / t1:10.0f} x")
    print(f"  speed-up k=3 vs naive               : {naive_total / t3:10.0f} x")
    print(f"  max |relaynet - networkx| on sample : {check:.2e} s")


def bench_andorra(sample: int, seed: int) -> None:
    print("== Andorra extract (drive) ==")
    net, t_build = _timed(RoadNetwork.from_osm_file, ROOT / "data/osm/andorra.osm.gz")
    print(f"  build from OSM (osmnx + CSR)        : {t_build:8.3f} s  {net!r}")
    rng = np.random.default_rng(seed)
    point_nodes = rng.choice(net.n_nodes, 20, replace=False)
    places = (net.lat, net.lon)  # every node is a place
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"point_id": [f"p{i}" for i in range(len(point_nodes))]},
        geometry=gpd.points_from_xy(net.lon[point_nodes], net.lat[point_nodes]),
        crs="EPSG:4326",
    )
    acc1, t1 = _timed(net.nearest, places, pts, k=1)
    _, t3 = _timed(net.nearest, places, pts, k=3)
    G = nx.DiGraph()
    ids = net.node_id
    for a, b, d in net.graph.edges(data=True):  # fastest parallel edge
        if not G.has_edge(a, b) or G[a][b]["travel_time"] > d["travel_time"]:
            G.add_edge(a, b, travel_time=d["travel_time"])
    sample_nodes = rng.choice(net.n_nodes, sample, replace=False)
    want, per_place = _naive(G, ids[sample_nodes], ids[point_nodes])
    got = acc1["drive_s"].to_numpy()[sample_nodes]
    _report("andorra", net.n_nodes, t1, t3, per_place, float(np.max(np.abs(got - want))))


def _grid(side: int, seed: int):
    rng = np.random.default_rng(seed)
    n = side * side
    step_lat = 100.0 / 111_195.0
    step_lon = step_lat / np.cos(np.radians(45.0))
    r, c = np.divmod(np.arange(n), side)
    lat, lon = 45.0 + r * step_lat, 5.0 + c * step_lon
    idx = np.arange(n).reshape(side, side)
    right = (idx[:, :-1].ravel(), idx[:, 1:].ravel())
    up = (idx[:-1, :].ravel(), idx[1:, :].ravel())
    a = np.concatenate([right[0], up[0]])
    b = np.concatenate([right[1], up[1]])
    u, v = np.concatenate([a, b]), np.concatenate([b, a])
    speed = rng.choice([30.0, 50.0, 70.0, 90.0], size=len(u)) / 3.6
    length = np.full(len(u), 100.0)
    return lat, lon, u, v, length / speed, length


def bench_grid(side: int, n_places: int, n_points: int, sample: int, seed: int) -> None:
    print(f"== synthetic grid {side}x{side} ==")
    (lat, lon, u, v, t, length), t_gen = _timed(_grid, side, seed)
    net, t_build = _timed(RoadNetwork, np.arange(len(lat)), lat, lon, u, v, t, length)
    print(f"  build arrays + CSR + KD-tree        : {t_build:8.3f} s  {net!r}")
    rng = np.random.default_rng(seed + 1)
    place_nodes = rng.choice(net.n_nodes, n_places, replace=False)
    point_nodes = rng.choice(net.n_nodes, n_points, replace=False)
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"point_id": [f"p{i}" for i in range(n_points)]},
        geometry=gpd.points_from_xy(lon[point_nodes], lat[point_nodes]),
        crs="EPSG:4326",
    )
    places = (lat[place_nodes], lon[place_nodes])
    acc1, t1 = _timed(net.nearest, places, pts, k=1)
    _, t3 = _timed(net.nearest, places, pts, k=3)
    G, t_nx = _timed(_to_nx, u, v, t)
    print(f"  networkx DiGraph build (not timed)  : {t_nx:8.3f} s")
    pick = rng.choice(n_places, sample, replace=False)
    want, per_place = _naive(G, place_nodes[pick], point_nodes)
    got = acc1["drive_s"].to_numpy()[pick]
    _report("grid", n_places, t1, t3, per_place, float(np.max(np.abs(got - want))))
    pairs, tw = _timed(net.within, places, pts, 300.0)
    print(f"  within 300 s, all places            : {tw:8.3f} s  ({len(pairs):,} pairs)")


def _to_nx(u, v, t) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), t.tolist(), strict=True), "travel_time")
    return G


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1000, help="grid side (nodes = side²)")
    parser.add_argument("--places", type=int, default=100_000, help="places on the grid")
    parser.add_argument("--points", type=int, default=2_000, help="relay points on the grid")
    parser.add_argument("--sample", type=int, default=3, help="places timed with networkx")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bench_andorra(sample=50, seed=args.seed)
    bench_grid(args.side, args.places, args.points, args.sample, args.seed)


if __name__ == "__main__":
    main()
