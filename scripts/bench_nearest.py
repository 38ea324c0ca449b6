"""Benchmark: filtered k-nearest queries and vectorized opening hours (not a test).

Builds 20 000 relay points and 1 000 000 demand points clustered over metropolitan France
(fixed seed; opening hours drawn from the bundled La Poste strings), then times in one run:

(a)  unfiltered k=5 with a plain scikit-learn BallTree (haversine, on a 200 000 sample)
     — and, for reference,
     a plain scipy cKDTree on unit vectors;
(b)  relaynet ``Locator`` k=5 with an hours+service filter leaving ~30 % and ~3 % of the
     points eligible (array core ``Locator.query`` and the full access table
     ``Locator.nearest``);
(c)  geopandas ``sjoin_nearest`` (k=1) on the filtered subset, the naive peer, on a sample
     of demand (extrapolated);
(d)  hours: ``is_open`` for 100 000 points at one datetime, and their weekly matrix
     (100 000 × 672 quarter-hours).

Run: ``.venv/bin/python scripts/bench_nearest.py``. Figures are wall-clock on this machine.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source tree

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.neighbors import BallTree

from relaynet import hours
from relaynet.eligibility import Eligibility
from relaynet.nearest import Locator, unit_vectors

SEED = 20261128
N_POINTS = 20_000
N_DEMAND = 1_000_000
K = 5
DATA = Path(__file__).resolve().parent.parent / "data" / "laposte_points.parquet"


def clustered(n: int, centres: np.ndarray, weights: np.ndarray, rng) -> tuple[np.ndarray, ...]:
    """70 % around weighted town centres (σ 2–25 km), 30 % uniform over France's box."""
    n_c = int(n * 0.7)
    pick = rng.choice(len(centres), n_c, p=weights)
    sigma = rng.uniform(0.02, 0.25, len(centres))[pick]
    lat = np.r_[centres[pick, 0] + rng.normal(0, sigma), rng.uniform(42.5, 51.0, n - n_c)]
    lon = np.r_[centres[pick, 1] + rng.normal(0, sigma * 1.4), rng.uniform(-4.5, 8.0, n - n_c)]
    return np.clip(lat, 41.5, 51.5), np.clip(lon, -5.5, 9.5)


