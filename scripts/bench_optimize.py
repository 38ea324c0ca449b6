"""Benchmark relaynet.optimize: national-scale MCLP and the dense-matrix pulp+CBC peer.

Usage::

    .venv/bin/python scripts/bench_optimize.py [--synthetic] [--p 500] [--skip-peer]
        [--skip-spopt] [--skip-national] [--skip-capacitated] [--repeat 5]

1. National scale: ≈35 000 demand points (the bundled French communes with their
   population, or ``--synthetic`` clustered points with population-like weights),
   ≈35 000 candidates (every commune), 10 km standard, MCLP p = 500, HiGHS, gap 0.5 %,
   time limit 120 s. Prints build/solve times, proven gap and peak memory (ru_maxrss).
2. MCLP 2 000 demand × 500 candidates (uniform over a 150 km square, lognormal weights),
   10 km, p = 50, at the default gap target (1e-4: optimum proven) and at 0.5 %: relaynet
   (repeated; min and median) against spopt's MCLP (dense cost matrix, pulp, HiGHS — install
   spopt in the environment for this; it is not a relaynet dependency). The same instance is
   checked against the plain formulation in tests/test_optimize_reduction.py.
3. Mid scale (5 000 demand × 2 000 candidates): the same MCLP solved by relaynet and by the
   approach of common peers (dense n×m coverage matrix, one pulp constraint per demand
   row over all covering candidates found by scanning the dense row, CBC), and the ratio.
4. Capacitated (regional): the communes of 13 départements of Occitanie, every commune a
   candidate with 150 parcels/day, La Poste's points fixed with 100 parcels/day,
   0.05 parcels/day per inhabitant, 10 km, MCLP p = 50; against the uncapacitated answer.

Figures are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pulp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relaynet.geo import haversine_m, latlon  # noqa: E402
from relaynet.optimize import candidates_from_demand, solve, sparse_coverage  # noqa: E402
from relaynet.standard import Standard  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data" / "communes_demand.parquet"


EARTH_RADIUS_M = 6_371_008.8  # relaynet's sphere, so that both sides cover the same pairs


def pct(value: float | None, digits: int = 4) -> str:
    """A gap as a percentage, or 'not proven' when the solver proved none (None)."""
    return "not proven" if value is None else f"{value:.{digits}%}"


def dense_distances_m(demand: gpd.GeoDataFrame, cands: gpd.GeoDataFrame) -> np.ndarray:
    """The peers' n × m great-circle distance matrix (scikit-learn haversine)."""
    from sklearn.metrics.pairwise import haversine_distances

    a = np.radians(np.column_stack([demand.geometry.y, demand.geometry.x]))
    b = np.radians(np.column_stack([cands.geometry.y, cands.geometry.x]))
    return haversine_distances(a, b) * EARTH_RADIUS_M


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def synthetic_france(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """Clustered points over metropolitan France with heavy-tailed (population-like)
    weights: towns around ~400 centres, plus a uniform rural background."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(-1.5, 7.5, 400), rng.uniform(43.2, 50.5, 400)])
    n_town = int(n * 0.6)
    pick = rng.integers(0, len(centres), n_town)
    spread = rng.gamma(2.0, 0.08, n_town)[:, None]
    town = centres[pick] + rng.normal(0, 1, (n_town, 2)) * spread
    rural = np.column_stack(
        [rng.uniform(-4.5, 8.0, n - n_town), rng.uniform(42.5, 51.0, n - n_town)]
    )
    xy = np.vstack([town, rural])
    weight = np.round(rng.lognormal(5.8, 1.3, n))
    return gpd.GeoDataFrame(
        {"demand_id": [f"s{i:05d}" for i in range(n)], "weight": weight, "area_id": ["00"] * n},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=4326,
    )


def national(demand: gpd.GeoDataFrame, p: int, time_limit: float) -> None:
    cands = candidates_from_demand(demand)
    print(f"\n== national: {len(demand):,} demand × {len(cands):,} candidates, 10 km, MCLP p={p}")
    t0 = time.perf_counter()
    cov = sparse_coverage(demand, cands, Standard(distance_m=10_000))
    t_cov = time.perf_counter() - t0
    print(
        f"sparse coverage: {cov.nnz:,} pairs in {t_cov:.2f} s "
        f"(dense would be {len(demand) * len(cands):,} cells)"
    )
    sol = solve(demand, cands, "10km", model="mclp", p=p, time_limit=time_limit, gap=0.005)
    total = float(demand["weight"].sum())
    print(
        f"status {sol.status}, solver {sol.solver}, model {sol.stats['rows']:,} rows × "
        f"{sol.stats['cols']:,} cols, {sol.stats['nnz']:,} nnz "
        f"({sol.stats['demand']:,} demand → {sol.stats['groups']:,} merged groups, "
        f"{sol.stats['candidates']:,} candidates)"
    )
    print(
        f"objective {sol.objective:,.0f} ({sol.objective / total:.2%} of weight), bound "
        f"{float('nan') if sol.bound is None else sol.bound:,.0f}, proven gap {pct(sol.gap)}; "
        f"greedy {sol.greedy_objective:,.0f} "
        f"({(sol.objective - sol.greedy_objective) / sol.objective:+.3%} vs greedy)"
    )
    print(
        f"wall {sol.wall_s:.1f} s (greedy {sol.stats['greedy_s']:.2f} s, model pass "
        f"{sol.build_s:.2f} s, HiGHS {sol.solve_s:.1f} s); peak RSS {peak_rss_gib():.2f} GiB"
    )
    ok = sol.gap is not None and sol.gap <= 0.005 and sol.wall_s <= 120 and peak_rss_gib() <= 4
    print(f"target (gap ≤ 0.5 %, ≤ 120 s, ≤ 4 GiB): {'MET' if ok else 'NOT MET'}")

    from relaynet.optimize import models, solvers

    inst = models.Instance(
        cov.matrix.indptr,
        cov.matrix.indices,
        cov.cost(),
        demand["weight"].to_numpy(dtype=float),
        np.zeros(len(cands), bool),
        np.ones(len(cands), bool),
        np.ones(len(cands)),
        cov.demand_ids,
    )
    mm = models.build_mclp(inst, p=p)
    t0 = time.perf_counter()
    solvers.to_pulp(mm)
    print(
        f"the same model through the pulp layer (to_pulp, not solved): "
        f"{time.perf_counter() - t0:.1f} s; peak RSS {peak_rss_gib():.2f} GiB"
    )


def dense_peer(demand, cands, radius_m: float, p: int, time_limit: float):
    """The common peer approach: dense n×m distance matrix, then pulp + CBC."""
    t0 = time.perf_counter()
    (lat, lon), (clat, clon) = latlon(demand, "demand"), latlon(cands, "candidates")
    n, m = len(lat), len(clat)
    dist = np.empty((n, m))
    for i in range(n):  # one dense row per demand point (n×m floats in memory)
        dist[i] = haversine_m(lat[i], lon[i], clat, clon)
    cover = dist <= radius_m
    prob = pulp.LpProblem("dense_mclp", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", 0, 1, cat=pulp.LpBinary) for j in range(m)]
    y = [prob.add_variable(f"y{i}", 0, 1, cat=pulp.LpBinary) for i in range(n)]
    w = demand["weight"].to_numpy(dtype=float)
    prob += pulp.lpSum(w[i] * y[i] for i in range(n))
    for i in range(n):
        prob += pulp.lpSum(x[j] for j in range(m) if cover[i, j]) >= y[i]
    prob += pulp.lpSum(x) <= p
    build = time.perf_counter() - t0
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=0.005))
    wall = time.perf_counter() - t0
    return pulp.value(prob.objective), pulp.LpStatus[prob.status], build, wall


def mid_scale(demand_all: gpd.GeoDataFrame, p: int, time_limit: float) -> None:
    rng = np.random.default_rng(1)
    demand = demand_all.iloc[np.sort(rng.choice(len(demand_all), 5000, replace=False))]
    cands = candidates_from_demand(demand.iloc[np.sort(rng.choice(5000, 2000, replace=False))])
    print(f"\n== mid scale: {len(demand):,} demand × {len(cands):,} candidates, 10 km, MCLP p={p}")
    t0 = time.perf_counter()
    sol = solve(
        demand, cands, "10km", model="mclp", p=p, time_limit=time_limit, gap=0.005, engine="pulp"
    )
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    sol_cbc = solve(
        demand, cands, "10km", model="mclp", p=p, time_limit=time_limit, gap=0.005, solver="cbc"
    )
    ours_cbc = time.perf_counter() - t0
    obj, status, build, peer = dense_peer(demand, cands, 10_000, p, time_limit)
    print(
        f"relaynet (pulp + HiGHS): {ours:.2f} s, objective {sol.objective:,.0f}, "
        f"{sol.status}, gap {pct(sol.gap, 3)}"
    )
    print(
        f"relaynet (pulp + CBC):   {ours_cbc:.2f} s, objective {sol_cbc.objective:,.0f}, "
        f"{sol_cbc.status}"
    )
    print(
        f"dense pulp + CBC peer:   {peer:.2f} s (matrix + model build {build:.2f} s), "
        f"objective {obj:,.0f}, {status}"
    )
    print(
        f"ratio peer / relaynet: {peer / ours:.1f}× (HiGHS), {peer / ours_cbc:.1f}× "
        f"(relaynet with CBC); dense matrix alone = "
        f"{len(demand) * len(cands) * 8 / 2**20:.0f} MiB of float64"
    )


def square_instance(n: int = 2000, m: int = 500, side_km: float = 150.0, seed: int = 0):
    """``n`` demand points uniform over a ``side_km`` square of central France with
    population-like (lognormal) weights, and ``m`` candidates drawn among them."""
    rng = np.random.default_rng(seed)
    lat = 45.0 + rng.uniform(0, side_km / 111.2, n)
    lon = 2.0 + rng.uniform(0, side_km / 78.6, n)
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "weight": np.round(rng.lognormal(5.8, 1.3, n))},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    pick = np.sort(np.random.default_rng(seed + 1).choice(n, m, replace=False))
    return demand, candidates_from_demand(demand.iloc[pick])


def spopt_mclp(demand, cands, radius_m: float, p: int, gap: float):
    """The peer: spopt's MCLP from a dense cost matrix, solved by HiGHS through pulp."""
    import warnings

    from spopt.locate import MCLP

    t0 = time.perf_counter()
    dist = dense_distances_m(demand, cands)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(
            dist, demand["weight"].to_numpy(dtype=float), service_radius=radius_m, p_facilities=p
        )
        build = time.perf_counter() - t0
        model.solve(pulp.HiGHS(msg=False, gapRel=gap))
    return pulp.value(model.problem.objective), time.perf_counter() - t0, build


def mclp_mid_size(p: int, repeat: int, time_limit: float) -> None:
    """2 000 × 500, 10 km, p = 50: relaynet against spopt (dense matrix + HiGHS)."""
    try:
        import spopt  # noqa: F401
    except ImportError:
        print("\n== MCLP 2 000 × 500: spopt not installed (pip install spopt), peer skipped")
        return
    demand, cands = square_instance()
    print(
        f"\n== MCLP mid-size: {len(demand):,} demand (uniform, 150 km square) × {len(cands)} "
        f"candidates, 10 km, p={p}; relaynet × {repeat}, spopt × 2 (min, median); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for gap in (1e-4, 0.005):
        ours, sol = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            sol = solve(demand, cands, "10km", model="mclp", p=p, time_limit=time_limit, gap=gap)
            ours.append(time.perf_counter() - t0)
        peer = [spopt_mclp(demand, cands, 10_000, p, gap) for _ in range(2)]
        t_peer = [t for _, t, _ in peer]
        how = "LP bound + local search" if "local search" in sol.solver else "MIP search"
        if "reduce_rounds" in sol.stats:
            how += (
                f" on the model reduced around the start ({sol.stats['reduce_fixed']} columns "
                f"fixed in {sol.stats['reduce_rounds']} round(s), "
                f"{sol.stats['reduced_nnz']:,} nnz left)"
            )
        print(
            f"gap target {gap:g}: relaynet min {min(ours):.2f} s, median {np.median(ours):.2f} s "
            f"({sol.status}, objective {sol.objective:,.0f}, proven gap {pct(sol.gap)}, {how}, "
            f"{sol.stats['nnz']:,} nnz)"
        )
        print(
            f"               spopt dense + HiGHS min {min(t_peer):.2f} s, median "
            f"{np.median(t_peer):.2f} s (building {min(b for _, _, b in peer):.2f} s), "
            f"objective {peer[0][0]:,.0f}"
        )
        print(
            f"               ratio spopt / relaynet: {min(t_peer) / min(ours):.1f}× (min), "
            f"{np.median(t_peer) / np.median(ours):.1f}× (median) [target ≥ 10×]"
        )


OCCITANIE = ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"]


def capacitated(demand: gpd.GeoDataFrame, time_limit: float) -> None:
    points = gpd.read_parquet(DATA.parent / "laposte_points.parquet")
    region = demand[demand["area_id"].isin(OCCITANIE)].reset_index(drop=True)
    cands = candidates_from_demand(region, capacity=150.0)
    print(
        f"\n== capacitated: {len(region):,} communes (Occitanie) × {len(cands):,} candidates "
        "(150 parcels/day), La Poste fixed (100 parcels/day), 0.05 parcels/day per inhabitant, "
        "10 km, MCLP p=50"
    )
    for label, c, pts in (
        ("uncapacitated", cands.assign(capacity=np.nan), points.assign(capacity=np.nan)),
        ("capacitated", cands, points.assign(capacity=100.0)),
    ):
        t0 = time.perf_counter()
        sol = solve(
            region,
            c,
            "10km",
            model="mclp",
            p=50,
            existing=pts,
            demand_rate=0.05,
            time_limit=time_limit,
            gap=0.005,
        )
        wall = time.perf_counter() - t0
        print(
            f"{label:>13}: {wall:.1f} s, status {sol.status}, served {sol.objective:,.0f} of "
            f"{region['weight'].sum():,.0f} (before {sol.covered_weight_before:,.0f}), gap "
            f"{pct(sol.gap, 3)}, {sol.stats['nnz']:,} nnz, greedy {sol.greedy_objective:,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="synthetic clustered demand")
    parser.add_argument("--p", type=int, default=500)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--skip-capacitated", action="store_true")
    parser.add_argument("--skip-spopt", action="store_true", help="skip the 2 000 × 500 MCLP")
    parser.add_argument("--repeat", type=int, default=5, help="relaynet runs of the mid-size MCLP")
    args = parser.parse_args()
    if args.synthetic or not DATA.exists():
        demand = synthetic_france(35_000)
        print("demand: synthetic clustered France, 35 000 points")
    else:
        demand = gpd.read_parquet(DATA)
        demand = demand[demand["weight"] > 0].reset_index(drop=True)
        print(f"demand: bundled communes ({len(demand):,}, population weights)")
    if not args.skip_spopt:
        mclp_mid_size(50, args.repeat, args.time_limit)
    if not args.skip_national:
        national(demand, args.p, args.time_limit)
    if not args.skip_peer:
        mid_scale(demand, 50, args.time_limit)
    if not args.skip_capacitated and not args.synthetic and DATA.exists():
        capacitated(demand, args.time_limit)
    print(f"\npeak RSS of the whole run: {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
