"""Benchmark of the demand loader on long and wide CSV files beside a plain pandas peer.

Long: synthetic French demand, 0.25 M, 1 M and 2 M rows, ``;``-delimited, seven columns
(``code_insee``, ``nom``, ``population``, ``code_departement``, ``densite``, ``lat``,
``lon``; ~56 bytes a row), 0.1 % bad rows (missing or swapped coordinates, negative or
non-numeric population, duplicate codes, blank lines). Wide: 4 000 columns × 1 row and
× 5 000 rows. Each load runs in a forked child (peak memory = the child's peak RSS above
what it inherited), ``--repeat`` times; min and median seconds are printed with µs a row,
MB/s and the peak, for:

* ``relaynet.io.load_demand`` — pyarrow's CSV reader, then the row checks;
* the same with the ``csv``-module reader only (how every file was read before; still the
  reader for what pyarrow cannot do: quoted newlines, ragged rows, over-long cells);
* the peer: ``pandas.read_csv`` (C engine) + ``geopandas.points_from_xy``, no checks.

With ``--baseline DIR`` (another relaynet source tree, e.g. ``git worktree add
/tmp/relaynet_before <commit>``), that tree's ``load_demand`` is timed too, in a fresh
interpreter (peak = its peak RSS, ``VmHWM``, above the same interpreter's after the imports).

Both relaynet readers must give the same accepted and rejected tables: checked on the
smallest file of each kind. The machine is shared and noisy: read the min and the median.

Run: ``.venv/bin/python scripts/bench_io.py [--sizes 250000 1000000 2000000] [--repeat 3]
[--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from relaynet.io import load_demand, read

HEADER = ["code_insee", "nom", "population", "code_departement", "densite", "lat", "lon"]


def write_long(path: Path, n: int, seed: int = 0) -> int:
    """A demand CSV of ``n`` rows (0.1 % bad); returns the number of lines written after
    the header."""
    rng = np.random.default_rng(seed)
    lat = np.round(rng.uniform(42.5, 50.5, n), 6).astype(str).astype(object)
    lon = np.round(rng.uniform(-4.5, 7.5, n), 6).astype(str).astype(object)
    weight = rng.integers(0, 20_000, n).astype(str).astype(object)
    codes = np.char.zfill(np.arange(n).astype(str), 7).astype(object)
    dept = rng.choice(["01", "13", "2A", "48", "69", "75", "971"], n).astype(object)
    density = rng.choice(["urban", "intermediate", "rural", "1", "4", "7"], n).astype(object)
    names = np.char.add("Commune ", np.arange(n).astype(str)).astype(object)
    bad = rng.choice(n, size=max(n // 1000, 6), replace=False)
    kinds = np.arange(len(bad)) % 6
    lat[bad[kinds == 0]] = ""  # missing coordinates
    lat[bad[kinds == 1]], lon[bad[kinds == 1]] = lon[bad[kinds == 1]], lat[bad[kinds == 1]]
    weight[bad[kinds == 2]] = "-5"
    weight[bad[kinds == 3]] = "n/a"
    codes[bad[kinds == 4]] = codes[0]  # duplicates of the first code
    columns = [codes, names, weight, dept, density, lat, lon]
    lines = pd.Series(columns[0]).str.cat([pd.Series(c) for c in columns[1:]], sep=";")
    lines[bad[kinds == 5]] = ""  # blank lines
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(";".join(HEADER) + "\n")
        handle.write("\n".join(lines.tolist()))
        handle.write("\n")
    return n


def write_wide(path: Path, rows: int, columns: int = 4_000) -> int:
    names = ["code_insee", "population", "lat", "lon"] + [f"c{i}" for i in range(columns - 4)]
    filler = ";".join(["x"] * (columns - 4))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(";".join(names) + "\n")
        for i in range(rows):
            handle.write(f"{i:05d};100;{45 + i / 10**5:.5f};4.5;{filler}\n")
    return rows


def relaynet_load(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the wide files drop columns with a warning
        return load_demand(path)


def csv_module_load(path: Path):
    read._records_arrow = lambda *args: None  # in the forked child only
    return relaynet_load(path)


def peer_load(path: Path):
    frame = pd.read_csv(path, sep=";", dtype={"code_insee": str, "code_departement": str})
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry)


def _in_child(function, *args):
    """Seconds and peak memory (bytes above the inherited RSS) of ``function(*args)``."""

    def target(conn):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        result = function(*args)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows = sum(map(len, result)) if isinstance(result, tuple) else len(result)
        conn.send((seconds, (peak - before) * 1024, rows))
        conn.close()

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=target, args=(child,))
    process.start()
    result = parent.recv()
    process.join()
    return result


_BASELINE = """
import sys, time, warnings
warnings.simplefilter("ignore")
from relaynet.io import load_demand
import relaynet.io.load

