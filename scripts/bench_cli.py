"""How fast ``relaynet nearest`` answers one place, end to end, in fresh processes.

The query: ``relaynet nearest --at Mende -k 3 --open "Sa 18:00-19:00"`` on the bundled La
Poste points (17 687), and the same without a filter. Each figure is the wall time of a
new process (interpreter start, imports, reading, answer, printing), ``--repeat`` runs:

* *cold*: an empty cache folder for every run (what the first run after installing or
  after editing the points file costs; it also writes the cache);
* *warm*: the cache written by an earlier run (the commune table, the points' accepted
  rows and the filter's eligibility mask are read back instead of computed);
* *warm, new time*: the cache holds the points and communes but each run asks another
  ``--open-at`` time, so the opening hours are evaluated again (the mask is per filter);
* *no cache*: ``RELAYNET_CACHE=off``;
* *baseline* (with ``--baseline DIR``): the same query run by another relaynet source tree,
  e.g. ``git worktree add /tmp/relaynet_before <commit>`` (``python -m relaynet`` with
  ``PYTHONPATH=DIR``).

Beside them, ``python -c "import click"`` and ``python -c "import geopandas"`` measured in
the same run: what starting Python and loading the table library cost at the least.
The machine is shared and noisy: read the min and the median.

Run: ``.venv/bin/python scripts/bench_cli.py [--repeat 7] [--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
QUERY = ["nearest", "--at", "Mende", "-k", "3"]
FILTER = ["--open", "Sa 18:00-19:00"]


def wall(command: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=None, help="Older source tree.")
    args = parser.parse_args()
    relaynet = [str(BIN / "relaynet")]
    base = {k: v for k, v in os.environ.items() if k not in ("RELAYNET_CACHE",)}
    folder = Path(tempfile.mkdtemp(prefix="relaynet_bench_cli_"))
    results: dict[str, list[float]] = {}

    def measure(name: str, command: list[str], env_of_run, cwd: Path | None = None) -> None:
        results[name] = [wall(command, env_of_run(i), cwd) for i in range(args.repeat)]

    def fresh(i: int) -> dict[str, str]:
        return {**base, "RELAYNET_CACHE_DIR": str(folder / f"cold{i}_{time.time_ns()}")}

    warm_env = {**base, "RELAYNET_CACHE_DIR": str(folder / "warm")}
    off_env = {**base, "RELAYNET_CACHE": "off", "RELAYNET_CACHE_DIR": str(folder / "off")}
    try:
        measure("python -c 'import click'", [sys.executable, "-c", "import click"], fresh)
        measure("python -c 'import geopandas'", [sys.executable, "-c", "import geopandas"], fresh)
        for label, extra in (("--open Sa 18-19", FILTER), ("no filter", [])):
            command = relaynet + QUERY + extra
            measure(f"cold ({label})", command, fresh)
            wall(command, warm_env)  # fills the warm cache
            measure(f"warm ({label})", command, lambda i: warm_env)
            measure(f"no cache ({label})", command, lambda i: off_env)
        results["warm, new time (--open-at)"] = [
            wall(
                relaynet + QUERY + ["--open-at", f"2026-12-{1 + i % 28:02d} 10:{i // 28:02d}"],
                warm_env,
            )
            for i in range(args.repeat)
        ]
        if args.baseline is not None:
            tree = args.baseline.resolve()  # run from there: -m looks in the folder first
            before = {**base, "PYTHONPATH": str(tree), "RELAYNET_CACHE": "off"}
            command = [sys.executable, "-m", "relaynet", *QUERY]
            measure("baseline (--open Sa 18-19)", command + FILTER, lambda i: before, tree)
            measure("baseline (no filter)", command, lambda i: before, tree)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"relaynet nearest --at Mende -k 3: {args.repeat} fresh processes each, load {load:.1f}")
    print(f"{'case':34} {'min s':>7} {'median s':>9}")
    for name, times in results.items():
        print(f"{name:34} {min(times):7.3f} {statistics.median(times):9.3f}")


if __name__ == "__main__":
    main()
