"""Benchmark relaynet.optimize: national-scale MCLP and the dense-matrix pulp+CBC peer.

Usage::

    .venv/bin/python scripts/bench_optimize.py [--synthetic] [--p 500] [--skip-peer]

1. National scale: ≈35 000 demand points (the bundled French communes with their
   population, or ``--synthetic`` clustered points with population-like weights),
   ≈35 000 candidates (every commune), 10 km standard, MCLP p = 500, HiGHS, gap 0.5 %,
   time limit 120 s. Prints build/solve times, proven gap and peak memory (ru_maxrss).
2. Mid scale (5 000 demand × 2 000 candidates): the same MCLP solved by relaynet and by the
   approach of common peers (dense n×m coverage matrix, one pulp constraint per demand
   row over all covering candidates found by scanning the dense row, CBC), and the ratio.
3. Capacitated (regional): the communes of 13 départements of Occitanie, every commune a
   candidate with 150 parcels/day, La Poste's points fixed with 100 parcels/day,
   0.05 parcels/day per inhabitant, 10 km, MCLP p = 50; against the uncapacitated answer.

Figures are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
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
        f"{sol.bound:,.0f}, proven gap {sol.gap:.4%}; greedy {sol.greedy_objective:,.0f} "
        f"({(sol.objective - sol.greedy_objective) / sol.objective:+.3%} vs greedy)"
    )
    print(
        f"wall {sol.wall_s:.1f} s (greedy {sol.stats['greedy_s']:.2f} s, model pass "
        f"{sol.build_s:.2f} s, HiGHS {sol.solve_s:.1f} s); peak RSS {peak_rss_gib():.2f} GiB"
    )
    ok = sol.gap <= 0.005 and sol.wall_s <= 120 and peak_rss_gib() <= 4
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
        f"{sol.status}, gap {sol.gap:.3%}"
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
            f"{sol.gap:.3%}, {sol.stats['nnz']:,} nnz, greedy {sol.greedy_objective:,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="synthetic clustered demand")
    parser.add_argument("--p", type=int, default=500)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--skip-capacitated", action="store_true")
    args = parser.parse_args()
    if args.synthetic or not DATA.exists():
        demand = synthetic_france(35_000)
        print("demand: synthetic clustered France, 35 000 points")
    else:
        demand = gpd.read_parquet(DATA)
        demand = demand[demand["weight"] > 0].reset_index(drop=True)
        print(f"demand: bundled communes ({len(demand):,}, population weights)")
    if not args.skip_national:
        national(demand, args.p, args.time_limit)
    if not args.skip_peer:
        mid_scale(demand, 50, args.time_limit)
    if not args.skip_capacitated and not args.synthetic and DATA.exists():
        capacitated(demand, args.time_limit)
    print(f"\npeak RSS of the whole run: {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
