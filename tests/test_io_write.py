"""Excel and GeoPackage output: text is data (never a formula), identical runs give identical
bytes, and ``relaynet coverage --format xlsx|gpkg`` writes the workbook and layers."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from shapely.geometry import Point, box

from relaynet.cli import main
from relaynet.errors import ParameterError
from relaynet.io import neutralise_formulas, write_gpkg, write_xlsx
from relaynet.io import write as write_module

DATA = Path(__file__).resolve().parent.parent / "data"

HOSTILE = ['=HYPERLINK("http://x","y")', "+33 6 12", "-3.5", "@SUM(A1)", "\t=1", "#N/A", "ok"]


def cells(path: Path) -> dict[str, list[list]]:
    """Every sheet's values, after checking that no cell is a formula."""
    book = load_workbook(path)
    out = {}
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
        out[sheet.title] = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return out


class TestXlsx:
    def table(self) -> pd.DataFrame:
        n = len(HOSTILE)
        return pd.DataFrame(
            {
                "=cmd|' /C calc'!A0": HOSTILE,
                "distance_m": [1.5, np.nan, np.inf, -2.0, 0.0, 3.0, 4.0],
                "covered": [True, False] * 3 + [True],
                "n_points": np.arange(n),
                "note": pd.Series(["a", None, "b\x01c", "d", "e", "f", "g"], dtype="str"),
            }
        )

    def test_text_is_never_a_formula(self, tmp_path):
        frame = self.table()
        write_xlsx({"access": frame, "empty": frame.head(0)}, tmp_path / "t.xlsx")
        sheets = cells(tmp_path / "t.xlsx")
        header, *rows = sheets["access"]
        expected = neutralise_formulas(frame)
        assert header == list(expected.columns)
        assert header[0] == "'=cmd|' /C calc'!A0"
        assert [r[0] for r in rows] == expected.iloc[:, 0].tolist()
        assert rows[0][0] == '\'=HYPERLINK("http://x","y")'
        assert rows[2][0] == "-3.5"  # a negative number as text stays as it was
        assert rows[5][0] == "#N/A"  # a string, not Excel's error value
        assert [r[1] for r in rows] == [1.5, None, None, -2, 0, 3, 4]
        assert [r[2] for r in rows] == frame["covered"].tolist()
        assert [r[3] for r in rows] == list(range(len(HOSTILE)))
        assert rows[1][4] is None and rows[2][4] == "b\ufffdc"  # XML cannot hold \x01
        assert sheets["empty"] == [header]
        book = load_workbook(tmp_path / "t.xlsx")
        types = {c.data_type for r in book["access"].iter_rows(min_col=1, max_col=1) for c in r}
        assert types == {"s"}

    def test_identical_tables_identical_bytes(self, tmp_path):
        a = write_xlsx({"access": self.table()}, tmp_path / "a.xlsx")
        b = write_xlsx({"access": self.table()}, tmp_path / "b.xlsx")
        assert a.read_bytes() == b.read_bytes()
        with zipfile.ZipFile(a) as archive:
            assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert load_workbook(a).properties.modified == write_module.FIXED_TIME
        assert not list(tmp_path.glob(".*"))  # no temporary file left

    def test_limits_and_names(self, tmp_path, monkeypatch):
        with pytest.raises(ParameterError, match="sheet name"):
            write_xlsx({"a/b": self.table()}, tmp_path / "t.xlsx")
        monkeypatch.setattr(write_module, "XLSX_MAX_ROWS", 5)
        with pytest.raises(ParameterError, match="7 rows do not fit an Excel sheet"):
            write_xlsx({"access": self.table()}, tmp_path / "t.xlsx")
        assert not (tmp_path / "t.xlsx").exists()

    def test_long_text_is_cut_at_excels_limit(self, tmp_path):
        frame = pd.DataFrame({"text": ["x" * 40_000]})
        write_xlsx({"s": frame}, tmp_path / "t.xlsx")
        assert len(cells(tmp_path / "t.xlsx")["s"][1][0]) == write_module.XLSX_MAX_CELL_CHARS


