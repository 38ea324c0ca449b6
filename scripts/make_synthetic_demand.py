"""Write N synthetic, France-like clustered demand points as partitioned GeoParquet.

Each point is drawn around a French commune's town hall (communes picked with probability
∝ population, from the bundled ``data/communes_demand.parquet``), with a Gaussian offset
whose spread grows from dense to sparse places (urban 0.8 km, intermediate 2.5 km, rural
4 km): dense cities, diffuse countryside, empty mountains — the clustering of real
addresses. Every point has weight 1 (one address), the commune's ``area_id``
(département) and ``density_class``.

Written chunk by chunk (``part.00000.parquet`` …, ``--chunk`` rows each, one dask
partition per file), so 30 million points never sit in memory at once. Deterministic:
chunk ``i`` uses ``numpy.random.default_rng([seed, i])``.

    python scripts/make_synthetic_demand.py 10_000_000 /tmp/relaynet_demand_10M
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
COMMUNES = ROOT / "data" / "communes_demand.parquet"
SPREAD_M = {"urban": 800.0, "intermediate": 2500.0, "rural": 4000.0}
EARTH_RADIUS_M = 6_371_008.8


def _communes() -> pd.DataFrame:
    frame = gpd.read_parquet(COMMUNES, columns=["area_id", "density_class", "weight", "geometry"])
    frame = frame[frame["weight"] > 0]
    return pd.DataFrame(
        {
            "lat": frame.geometry.y.to_numpy(),
            "lon": frame.geometry.x.to_numpy(),
            "area_id": frame["area_id"].astype(str).to_numpy(object),
            "density_class": frame["density_class"].fillna("rural").astype(str).to_numpy(object),
            "spread_m": frame["density_class"].map(SPREAD_M).fillna(4000.0).to_numpy(float),
            "p": (frame["weight"] / frame["weight"].sum()).to_numpy(float),
        }
    )


def chunk(
    communes: pd.DataFrame, start: int, size: int, seed: int, number: int
) -> gpd.GeoDataFrame:
    """Synthetic demand rows ``start .. start + size - 1`` (deterministic for ``number``)."""
    rng = np.random.default_rng([seed, number])
    pick = rng.choice(len(communes), size=size, p=communes["p"].to_numpy())
    spread = communes["spread_m"].to_numpy()[pick]
    lat0 = communes["lat"].to_numpy()[pick]
    lon0 = communes["lon"].to_numpy()[pick]
    north, east = rng.normal(size=(2, size)) * spread
    lat = np.clip(lat0 + np.degrees(north / EARTH_RADIUS_M), -89.9, 89.9)
    lon = lon0 + np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(lat0))))
    ids = pd.Series(np.arange(start, start + size)).map("s{:09d}".format)
    return gpd.GeoDataFrame(
        {
            "demand_id": ids.to_numpy(object),
            "weight": np.ones(size),
            "area_id": pd.Categorical(communes["area_id"].to_numpy()[pick]),
            "density_class": pd.Categorical(communes["density_class"].to_numpy()[pick]),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def write(n: int, out: Path, *, chunk_rows: int = 1_000_000, seed: int = 42) -> Path:
    """Write ``n`` points to directory ``out`` (replaced) as GeoParquet parts."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    communes = _communes()
    for number, start in enumerate(range(0, n, chunk_rows)):
        size = min(chunk_rows, n - start)
        frame = chunk(communes, start, size, seed, number)
        frame.to_parquet(out / f"part.{number:05d}.parquet", index=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=lambda s: int(s.replace("_", "")), help="number of points")
    parser.add_argument("out", type=Path, help="output directory (replaced)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per part file")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    started = time.perf_counter()
    write(args.n, args.out, chunk_rows=args.chunk, seed=args.seed)
    size = sum(p.stat().st_size for p in args.out.glob("*.parquet"))
    print(
        f"{args.n:,} points → {args.out} ({size / 2**20:.0f} MiB) "
        f"in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
