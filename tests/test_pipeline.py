"""One pipeline: ``relaynet coverage``, ``relaynet report`` and ``distributed.assess`` give
the same numbers and the same ``kpis.json`` layout on the same inputs and options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from relaynet.cli import COMMANDS, main
from relaynet.report.outputs import KPIS_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def lozere(tmp_path_factory):
    """La Poste points and communes of Lozère (48) and its neighbours, as files."""
    folder = tmp_path_factory.mktemp("lozere")
    demand = gpd.read_parquet(DATA / "communes_demand.parquet")
    demand = demand[demand["area_id"].isin(["48", "15"])]
    points = gpd.read_parquet(DATA / "laposte_points.parquet")
    x0, y0, x1, y1 = demand.total_bounds
    points = points.cx[x0 - 0.2 : x1 + 0.2, y0 - 0.2 : y1 + 0.2]
    # a few points with unknown hours, so the unknown-hours policy matters
    points = points.copy()
    points.loc[points.index[::7], "opening_hours"] = None
    demand.to_parquet(folder / "demand.parquet")
    points.to_parquet(folder / "points.parquet")
    return folder / "points.parquet", folder / "demand.parquet"


def _run(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output


@pytest.mark.parametrize("policy", ["exclude", "include"])
def test_report_equals_coverage(lozere, tmp_path, policy):
    points, demand = lozere
    common = ["--points", str(points), "--demand", str(demand), "--standard", "5km"]
    common += ["--by", "département", "--unknown-hours", policy, "-q"]
    _run(["coverage", *common, "--out", str(tmp_path / "cov")])
    _run(["report", *common, "--out", str(tmp_path / "rep")])
    cov = json.loads((tmp_path / "cov" / "kpis.json").read_text())
    rep = json.loads((tmp_path / "rep" / "kpis.json").read_text())
    assert "timings_s" not in cov  # seconds are in run.json only
    assert cov == rep
    assert cov["schema"] == KPIS_SCHEMA and cov["by"] == "area_id"
    assert "travel_burden" in rep and "compliance" in rep
    for name in ("access.csv", "gaps.csv", "compliance.csv", "rejected.csv"):
        a = pd.read_csv(tmp_path / "cov" / name, dtype=str)
        b = pd.read_csv(tmp_path / "rep" / name, dtype=str)
        pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "cov" / "gaps.geojson").read_bytes() == (
        tmp_path / "rep" / "gaps.geojson"
    ).read_bytes()


def test_unknown_hours_reach_the_windows(lozere, tmp_path):
    """The weekday-evening share with unknown hours included is the brute-force share of
    places within 5 km of a point open Tuesday 19:00 *or* without known hours."""
    from relaynet import Eligibility, load_points
    from relaynet.coverage.windows import time_windows

    points_path, demand_path = lozere
    shares = {}
    for policy in ("exclude", "include"):
        out = tmp_path / policy
        _run(
            [
                "report",
                "--points",
                str(points_path),
                "--demand",
                str(demand_path),
                "--unknown-hours",
                policy,
                "--out",
                str(out),
                "-q",
            ]
        )
        kpis = json.loads((out / "kpis.json").read_text())
        shares[policy] = kpis["windows"]["weekday_evening"]["all"]["share_covered"]
    # oracle: haversine brute force over the eligible points of each policy
    points, _ = load_points(points_path)
    demand = gpd.read_parquet(demand_path)
    for policy in ("exclude", "include"):
        evening = time_windows(unknown_hours=policy)["weekday_evening"]
        mask = evening.mask(points)
        lat1 = np.radians(demand.geometry.y.to_numpy())[:, None]
        lon1 = np.radians(demand.geometry.x.to_numpy())[:, None]
        lat2 = np.radians(points.geometry.y.to_numpy()[mask])[None]
        lon2 = np.radians(points.geometry.x.to_numpy()[mask])[None]
        h = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        d = 2 * 6_371_008.8 * np.arcsin(np.sqrt(h)).min(axis=1)
        w = demand["weight"].to_numpy(float)
        assert shares[policy] == pytest.approx(w[d <= 5000].sum() / w.sum(), abs=1e-9)
    assert shares["include"] > shares["exclude"]
    assert Eligibility(unknown_hours="include").is_empty


def test_dask_kpis_have_the_same_layout(lozere, tmp_path):
    points, demand = lozere
    common = ["--points", str(points), "--demand", str(demand), "--no-windows", "-q"]
    _run(["coverage", *common, "--out", str(tmp_path / "local")])
    _run(["coverage", *common, "--engine", "dask", "--workers", "1", "--out", str(tmp_path / "d")])
    local = json.loads((tmp_path / "local" / "kpis.json").read_text())
    dask = json.loads((tmp_path / "d" / "kpis.json").read_text())
    assert dask["schema"] == local["schema"] == KPIS_SCHEMA
    assert dask["engine"] == "dask" and local["engine"] == "local"
    assert dask["standard"] == local["standard"]
    assert dask["compliance"] == local["compliance"]
    for key in ("share_covered", "covered_weight", "weight"):
        assert dask["overall"][key] == pytest.approx(local["overall"][key], rel=1e-12)


def test_every_listed_command_loads():
    from relaynet.cli import LazyGroup

    group = main
    assert isinstance(group, LazyGroup)
    for name in COMMANDS:
        command = group.get_command(None, name)
        assert command is not None and command.name == name
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0


@pytest.mark.parametrize("command", ["coverage", "optimize"])
def test_identical_runs_identical_files(lozere, tmp_path, command):
    """Two identical runs write byte-identical files; only run.json holds seconds."""
    points, demand = lozere
    if command == "coverage":
        args = ["coverage", "--points", str(points), "--demand", str(demand), "-q"]
    else:
        args = ["optimize", "--points", str(points), "--demand", str(demand)]
        args += ["--candidates", "communes", "--model", "mclp", "--p", "3"]
    for name in ("a", "b"):  # separate processes, as runs are (HiGHS logs a banner once)
        done = subprocess.run(
            [sys.executable, "-m", "relaynet", *args, "--out", str(tmp_path / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "run.json" in files and ("kpis.json" in files or "summary.json" in files)
    for name in files:
        if name != "run.json":
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["timings_s"]
