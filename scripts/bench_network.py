"""Benchmark relaynet.network: one multi-source search vs one networkx Dijkstra per place.

Two graphs:

* the bundled Andorra extract (``data/osm/andorra.osm.gz``, drive), every graph node a place;
* a synthetic grid of ``side × side`` nodes (default 1000 × 1000 = 1 000 000 nodes, ~4 M
  directed edges, 100 m spacing, random speeds 30–90 km/h per direction).

For each: time ``RoadNetwork.nearest`` (k=1 and k=3) for all places, and a naive per-place
networkx ``single_source_dijkstra_path_length`` (then min over points) on a sample of places,
extrapolated to all places.

Then building graphs from OSM files (``--only build`` runs just this part):

* the bundled extracts, ``RoadNetwork.from_osm_file`` (osmnx) vs ``RoadNetwork.from_pbf``
  (pyosmium → arrays): build time, peak memory, and equality of edge times and of the
  answers (nearest point of every node, edge snapping included);
* a synthetic street lattice written as ``.osm.pbf`` with pyosmium into ``/tmp`` (see
  :func:`write_lattice_pbf`; millions of nodes, removed afterwards), built with ``from_pbf``
  (and, for a smaller lattice, with ``from_osm_file`` for the ratio).

Every build runs in a fresh subprocess, ``--repeat`` times: the time is the build call only,
the memory the child's peak resident set (``VmHWM``: ``ru_maxrss`` of a fresh process,
imports included; the baseline of the imports alone is printed). Prints min and median. The
machine may be shared: figures are noisy.

Usage: ``.venv/bin/python scripts/bench_network.py [--side 1000] [--places 100000]
[--only build] [--lattice 3900] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
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


# -- building from OSM files ------------------------------------------------------------------


def write_lattice_pbf(path: Path, side: int, seed: int = 0) -> int:
    """Write a synthetic street lattice as ``.osm.pbf`` with pyosmium; returns its node count.

    Nodes sit on a ``side × side`` lattice of 20 m spacing (around 45°N 5°E); a street runs
    along every 10th row and every 10th column, so junctions are 200 m apart with 9 shape
    nodes between them (about ``side² / 5`` road nodes). Each street is cut into ways of 50
    segments (1 km) with a random road type (residential 50 %, tertiary 20 %, secondary 15 %,
    unclassified 10 %, primary 5 %), 15 % of them one-way (a third of those tagged ``-1``)
    and 30 % with a ``maxspeed`` (30, 50, 70, 90 or "FR:urban"). Half the blocks also hold a
    4-node building way (``building=yes``): nodes the road filter must skip.
    """
    import osmium

    rng = np.random.default_rng(seed)
    step = 20.0 / 111_195.0
    lat0, lon0, coslat = 45.0, 5.0, np.cos(np.radians(45.0))
    street = np.arange(0, side, 10)
    on_road = np.zeros((side, side), bool)
    on_road[street, :] = True
    on_road[:, street] = True
    rr, cc = np.nonzero(on_road)
    ids = rr.astype(np.int64) * side + cc + 1
    lats, lons = lat0 + rr * step, lon0 + cc * step / coslat
    # buildings: 4 nodes inside half of the blocks, ids after the lattice ids
    br, bc = np.meshgrid(street[:-1] + 3, street[:-1] + 3, indexing="ij")
    pick = rng.random(br.size) < 0.5
    br, bc = br.ravel()[pick], bc.ravel()[pick]
    corner = np.array([[0, 0], [0, 4], [4, 4], [4, 0]])
    b_lat = lat0 + (br[:, None] + corner[:, 0]) * step
    b_lon = lon0 + (bc[:, None] + corner[:, 1]) * step / coslat
    b_ids = side * side + 1 + np.arange(b_lat.size).reshape(-1, 4)
    types = np.array(["residential", "tertiary", "secondary", "unclassified", "primary"])
    speeds = np.array(["30", "50", "70", "90", "FR:urban"])
    with osmium.SimpleWriter(str(path)) as w:
        for i, la, lo in zip(ids.tolist(), lats.tolist(), lons.tolist(), strict=True):
            w.add_node(osmium.osm.mutable.Node(id=i, location=(lo, la)))
        for i, la, lo in zip(
            b_ids.ravel().tolist(), b_lat.ravel().tolist(), b_lon.ravel().tolist(), strict=True
        ):
            w.add_node(osmium.osm.mutable.Node(id=i, location=(lo, la)))
        way_id = 1
        for fixed in street:
            for horizontal in (True, False):
                for a in range(0, side - 1, 50):
                    run = np.arange(a, min(a + 51, side))
                    refs = fixed * side + run + 1 if horizontal else run * side + fixed + 1
                    tags = {"highway": str(rng.choice(types, p=[0.5, 0.2, 0.15, 0.1, 0.05]))}
                    if rng.random() < 0.15:
                        tags["oneway"] = "-1" if rng.random() < 1 / 3 else "yes"
                    if rng.random() < 0.3:
                        tags["maxspeed"] = str(rng.choice(speeds))
                    w.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs.tolist(), tags=tags))
                    way_id += 1
        for ring in b_ids.tolist():
            w.add_way(
                osmium.osm.mutable.Way(id=way_id, nodes=[*ring, ring[0]], tags={"building": "yes"})
            )
            way_id += 1
    return int(len(ids) + b_ids.size)


def _peak_mb() -> float:
    """Peak resident set of this process in MB: ``VmHWM``, i.e. ``ru_maxrss`` without the
    part Linux carries over from the parent through fork + exec (the bench process)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(method: str, path: str, mode: str, query: bool) -> None:
    """Run in a subprocess: one build, print JSON figures (peak memory of this process)."""
    import warnings

    warnings.simplefilter("ignore")
    base_mb = _peak_mb()
    build = RoadNetwork.from_pbf if method == "pbf" else RoadNetwork.from_osm_file
    net, t_build = _timed(build, path, mode=mode)
    out = {"build_s": t_build, "nodes": net.n_nodes, "edges": net.n_edges, "base_mb": base_mb}
    if query:
        rng = np.random.default_rng(0)
        n_places = min(100_000, net.n_nodes)
        k = rng.choice(net.n_nodes, n_places, replace=False)
        p = rng.choice(net.n_nodes, min(2000, net.n_nodes // 4), replace=False)
        import geopandas as gpd

        pts = gpd.GeoDataFrame(
            {"point_id": np.arange(len(p)).astype(str)},
            geometry=gpd.points_from_xy(net.lon[p] + 2e-4, net.lat[p] + 1e-4),
            crs="EPSG:4326",
        )
        places = (net.lat[k] - 1e-4, net.lon[k] + 3e-4)
        _, out["query_s"] = _timed(net.nearest, places, pts, k=1)
        out["places"], out["points"] = n_places, len(p)
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out))


