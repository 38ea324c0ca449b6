"""How fast the command line answers: ``relaynet --help``, ``--version`` and
``relaynet <command> --help`` for every command, against a bare
``python -c "import click"`` measured in the same run (target: within ~2×, ≤ 0.3 s).

Prints min and median wall time of each command over fresh processes (the cases are
interleaved, so a busy moment of the shared machine spreads over all of them), the ratio
of the medians to the peer, and the heavy libraries each command's help loaded (there
should be none; ``tests/test_cli_usage.py`` checks pandas, numpy, geopandas and scipy).
With ``--baseline DIR`` the same help commands are also timed from another relaynet
source tree, e.g. ``git worktree add /tmp/relaynet_before <commit>``
(``python -m relaynet`` with ``PYTHONPATH=DIR``).

Run: ``.venv/bin/python scripts/bench_startup.py [--repeat 15] [--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from relaynet.cli import COMMANDS

BIN = Path(sys.executable).parent
PEER = "python -c 'import click' (peer)"
HEAVY = ("pandas", "numpy", "geopandas", "scipy", "shapely", "pyproj", "folium", "sklearn")
PROBE = """\
import sys
from relaynet.cli import main
try:
    main(sys.argv[1:], prog_name="relaynet")
except SystemExit:
    pass
print(" ".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def wall(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    return time.perf_counter() - started


def heavy_imports(args: list[str]) -> str:
    """The heavy libraries ``relaynet ARGS`` imports, in a fresh interpreter ("none")."""
    code = PROBE.format(heavy=HEAVY)
    run = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    lines = run.stderr.strip().splitlines()
    return (lines[-1] if lines else "") or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--baseline", type=Path, default=None, help="Older source tree.")
    args = parser.parse_args()
    relaynet = str(BIN / "relaynet")
    helps = [["--help"], ["--version"], *([name, "--help"] for name in COMMANDS)]
    # name → (command, environment, working folder, arguments of relaynet or None)
    cases: dict[str, tuple[list[str], dict[str, str] | None, Path | None, list[str] | None]]
    cases = {PEER: ([sys.executable, "-c", "import click"], None, None, None)}
    for argv in helps:
        cases[f"relaynet {' '.join(argv)}"] = ([relaynet, *argv], None, None, argv)
    if args.baseline is not None:
        tree = args.baseline.resolve()  # run from there: -m looks in the folder first
        env = {**os.environ, "PYTHONPATH": str(tree)}
        for argv in helps:
            command = [sys.executable, "-m", "relaynet", *argv]
            cases[f"baseline: {' '.join(argv)}"] = (command, env, tree, None)
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, (command, env, cwd, _argv) in cases.items():
            results[name].append(wall(command, env, cwd))
    peer = statistics.median(results[PEER])
    print(f"{args.repeat} fresh processes each, load {os.getloadavg()[0]:.1f}")
    print(f"{'command':34} {'min s':>7} {'median s':>9} {'÷ peer':>7}  heavy imports")
    for name, times in results.items():
        median = statistics.median(times)
        argv = cases[name][3]
        loaded = heavy_imports(argv) if argv is not None else ""
        print(f"{name:34} {min(times):7.3f} {median:9.3f} {median / peer:7.2f}  {loaded}")


if __name__ == "__main__":
    main()
