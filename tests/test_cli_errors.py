"""The CLI's documented exit codes and one-line errors, and output folders that are always
either the previous or the new complete report, even under SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from relaynet.cli import main
from relaynet.cli._common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OUTPUT
from relaynet.report.folder import clean_stale, report_folder

ROOT = Path(__file__).resolve().parent.parent
LOZERE = ROOT / "data" / "lozere_communes.geojson"


def _points_csv(path: Path) -> Path:
    path.write_text(
        "point_id,lat,lon,kind,opening_hours\n"
        "a,44.52,3.50,locker,Mo-Fr 09:00-18:00\n"
        "b,44.60,3.60,counter,Mo-Sa 09:00-12:00\n",
        encoding="utf-8",
    )
    return path


class TestExitCodes:
    def test_internal_error_is_one_line_with_a_log(self, tmp_path, monkeypatch):
        import relaynet.coverage

        def broken(*args, **kwargs):
            raise RuntimeError("boom\nsecond line")

        monkeypatch.setattr(relaynet.coverage, "assess", broken)
        points = _points_csv(tmp_path / "p.csv")
        result = CliRunner().invoke(
            main, ["report", "--points", str(points), "--demand", str(LOZERE), "--out", "x"]
        )
        assert result.exit_code == EXIT_INTERNAL
        message = result.output.strip().splitlines()
        assert len(message) == 1 and "internal error (RuntimeError: boom second line)" in message[0]
        log = Path(message[0].rsplit(" ", 1)[1])
        assert "Traceback" in log.read_text() and "boom" in log.read_text()
        log.unlink()

    def test_unwritable_output_fails_before_the_work(self, tmp_path):
        blocker = tmp_path / "a_file"
        blocker.write_text("x")
        started = time.perf_counter()
        result = CliRunner().invoke(
            main, ["coverage", "--demand", str(LOZERE), "--out", str(blocker / "out"), "-q"]
        )
        assert result.exit_code == EXIT_OUTPUT, result.output
        assert "cannot write the output folder" in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert time.perf_counter() - started < 30

    def test_disk_full_while_writing_is_exit_3(self, tmp_path, monkeypatch):
        import errno

        import relaynet.io as io

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x.csv"))

        monkeypatch.setattr(io, "write_csv", full)
        monkeypatch.setattr("relaynet.report.outputs.write_csv", full)
        points = _points_csv(tmp_path / "p.csv")
        out = tmp_path / "report"
        result = CliRunner().invoke(
            main,
            ["report", "--points", str(points), "--demand", str(LOZERE), "--out", str(out), "-q"],
        )
        assert result.exit_code == EXIT_OUTPUT, result.output
        assert "No space left on device" in result.output
        assert not out.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []

    def test_gap_zones_of_places_without_names(self, tmp_path):
        # the bundled Lozère outlines have no name column for the places; one blank area
        result = CliRunner().invoke(
            main, ["coverage", "--demand", str(LOZERE), "--standard", "5km", "--out", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
        gaps = json.loads((tmp_path / "gaps.geojson").read_text())
        assert gaps["features"], "Lozère has gap zones at 5 km"
        assert all(f["properties"]["places"] for f in gaps["features"])

    def test_bad_standard_is_exit_2(self, tmp_path):
        result = CliRunner().invoke(
            main, ["coverage", "--standard", "5 parsecs", "--out", str(tmp_path / "o")]
        )
        assert result.exit_code == EXIT_INPUT
        assert len(result.output.strip().splitlines()) == 1


_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from relaynet.report.folder import report_folder
    target = Path(sys.argv[1])
    generation = 0
    while True:
        generation += 1
        with report_folder(target) as tmp:
            for k in range(40):
                (tmp / f"part{k:02d}.txt").write_text(f"{generation}\\n" * 2000)
        if generation == 1:
            print("ready", flush=True)
    """
)


def _complete(target: Path) -> bool:
    files = sorted(target.iterdir())
    if [f.name for f in files] != [f"part{k:02d}.txt" for k in range(40)]:
        return False
    generations = {f.read_text().split("\n", 1)[0] for f in files}
    return len(generations) == 1


@pytest.mark.slow
def test_report_folder_survives_sigkill_at_random_moments(tmp_path):
    target = tmp_path / "report"
    rng = random.Random(20261129)
    seen_complete = 0
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if target.exists():
            assert _complete(target), "a reader saw a half-written report"
            seen_complete += 1
    assert seen_complete == 8  # after the first complete write, never absent
    # the next run cleans what the killed ones left
    clean_stale(target)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "report"]
    assert leftovers == []
    with report_folder(target) as tmp:
        (tmp / "index.html").write_text("new")
    assert [p.name for p in target.iterdir()] == ["index.html"]


def test_failed_block_keeps_the_previous_report(tmp_path):
    target = tmp_path / "r"
    with report_folder(target) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), report_folder(target) as tmp:
        (tmp / "a.txt").write_text("new")
        raise RuntimeError("stop")
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_compliance_and_gaps_name_places_without_names():
    """A demand table whose ``name`` is blank or missing for some places: the tables name
    those places by their id (pandas' str dtype keeps NaN through astype(str))."""
    import geopandas as gpd
    import pandas as pd

    from relaynet import assess, compliance_table, find_gaps

    demand = gpd.GeoDataFrame(
        {
            "demand_id": ["a", "b", "c", "d"],
            "name": pd.array(["Alpha", None, " ", "Delta"], dtype="str"),
            "weight": [10.0, 20.0, 30.0, 40.0],
            "area_id": ["48", "48", None, "48"],
        },
        geometry=gpd.points_from_xy([3.5, 3.9, 4.3, 3.501], [44.5, 44.9, 45.3, 44.501]),
        crs="EPSG:4326",
    )
    points = gpd.GeoDataFrame(
        {"point_id": ["p"], "kind": ["locker"], "opening_hours": ["24/7"]},
        geometry=gpd.points_from_xy([3.5], [44.5]),
        crs="EPSG:4326",
    )
    result = assess(demand, points, "5km")
    table = compliance_table(result, 0.9)
    closing = " ".join(table["closing_places"])
    assert "b (20)" in closing
    gaps = find_gaps(result)
    assert sorted(" ".join(gaps["places"]).replace(";", " ").split()) == ["b", "c"]


def test_nearest_and_optimize_exit_1_after_rejected_rows(tmp_path):
    """Like coverage and report: the answer is printed, then exit code 1 says rows were
    rejected (README exit-code table)."""
    points = tmp_path / "p.csv"
    points.write_text(
        "point_id,lat,lon,kind,opening_hours\n"
        "a,44.52,3.50,locker,Mo-Fr 09:00-18:00\n"
        "b,444,3.60,counter,Mo-Sa 09:00-12:00\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["nearest", "--points", str(points), "--lat", "44.5", "--lon", "3.5", "-k", "1"]
    )
    assert result.exit_code == 1, result.output
    assert "a" in result.output and "1 rows rejected" in result.output
    out = tmp_path / "opt"
    result = CliRunner().invoke(
        main,
        ["optimize", "--demand", str(LOZERE), "--points", str(points), "--model", "mclp"]
        + ["--p", "1", "--standard", "5km", "--time-limit", "20", "--out", str(out)],
    )
    assert result.exit_code == 1, result.output
    assert (out / "summary.json").exists()