class TestGpkg:
    def layers(self):
        points = gpd.GeoDataFrame(
            {"demand_id": ["a", "b"], "name": ["=1+1", "x"], "covered": [True, False]},
            geometry=[Point(3.5, 44.5), Point(3.6, 44.6)],
            crs="EPSG:4326",
        )
        gaps = gpd.GeoDataFrame(
            {"gap_id": ["gap-0001"]}, geometry=[box(3.4, 44.4, 3.5, 44.5)], crs="EPSG:2154"
        ).set_crs("EPSG:4326", allow_override=True)
        compliance = pd.DataFrame({"area_id": ["48"], "passes": [True]})
        return {"access": points, "gaps": gaps, "compliance": compliance}

    def test_layers_and_identical_bytes(self, tmp_path):
        a = write_gpkg(self.layers(), tmp_path / "a.gpkg")
        b = write_gpkg(self.layers(), tmp_path / "b.gpkg")
        assert a.read_bytes() == b.read_bytes()
        assert pyogrio.list_layers(a).tolist() == [
            ["access", "Point"],
            ["gaps", "Polygon"],
            ["compliance", None],
        ]
        back = pyogrio.read_dataframe(a, layer="access")
        assert back["name"].tolist() == ["=1+1", "x"]  # a database: values as they are
        with sqlite3.connect(a) as db:
            stamps = {r[0] for r in db.execute("select last_change from gpkg_contents")}
        assert stamps == {"1980-01-01T00:00:00.000Z"}
        assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.gpkg"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Lozère's communes (one with a hostile name) and La Poste points as a CSV with a
    hostile column name and one unusable row."""
    folder = tmp_path_factory.mktemp("lozere_xlsx")
    demand = gpd.read_parquet(DATA / "communes_demand.parquet")
    demand = demand[demand["area_id"] == "48"].copy()
    demand.iloc[0, demand.columns.get_loc("name")] = '=HYPERLINK("http://x","y")'
    demand.to_parquet(folder / "demand.parquet")
    points = gpd.read_parquet(DATA / "laposte_points.parquet")
    x0, y0, x1, y1 = demand.total_bounds
    points = points.cx[x0 - 0.2 : x1 + 0.2, y0 - 0.2 : y1 + 0.2]
    table = pd.DataFrame(points.drop(columns="geometry"))
    table["lat"], table["lon"] = points.geometry.y, points.geometry.x
    table["=cmd|' /C calc'!A0"] = "@SUM(1)"
    bad = table.iloc[:1].assign(point_id="BAD", lat="not a number")
    pd.concat([table, bad]).to_csv(folder / "points.csv", index=False)
    return folder / "points.csv", folder / "demand.parquet"


def coverage(inputs, out: Path, fmt: str) -> None:
    points, demand = inputs
    args = ["coverage", "--points", str(points), "--demand", str(demand), "--standard", "5km"]
    result = CliRunner().invoke(main, [*args, "--format", fmt, "-q", "--out", str(out)])
    assert result.exit_code == 1, result.output  # 1: the bad row is rejected


class TestCoverageOutput:
    def test_xlsx(self, inputs, tmp_path):
        coverage(inputs, tmp_path / "a", "xlsx")
        coverage(inputs, tmp_path / "b", "xlsx")
        workbook = tmp_path / "a" / "coverage.xlsx"
        assert workbook.read_bytes() == (tmp_path / "b" / "coverage.xlsx").read_bytes()
        assert not (tmp_path / "a" / "access.csv").exists()
        run = json.loads((tmp_path / "a" / "run.json").read_text())
        assert "coverage.xlsx" in json.dumps(run)
        sheets = cells(workbook)
        assert list(sheets) == ["access", "kpis", "by_area", "gaps", "compliance", "rejected"]
        access = pd.DataFrame(sheets["access"][1:], columns=sheets["access"][0])
        assert '\'=HYPERLINK("http://x","y")' in set(access["name"])
        assert len(access) == 152 and access["covered"].isin([True, False]).all()
        kpis = pd.DataFrame(sheets["kpis"][1:], columns=sheets["kpis"][0])
        doc = json.loads((tmp_path / "a" / "kpis.json").read_text())
        overall = kpis.loc[kpis["section"] == "overall"].iloc[0]
        assert overall["share_covered"] == pytest.approx(doc["overall"]["share_covered"])
        windows = kpis.loc[kpis["section"] == "windows"]
        assert set(windows["window"]) == set(doc["windows"])
        assert len(windows) == sum(len(w) - 1 for w in doc["windows"].values())
        rejected = sheets["rejected"]
        assert "'=cmd|' /C calc'!A0" in rejected[0]
        assert "'@SUM(1)" in rejected[1]
        assert "geometry" not in sheets["gaps"][0] and "centroid_lat" in sheets["gaps"][0]

    def test_gpkg(self, inputs, tmp_path):
        coverage(inputs, tmp_path / "a", "gpkg")
        coverage(inputs, tmp_path / "b", "gpkg")
        layers = tmp_path / "a" / "coverage.gpkg"
        assert layers.read_bytes() == (tmp_path / "b" / "coverage.gpkg").read_bytes()
        kinds = dict(pyogrio.list_layers(layers).tolist())
        assert kinds["access"] == "Point" and kinds["compliance"] is None
        assert kinds["gaps"] in ("Polygon", "MultiPolygon")
        access = pyogrio.read_dataframe(layers, layer="access")
        csv = pd.read_csv(tmp_path / "a" / "gaps.csv")
        assert len(access) == 152 and access.crs == "EPSG:4326"
        assert access.geometry.x.to_numpy() == pytest.approx(access["lon"].to_numpy())
        assert len(pyogrio.read_dataframe(layers, layer="gaps")) == len(csv)

    def test_unknown_format(self, inputs, tmp_path):
        from relaynet.report.outputs import write_tables

        with pytest.raises(ParameterError, match="expected one of csv, parquet, xlsx, gpkg"):
            write_tables(tmp_path, None, access_format="ods")