def timed(func, *args, repeat: int = 1, **kwargs):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    rng = np.random.default_rng(SEED)
    centres = np.column_stack([rng.uniform(43.0, 50.5, 300), rng.uniform(-4.0, 7.5, 300)])
    weights = rng.pareto(1.2, 300) + 0.05
    weights /= weights.sum()
    real_hours = gpd.read_parquet(DATA, columns=["opening_hours", "geometry"])["opening_hours"]
    plat, plon = clustered(N_POINTS, centres, weights, rng)
    points = gpd.GeoDataFrame(
        {
            "point_id": [f"P{i:05d}" for i in range(N_POINTS)],
            "name": [f"Point {i}" for i in range(N_POINTS)],
            "network": rng.choice(["mondial_relay", "la_poste", "inpost"], N_POINTS),
            "kind": rng.choice(["counter", "locker", "post_office"], N_POINTS),
            "opening_hours": rng.choice(real_hours.to_numpy(object), N_POINTS),
            "services": np.where(
                rng.uniform(size=N_POINTS) < 0.55, "dropoff;pickup;returns", "pickup"
            ),
        },
        geometry=gpd.points_from_xy(plon, plat),
        crs="EPSG:4326",
    )
    dlat, dlon = clustered(N_DEMAND, centres, weights, rng)
    print(f"{N_POINTS} points, {N_DEMAND} demand points, k={K}; seed {SEED}\n")

    # (a) plain BallTree (haversine), unfiltered
    coords = np.radians(np.column_stack([plat, plon]))
    queries = np.radians(np.column_stack([dlat, dlon]))
    t_build, tree = timed(BallTree, coords, metric="haversine")
    n_a = 200_000  # haversine BallTree is slow: time a sample, report queries/second
    t_a, _ = timed(tree.query, queries[:n_a], k=K)
    qps_a = n_a / t_a
    print(
        f"(a)  BallTree haversine, unfiltered      {qps_a:>12,.0f} q/s  ({t_a:.2f} s for "
        f"{n_a:,}; build {t_build:.3f} s)"
    )
    xyz = unit_vectors(plat, plon)
    dxyz = unit_vectors(dlat, dlon)
    kd = cKDTree(xyz)
    t_a2, _ = timed(kd.query, dxyz, k=K, workers=-1, repeat=2)
    qps_a2 = N_DEMAND / t_a2
    print(f"(a') cKDTree unit vectors, unfiltered   {qps_a2:>12,.0f} q/s  ({t_a2:.2f} s)")

    # (b) relaynet with hours + service filters
    filters = {
        "~30 %": Eligibility(open_at="2026-11-28 11:00", services={"returns"}),
        "~3 %": Eligibility(open_at="2026-11-28 18:30", services={"returns"}),
    }
    t_loc, locator = timed(Locator, points)
    print(f"     Locator build                      {t_loc:.3f} s")
    results = {}
    for label, where in filters.items():
        t_mask, mask = timed(locator.mask, where)
        t_cold, _ = timed(locator.query, dlat[:1000], dlon[:1000], k=K, where=where)
        t_q, _ = timed(locator.query, dlat, dlon, k=K, where=where, repeat=2)
        t_t, table = timed(locator.nearest, (dlat, dlon), k=K, where=where)
        share = mask.mean()
        results[label] = (share, N_DEMAND / t_q, N_DEMAND / t_t, where)
        print(
            f"(b)  relaynet {label:<6} eligible={share:6.1%}  query {N_DEMAND / t_q:>12,.0f} q/s"
            f" ({t_q:.2f} s) | access table {N_DEMAND / t_t:>10,.0f} q/s ({t_t:.2f} s)"
            f" | mask {t_mask:.3f} s + sub-index {t_cold:.3f} s once"
        )
        del table

    # (c) geopandas sjoin_nearest on the filtered subset (k=1 only), sample
    n_sample = 100_000
    share30, _, _, where30 = results["~30 %"]
    subset = points[locator.mask(where30)].to_crs("EPSG:2154")
    demand = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(dlon[:n_sample], dlat[:n_sample]), crs="EPSG:4326"
    ).to_crs("EPSG:2154")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_c, _ = timed(
            gpd.sjoin_nearest, demand, subset[["point_id", "geometry"]], distance_col="d"
        )
    qps_c = n_sample / t_c
    t_b1, _ = timed(locator.nearest, (dlat[:n_sample], dlon[:n_sample]), k=1, where=where30)
    print(
        f"(c)  geopandas sjoin_nearest k=1, 30 %   {qps_c:>12,.0f} q/s  ({t_c:.2f} s for "
        f"{n_sample:,}; relaynet k=1 same sample: {n_sample / t_b1:,.0f} q/s)"
    )

    print("\nratios (time per query; lower is better for relaynet)")
    for label, (_share, qps_q, qps_t, _) in results.items():
        print(
            f"  (b)/(a)  {label:<6}: query {qps_a / qps_q:.2f} | access table "
            f"{qps_a / qps_t:.2f}    (b)/(a') query {qps_a2 / qps_q:.2f}"
        )
    print(
        f"  (c)/(b) k=1, 30 %: sjoin_nearest is {n_sample / t_b1 / qps_c:.1f}× slower than relaynet"
    )

    # (d) hours
    big = pd.Series(rng.choice(real_hours.to_numpy(object), 100_000))
    hours.Schedules(big)  # warm the per-string parse cache (parsing is once per process)
    t_open, state = timed(hours.is_open, big, "2026-11-28 18:30", repeat=3)
    t_week, matrix = timed(hours.weekly_matrix, big, "2026-11-23", repeat=2)
    print(f"\n(d)  hours, 100 000 points ({big.nunique()} distinct strings):")
    print(f"     is_open at one datetime            {t_open:.3f} s  (target ≤ 0.5 s)")
    print(f"     weekly matrix {matrix.shape}    {t_week:.3f} s  (target ≤ 2 s)")


if __name__ == "__main__":
    main()
