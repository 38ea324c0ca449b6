"""Benchmark of the dask engine: synthetic demand × 20 000 points, k=1, straight line.

For each size (default 1M, 10M, 30M demand points, generated under /tmp by
``make_synthetic_demand.py`` when missing) a fresh LocalCluster (2 workers × 1 thread,
4 GiB limit each) runs, with one time window as eligibility (Tuesday 10:00):

* ``nearest``: the access table (k=1), written by the workers as Parquet under /tmp;
* ``assess``: coverage KPIs for 5 km (overall, per département, per density class).

Reported: wall time, throughput, and peak memory per worker — the worker processes' peak
RSS (``ru_maxrss``, exact) and the maximum of RSS samples taken every 0.5 s. The peer
measured in the same run: the local engine (``Locator.nearest`` and
``relaynet.coverage.assess`` in this process) on the 1M set.

    python scripts/bench_dask.py                 # 1M, 10M, 30M
    python scripts/bench_dask.py --sizes 1 10    # millions
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from relaynet.distributed import ClusterOptions, assess, nearest  # noqa: E402
from relaynet.eligibility import Eligibility  # noqa: E402

N_POINTS = 20_000
WINDOW = Eligibility(open_at=dt.datetime(2024, 6, 11, 10, 0), reference=dt.date(2024, 6, 10))


def bench_points(seed: int = 7) -> gpd.GeoDataFrame:
    """The 17 703 bundled La Poste points + synthetic lockers near them, 20 000 in all."""
    real = gpd.read_parquet(ROOT / "data" / "laposte_points.parquet")
    extra = N_POINTS - len(real)
    rng = np.random.default_rng(seed)
    base = real.sample(extra, random_state=seed)
    lat = base.geometry.y.to_numpy() + rng.normal(scale=0.02, size=extra)
    lon = base.geometry.x.to_numpy() + rng.normal(scale=0.03, size=extra)
    lockers = gpd.GeoDataFrame(
        {
            "point_id": [f"locker{i:05d}" for i in range(extra)],
            "name": "synthetic locker",
            "network": "lockers",
            "kind": "locker",
            "opening_hours": "Mo-Sa 07:00-21:00",
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    return pd.concat([real, lockers], ignore_index=True)


def ensure_demand(millions: int) -> Path:
    out = Path(f"/tmp/relaynet_demand_{millions}M")
    if not any(out.glob("part.*.parquet")):
        script = ROOT / "scripts" / "make_synthetic_demand.py"
        n = str(millions * 1_000_000)
        subprocess.run([sys.executable, str(script), n, str(out), "--chunk", "500000"], check=True)
    return out


class RssSampler:
    """Max RSS per worker, sampled every ``interval`` seconds with ``client.run``."""

    def __init__(self, client, interval: float = 0.5) -> None:
        self.client, self.interval = client, interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _rss() -> int:
        import psutil

        return psutil.Process().memory_info().rss

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(self._rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:  # noqa: BLE001 - sampling is best effort
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gib(x: float) -> str:
    return f"{x / 2**30:.2f}"


def run_size(millions: int, points: gpd.GeoDataFrame, memory_limit: str) -> dict:
    from distributed import Client, LocalCluster

    source = ensure_demand(millions)
    out = Path(f"/tmp/relaynet_access_{millions}M")
    shutil.rmtree(out, ignore_errors=True)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, memory_limit=memory_limit, dashboard_address=":0"
    )
    row: dict = {"demand": f"{millions}M"}
    try:
        with Client(cluster) as client, RssSampler(client) as sampler:
            options = ClusterOptions(scheduler=client)
            started = time.perf_counter()
            nearest(str(source), points, k=1, where=WINDOW, cluster=options, output=out)
            row["nearest_s"] = time.perf_counter() - started
            started = time.perf_counter()
            result = assess(str(source), points, "5km", WINDOW, windows=None, cluster=options)
            row["assess_s"] = time.perf_counter() - started
            peaks = client.run(_maxrss)
        row["partitions"] = result.n_partitions
        row["places"] = result.n_places
        row["share_5km"] = result.share_covered
        row["p90_m"] = float(result.kpis["p90_distance_m"].iloc[0])
        row["peak_rss_gib"] = "/".join(gib(v) for v in peaks.values())
        row["sampled_rss_gib"] = "/".join(gib(v) for v in sampler.peak.values())
        row["max_worker_gib"] = max(peaks.values()) / 2**30
    finally:
        cluster.close()
        shutil.rmtree(out, ignore_errors=True)
    row["places_per_s"] = row["places"] / (row["nearest_s"] + row["assess_s"])
    return row


def local_peer(points: gpd.GeoDataFrame) -> dict:
    """The local engine on the 1M set, in this process."""
    from relaynet.coverage import assess as local_assess
    from relaynet.nearest import Locator

    demand = gpd.read_parquet(ensure_demand(1))
    started = time.perf_counter()
    Locator(points).nearest(demand, k=1, where=WINDOW)
    nearest_s = time.perf_counter() - started
    started = time.perf_counter()
    result = local_assess(demand, points, "5km", WINDOW, windows=None)
    assess_s = time.perf_counter() - started
    return {
        "demand": "1M local",
        "nearest_s": nearest_s,
        "assess_s": assess_s,
        "places": len(demand),
        "share_5km": result.share_covered,
        "p90_m": float(result.kpis["p90_distance_m"].iloc[0]),
        "peak_rss_gib": gib(_maxrss()) + " (process)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30], help="millions")
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--no-local", action="store_true", help="skip the local-engine peer")
    args = parser.parse_args()
    points = bench_points()
    rows = []
    for millions in args.sizes:
        row = run_size(millions, points, args.memory_limit)
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    base = table.iloc[0]
    table["time_ratio"] = (table["nearest_s"] + table["assess_s"]) / (
        base["nearest_s"] + base["assess_s"]
    )
    table["size_ratio"] = table["places"] / base["places"]
    if not args.no_local:
        peer = local_peer(points)
        print(pd.DataFrame([peer]).to_string(index=False), flush=True)
        one = table[table["demand"] == "1M"]
        if len(one):
            dask_s = float(one["nearest_s"].iloc[0] + one["assess_s"].iloc[0])
            print(f"dask/local time on 1M: {dask_s / (peer['nearest_s'] + peer['assess_s']):.2f}")
    print("\nnoisy figures: shared 2-core machine, other jobs running")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))


if __name__ == "__main__":
    main()