def high_water():  # VmHWM: ru_maxrss would keep the parent's peak across exec
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

before = high_water()
start = time.perf_counter()
accepted, rejected = load_demand(sys.argv[1])
seconds = time.perf_counter() - start
print(seconds, (high_water() - before) * 1024, len(accepted) + len(rejected))
"""


def baseline_load(tree: Path, path: Path):
    """Seconds, peak bytes and rows of ``load_demand`` from another source tree."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    out = subprocess.run(
        [sys.executable, "-c", _BASELINE, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def same_tables(path: Path) -> bool:
    fast = relaynet_load(path)
    original = read._records_arrow
    read._records_arrow = lambda *args: None
    try:
        slow = relaynet_load(path)
    finally:
        read._records_arrow = original
    for a, b in zip(fast, slow, strict=True):
        pd.testing.assert_frame_equal(a, b)
    return True


def bench(
    label: str, path: Path, rows: int, repeat: int, skip_slow: bool, tree: Path | None = None
) -> None:
    size = path.stat().st_size
    cases = {"relaynet": relaynet_load, "csv module": csv_module_load, "peer": peer_load}
    if tree is not None:
        cases["baseline"] = None
    results = {}
    for name, function in cases.items():
        if name == "csv module" and skip_slow:
            continue
        if name == "baseline":
            runs = [baseline_load(tree, path) for _ in range(repeat)]
        else:
            runs = [_in_child(function, path) for _ in range(repeat)]
        if name != "peer":
            assert all(r[2] == runs[0][2] for r in runs)
        seconds = [r[0] for r in runs]
        results[name] = (min(seconds), statistics.median(seconds), max(r[1] for r in runs))
    for name, (low, median, peak) in results.items():
        print(
            f"{label:>22} {name:>10} {low:8.2f} {median:8.2f} {1e6 * median / rows:8.2f} "
            f"{size / 1e6 / median:7.1f} {peak / 2**20:8.0f}"
        )
    ours = results["relaynet"][1]
    ratios = [f"peer / relaynet {results['peer'][1] / ours:.2f}"]
    for name in ("csv module", "baseline"):
        if name in results:
            ratios.append(f"{name} / relaynet {results[name][1] / ours:.2f}")
    print(f"{'':>22} {', '.join(ratios)} (medians)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000, 2_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None, help="Older source tree.")
    parser.add_argument(
        "--csv-module-up-to",
        type=int,
        default=2_000_000,
        help="Skip the csv-module reader above this many rows.",
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; pandas {pd.__version__}"
    )
    print(
        f"{'file':>22} {'reader':>10} {'min s':>8} {'median s':>8} {'µs/row':>8} "
        f"{'MB/s':>7} {'peak MiB':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="relaynet_bench_io_") as folder:
        for n in args.sizes:
            path = Path(folder) / f"demand_{n}.csv"
            rows = write_long(path, n)
            if n == min(args.sizes):
                assert same_tables(path)
            size = path.stat().st_size / 1e6
            bench(
                f"{n:,} rows ({size:.0f} MB)",
                path,
                rows,
                args.repeat,
                n > args.csv_module_up_to,
                args.baseline,
            )
            path.unlink()
        for rows in (1, 5_000):
            path = Path(folder) / f"wide_{rows}.csv"
            write_wide(path, rows)
            if rows == 1:
                assert same_tables(path)
            bench(f"4000 cols × {rows:,} rows", path, rows, args.repeat, False)
    print("relaynet and csv-module readers: identical accepted and rejected tables")


if __name__ == "__main__":
    main()