def _run_child(method: str, path: Path, mode: str, repeat: int, query: bool = False) -> dict:
    runs = []
    for _ in range(repeat):
        cmd = [sys.executable, __file__, "--child", method, str(path), mode]
        if query:
            cmd.append("--query")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = dict(runs[0])
    for key in ("build_s", "peak_mb", "query_s"):
        if key in out:
            values = [r[key] for r in runs]
            out[key] = (min(values), statistics.median(values))
    return out


def _print_build(label: str, r: dict) -> None:
    bmin, bmed = r["build_s"]
    pmin, pmed = r["peak_mb"]
    print(
        f"  {label:<26}: build {bmin:8.2f} s (median {bmed:8.2f})  peak {pmin:7.0f} MB "
        f"(median {pmed:7.0f}; imports {r['base_mb']:.0f} MB)  {r['nodes']:,} nodes "
        f"{r['edges']:,} edges"
    )
    if "query_s" in r:
        print(
            f"  {'':<26}  nearest k=1, {r['places']:,} places / {r['points']:,} points, snapping "
            f"included: {r['query_s'][0]:.2f} s (median {r['query_s'][1]:.2f})"
        )


def bench_build(lattice: int, small_lattice: int, repeat: int) -> None:
    import warnings

    print("== building from OSM files: osmnx (from_osm_file) vs pyosmium arrays (from_pbf) ==")
    for name, mode in (("andorra", "drive"), ("andorra", "walk"), ("monaco", "drive")):
        path = ROOT / "data" / "osm" / f"{name}.osm.gz"
        a = _run_child("osmnx", path, mode, repeat)
        b = _run_child("pbf", path, mode, repeat)
        print(f"-- {name} ({mode}) --")
        _print_build("from_osm_file (osmnx)", a)
        _print_build("from_pbf (pyosmium)", b)
        print(f"  {'speed-up (min / min)':<26}: {a['build_s'][0] / b['build_s'][0]:6.1f} x")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            na = RoadNetwork.from_osm_file(path, mode=mode)
            nb = RoadNetwork.from_pbf(path, mode=mode)
        ea = {
            (x, y): t
            for x, y, t in zip(na.node_id[na._router.fu], na.node_id[na._router.fv], na._router.fw)
        }
        eb = {
            (x, y): t
            for x, y, t in zip(nb.node_id[nb._router.fu], nb.node_id[nb._router.fv], nb._router.fw)
        }
        same = ea.keys() == eb.keys()
        dt = max(abs(ea[x] - eb[x]) for x in ea) if same else float("nan")
        import geopandas as gpd

        rng = np.random.default_rng(1)
        p = rng.choice(na.n_nodes, 20, replace=False)
        pts = gpd.GeoDataFrame(
            {"point_id": np.arange(20).astype(str)},
            geometry=gpd.points_from_xy(na.lon[p] + 2e-4, na.lat[p] + 1e-4),
            crs="EPSG:4326",
        )
        places = (na.lat - 1e-4, na.lon + 3e-4)  # every node, moved ~25 m off it
        col = na.time_column
        qa, qb = na.nearest(places, pts, k=3)[col], nb.nearest(places, pts, k=3)[col]
        print(
            f"  {'same answers':<26}: edges identical {same}, max |Δ edge time| {dt:.1e} s, "
            f"max |Δ {col}| over {len(qa):,} place×rank {np.nanmax(np.abs(qa - qb)):.1e} s"
        )
    with tempfile.TemporaryDirectory(prefix="relaynet-bench-", dir="/tmp") as tmp:
        for side, methods in ((small_lattice, ("osmnx", "pbf")), (lattice, ("pbf",))):
            path = Path(tmp) / f"lattice_{side}.osm.pbf"
            n_nodes, t_write = _timed(write_lattice_pbf, path, side)
            print(
                f"-- synthetic lattice {side}x{side}: {n_nodes:,} nodes in the file, "
                f"{path.stat().st_size / 1e6:.0f} MB PBF, written in {t_write:.0f} s --"
            )
            res = {m: _run_child(m, path, "drive", repeat, query=(m == "pbf")) for m in methods}
            for m in methods:
                _print_build(
                    "from_osm_file (osmnx)" if m == "osmnx" else "from_pbf (pyosmium)", res[m]
                )
            if len(methods) == 2:
                ratio = res["osmnx"]["build_s"][0] / res["pbf"]["build_s"][0]
                mem = res["osmnx"]["peak_mb"][0] / res["pbf"]["peak_mb"][0]
                print(
                    f"  {'speed-up, memory ratio':<26}: {ratio:6.1f} x faster, "
                    f"{mem:.1f} x less memory"
                )
            path.unlink()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], "--query" in sys.argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1000, help="grid side (nodes = side²)")
    parser.add_argument("--places", type=int, default=100_000, help="places on the grid")
    parser.add_argument("--points", type=int, default=2_000, help="relay points on the grid")
    parser.add_argument("--sample", type=int, default=3, help="places timed with networkx")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["search", "build"], help="run one part only")
    parser.add_argument("--lattice", type=int, default=3900, help="synthetic PBF lattice side")
    parser.add_argument("--small-lattice", type=int, default=800, help="lattice for osmnx")
    parser.add_argument("--repeat", type=int, default=3, help="builds per figure")
    args = parser.parse_args()
    if args.only != "build":
        bench_andorra(sample=50, seed=args.seed)
        bench_grid(args.side, args.places, args.points, args.sample, args.seed)
    if args.only != "search":
        bench_build(args.lattice, args.small_lattice, args.repeat)


if __name__ == "__main__":
    main()
