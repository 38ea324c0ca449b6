"""Carrier formats on the command line: ``validate`` names the format, several ``--points``
make one network, ``--points-format``, ``--columns`` and ``--defaults`` reach the loader."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from relaynet.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
THREE = ("mondial_relay_search.xml", "inpost_points.json", "colissimo_points.json")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


class TestValidate:
    def test_names_the_detected_format(self):
        result = run("validate", FIXTURES / "dpd_pudo.xml")
        assert result.exit_code == 1, result.output  # one bad row in the fixture
        assert "dpd_pudo.xml: format dpd (detected)" in result.output
        assert "3 rows read, 2 accepted, 1 rejected" in result.output

    def test_plain_csv_is_generic(self, tmp_path):
        path = tmp_path / "p.csv"
        path.write_text("id;lat;lon\nA;45;4\n")
        result = run("validate", path)
        assert result.exit_code == 0, result.output
        assert "format generic (detected)" in result.output

    def test_ambiguous_exit_2_names_candidates(self):
        result = run("validate", FIXTURES / "ambiguous_pickup.csv")
        assert result.exit_code == 2
        assert "colissimo and chronopost" in result.output and "--points-format" in result.output
        result = run("validate", FIXTURES / "ambiguous_pickup.csv", "--points-format", "colissimo")
        assert result.exit_code == 0, result.output
        assert "format colissimo (given)" in result.output

    def test_columns_and_defaults(self, tmp_path):
        path = tmp_path / "lockers.csv"
        path.write_text("REF;GPS_LAT;GPS_LON\nL1;45,76;4,86\nL2;;\n")
        result = run(
            "validate", path, "--columns", "REF=point_id,GPS_LAT=latitude,GPS_LON=longitude",
            "--defaults", "network=amazon,kind=locker", "--rejected", tmp_path / "rej.csv",
        )  # fmt: skip
        assert result.exit_code == 1, result.output
        assert "2 rows read, 1 accepted, 1 rejected" in result.output
        rejected = pd.read_csv(tmp_path / "rej.csv", dtype=str)
        assert rejected["row"].tolist() == ["3"] and rejected["reason"].tolist() == [
            "missing coordinates"
        ]

    def test_bad_pairs_are_a_usage_error(self, tmp_path):
        result = run("validate", FIXTURES / "dpd_pudo.json", "--defaults", "network")
        assert result.exit_code == 2
        assert "NAME=VALUE" in result.output


class TestSeveralPoints:
    def test_nearest_over_three_formats(self):
        args = [a for f in THREE for a in ("--points", FIXTURES / f)]
        result = run("nearest", *args, "--lat", "50.63", "--lon", "3.06", "-k", "2")
        assert result.exit_code == 1, result.output  # answered; rows were rejected
        assert "FRLIL01M" in result.output and "011721" in result.output
        assert "6 rows rejected" in result.output

    def test_coverage_over_three_formats(self, tmp_path):
        demand = tmp_path / "demand.csv"
        demand.write_text(
            "id;nom;population;lat;lon\nparis;Paris;1000;48.86;2.35\nlille;Lille;500;50.63;3.06\n"
            "brest;Brest;300;48.39;-4.49\n"
        )
        args = [a for f in THREE for a in ("--points", FIXTURES / f)]
        out = tmp_path / "out"
        result = run("coverage", *args, "--demand", demand, "--standard", "5km", "--out", out)
        assert result.exit_code == 1, result.output  # some point rows rejected
        access = pd.read_csv(out / "access.csv", dtype={"demand_id": str})
        covered = dict(zip(access["demand_id"], access["covered"], strict=True))
        assert covered == {"paris": True, "lille": True, "brest": False}
        rejected = pd.read_csv(out / "rejected.csv", dtype=str)
        assert set(rejected["file"]) == {str(FIXTURES / f) for f in THREE}
        record = json.loads((out / "run.json").read_text())["inputs"][0]
        assert record["rows_read"] == 15 and len(record["files"]) == 3

    def test_points_format_needs_points(self, tmp_path):
        result = run("coverage", "--points-format", "dpd", "--out", tmp_path / "o")
        assert result.exit_code == 2
        assert "need --points" in result.output
