"""A normal (non-editable) install carries the bundled data: the wheel holds it, and the
installed package runs ``relaynet demo`` from a folder that is not the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = [
    "relaynet/data/laposte_points.parquet",
    "relaynet/data/communes_demand.parquet",
    "relaynet/data/departements.geojson",
    "relaynet/data/osm/andorra.osm.gz",
    "relaynet/data/README.md",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("relaynet-*.whl")
    return found


@pytest.mark.slow
def test_wheel_carries_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in BUNDLED if name not in names]
    assert not missing


@pytest.mark.slow
def test_installed_package_runs_the_demo(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target)]
        + [str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = subprocess.run(
        [sys.executable, "-c", "import relaynet, sys; print(relaynet.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip().startswith(str(target))
    run = subprocess.run(
        [sys.executable, "-m", "relaynet", "demo", "--p", "0", "--out", "r", "-q"]
        + ["--standard", "5km"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode in (0, 1), run.stderr
    kpis = json.loads((work / "r" / "kpis.json").read_text())
    assert kpis["n_places"] > 34_000 and 0.95 < kpis["overall"]["share_covered"] < 1
