"""Loaders on damaged and hostile files: one-line InputErrors or rejected rows, never a crash."""

from __future__ import annotations

import gzip
import itertools
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import relaynet as rn
from relaynet.cli import main
from relaynet.errors import InputError
from relaynet.io import MAX_CELL_CHARS, MAX_EXTRA_COLUMNS, one_line
from relaynet.io.columns import POINT_ALIASES, map_columns
from relaynet.io.schema import POINT_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = "id;lat;lon\n" + "".join(f"P{i};45.{i};4.{i}\n" for i in range(300))


def validate(path: Path, *args: str):
    return CliRunner().invoke(main, ["validate", str(path), *args])


def assert_one_line(exc: pytest.ExceptionInfo, path: Path) -> None:
    message = str(exc.value)
    assert message.startswith(str(path)) and message.isprintable(), repr(message)


class TestGzip:
    @pytest.fixture
    def compressed(self) -> bytes:
        return gzip.compress(GOOD.encode())

    def test_truncated(self, tmp_path, compressed):
        path = tmp_path / "p.csv.gz"
        path.write_bytes(compressed[: len(compressed) // 2])
        with pytest.raises(InputError, match="truncated or corrupt gzip") as exc:
            rn.load_points(path)
        assert_one_line(exc, path)
        result = validate(path)
        assert result.exit_code == 2
        assert "truncated or corrupt gzip" in result.output and "Aborted" not in result.output

    def test_corrupt_deflate_stream(self, tmp_path, compressed):
        path = tmp_path / "d.csv.gz"
        path.write_bytes(compressed[:20] + b"\xff" * 10 + compressed[30:])
        with pytest.raises(InputError, match="truncated or corrupt gzip") as exc:
            rn.load_demand(path)
        assert_one_line(exc, path)

    def test_bad_checksum(self, tmp_path, compressed):
        path = tmp_path / "p.csv.gz"
        path.write_bytes(compressed[:-8] + b"\0\0\0\0" + compressed[-4:])
        with pytest.raises(InputError, match="truncated or corrupt gzip"):
            rn.load_points(path)


class TestOnlyDelimiters:
    @pytest.mark.parametrize("text", [";;\n;;\n", ";;\n", "\n ; \n;;\n\n"])
    @pytest.mark.parametrize("load", [rn.load_points, rn.load_demand])
    def test_no_header_is_an_input_error(self, tmp_path, text, load):
        path = tmp_path / "p.csv"
        path.write_text(text)
        with pytest.raises(InputError, match="no header row") as exc:
            load(path)
        assert_one_line(exc, path)

    def test_delimiter_rows_are_rejected_and_counted(self, tmp_path):
        path = tmp_path / "p.csv"
        path.write_text("id;lat;lon\n;;\nA;45;4\n;;\n;\n")
        pts, rejected = rn.load_points(path)
        assert pts["point_id"].tolist() == ["A"]
        assert rejected["row"].tolist() == [2, 4, 5]
        assert rejected["reason"].tolist() == ["blank line"] * 3


class TestOsm:
    @pytest.mark.parametrize("value", ["nan", "-nan", ""])
    def test_bad_coordinate_is_a_rejected_row(self, tmp_path, value):
        # libosmium's XML reader would stop at the bad node: relaynet checks coordinates
        # first, so the node is one rejected row (more in tests/test_hardening_inputs.py).
        text = (FIXTURES / "relay_points.osm").read_text()
        path = tmp_path / "p.osm"
        path.write_text(text.replace('lat="48.8600"', f'lat="{value}"'))
        accepted, rejected = rn.load_points(path)
        assert "n2" in set(rejected["point_id"]) and "n2" not in set(accepted["point_id"])
        assert len(accepted) + len(rejected) == 5

    def test_truncated_osm_gz(self, tmp_path):
        path = tmp_path / "p.osm.gz"
        path.write_bytes(gzip.compress((FIXTURES / "relay_points.osm").read_bytes())[:200])
        with pytest.raises(InputError, match="cannot read as an OSM file") as exc:
            rn.load_points(path)
        assert_one_line(exc, path)


def wide_csv(path: Path, ncols: int, nrows: int, head: str = "id;lat;lon") -> Path:
    """``head`` columns (id, lat, lon, then any others, filled with text) and ``ncols`` more."""
    named = head.split(";")
    extra = ";".join(str(i) for i in range(ncols))
    rows = [
        ";".join([f"P{r}", f"45.{r}", f"4.{r}", *(f"{name} {r}" for name in named[3:])])
        for r in range(nrows)
    ]
    header = head + ";" + ";".join(f"c{i}" for i in range(ncols))
    path.write_text(header + "\n" + "".join(f"{row};{extra}\n" for row in rows))
    return path


class TestWideFiles:
    def test_5000_columns_keep_schema_and_first_extras(self, tmp_path):
        path = wide_csv(tmp_path / "p.csv", 5000, 5, head="id;lat;lon;nom;ville")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pts, rejected = rn.load_points(path)
        assert [type(w.message) for w in caught] == [UserWarning]
        assert "4800 columns dropped" in str(caught[0].message)
        assert caught[0].filename == __file__  # stacklevel points at the caller
        assert rejected.empty and len(pts) == 5
        extras = [f"c{i}" for i in range(MAX_EXTRA_COLUMNS)]
        assert list(pts.columns) == [*POINT_COLUMNS, *extras, "geometry"]
        assert pts["name"].tolist() == [f"nom {i}" for i in range(5)]
        assert pts["city"].tolist() == [f"ville {i}" for i in range(5)]

    def test_rejected_rows_keep_the_bounded_columns(self, tmp_path):
        path = wide_csv(tmp_path / "d.csv", 1000, 3, head="code_insee;lat;lon")
        lines = path.read_text().splitlines()
        lines[1] = lines[1].replace(";45.0;", ";95;", 1)
        path.write_text("\n".join(lines) + "\n")
        with pytest.warns(UserWarning, match="799 columns dropped"):
            dem, rejected = rn.load_demand(path, columns={"c900": "area_id"})
        assert len(dem) + len(rejected) == 3
        assert dem["area_id"].tolist() == ["900"] * len(dem)
        assert {"c199", "c900"} <= set(rejected.columns) and "c200" not in rejected

    def test_few_extras_no_warning(self, tmp_path):
        pts, _ = rn.load_points(wide_csv(tmp_path / "p.csv", MAX_EXTRA_COLUMNS, 2))
        assert pts.columns[-2] == f"c{MAX_EXTRA_COLUMNS - 1}"

    def test_colliding_names_are_numbered_in_linear_time(self):
        # 15 625 names that all normalize to "a": quadratic renaming used to take minutes.
        columns = [
            "a" + "".join(p) for p in itertools.product(".,:!?()[]{}<>@#$%^&*+=~/|", repeat=3)
        ]
        mapped = map_columns(["Nom", *columns, "a_2"], POINT_ALIASES, None)
        assert mapped["Nom"] == "name"
        assert [mapped[c] for c in columns[:3]] == ["a", "a_2", "a_3"]
        assert mapped["a_2"] == "a_2_2"
        assert len(set(mapped.values())) == len(columns) + 2


class TestLongCells:
    def test_long_cell_rejects_its_row_only(self, tmp_path):
        path = tmp_path / "p.csv"
        big = "x" * (MAX_CELL_CHARS + 1)
        path.write_text(
            f"id;lat;lon;name\nA;45;4;ok\nB;45;4;{big}\nC;46;5;{'y' * MAX_CELL_CHARS}\n"
        )
        pts, rejected = rn.load_points(path)
        assert pts["point_id"].tolist() == ["A", "C"]
        assert rejected["row"].tolist() == [3]
        assert rejected["reason"].tolist() == [
            f"cell in column 'name' longer than {MAX_CELL_CHARS} characters"
        ]
        assert len(rejected.loc[0, "name"]) == MAX_CELL_CHARS
        result = validate(path)
        assert result.exit_code == 1 and "3 rows read, 2 accepted, 1 rejected" in result.output

    def test_long_quoted_cell_with_newlines_beyond_the_header(self, tmp_path):
        path = tmp_path / "d.csv"
        big = '"' + "a\n" * MAX_CELL_CHARS + '"'
        path.write_text(f"code_insee,population,lat,lon\n1,10,45,4,{big}\n2,10,46,5\n")
        dem, rejected = rn.load_demand(path)
        assert dem["demand_id"].tolist() == ["2"]
        assert rejected["row"].tolist() == [2]
        assert rejected.loc[0, "reason"] == (
            f"row has 5 fields, header has 4; cell in column 'field 5' longer than "
            f"{MAX_CELL_CHARS} characters"
        )


class TestOneLineMessages:
    def test_one_line(self):
        assert one_line("first\nsecond\r\n\x0e third\x1b[31m\tend\u2028") == (
            "first second third [31m end"
        )
        assert one_line("x" * 500, limit=10) == "x" * 9 + "…"

    def test_parquet_error_with_control_bytes(self, tmp_path):
        good = tmp_path / "ok.parquet"
        pd.DataFrame({"id": ["a"], "lat": [45.0], "lon": [4.0]}).to_parquet(good)
        path = tmp_path / "bad.parquet"
        path.write_bytes(b"PAR1\nline two\x07\n" + good.read_bytes()[20:])
        with pytest.raises(InputError, match="cannot read as Parquet") as exc:
            rn.load_points(path)
        assert_one_line(exc, path)

    def test_geojson_error_is_one_line(self, tmp_path):
        path = tmp_path / "bad.geojson"
        path.write_text('{"type": "FeatureCollection",\n "features": [\x07\n{"type": ')
        with pytest.raises(InputError, match="cannot read as a geographic file") as exc:
            rn.load_points(path)
        assert_one_line(exc, path)
