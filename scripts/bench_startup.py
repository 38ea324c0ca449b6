"""How fast the command line answers: ``relaynet --help`` / ``--version`` against a bare
``python -c "import click"`` measured in the same run (target: within ~2×).

Run: ``.venv/bin/python scripts/bench_startup.py [repeats]``. Prints min and median wall
time of each command over fresh processes, and the ratios.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall_times(command: list[str], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - started)
    return out


def main(repeats: int = 15) -> None:
    relaynet = str(BIN / "relaynet")
    cases = {
        "python -c 'import click' (peer)": [sys.executable, "-c", "import click"],
        "relaynet --help": [relaynet, "--help"],
        "relaynet --version": [relaynet, "--version"],
        "relaynet coverage --help": [relaynet, "coverage", "--help"],
    }
    results = {name: wall_times(cmd, repeats) for name, cmd in cases.items()}
    peer = statistics.median(results["python -c 'import click' (peer)"])
    print(f"{'command':34} {'min s':>7} {'median s':>9} {'÷ peer':>7}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:34} {min(times):7.3f} {median:9.3f} {median / peer:7.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
