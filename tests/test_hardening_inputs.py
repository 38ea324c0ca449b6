"""Hostile and degenerate inputs, one class per defect: empty carrier exports and OSM files,
OSM coordinates that are not numbers in range, ``--within ""``, gzip bombs, a cost table
giving one pair several costs, ``;``-separated demand on the dask engine, rejected rows on
the dask engine, ``;``-separated cost files and unknown ids in them, bad nodes in road
files, carrier tables read with the one delimiter rule, and empty exports under
``format="auto"``.

Policy checked throughout: bad input is a one-line error (CLI exit 2) or a rejected row
naming the row and the reason (CLI exit 1); no row is silently dropped."""

from __future__ import annotations

import bz2
import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import sparse

import relaynet as rn
import relaynet.io.read as io_read
from relaynet.cli import main
from relaynet.costs import CostTable, read_costs
from relaynet.errors import InputError
from relaynet.io import parse_within

FIXTURES = Path(__file__).parent / "fixtures"


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def validate(path: Path, *args: str):
    return invoke("validate", path, "--kind", "points", *args)


def error_line(result) -> str:
    """The one line a failed command printed (exit 2), checked to be one line."""
    lines = [line for line in result.output.splitlines() if "rror" in line]
    assert len(lines) == 1, result.output
    return lines[0]


def assert_one_line(exc: pytest.ExceptionInfo, path: Path) -> None:
    message = str(exc.value)
    assert message.startswith(str(path)) and message.isprintable(), repr(message)


# --------------------------------------------------------------------------- 1. carriers

EMPTY_CARRIER_FILES = [
    ("mondial_relay", "empty.xml", "<PointsRelais/>"),
    (
        "mondial_relay",
        "envelope.xml",
        '<?xml version="1.0"?><WSI4_PointRelais_RechercheResponse><STAT>0</STAT>'
        "<PointsRelais></PointsRelais></WSI4_PointRelais_RechercheResponse>",
    ),
    ("mondial_relay", "details.xml", "<PointsRelais><PointRelais_Details/></PointsRelais>"),
    ("inpost", "items.json", '{"count": 0, "items": {}}'),
    ("inpost", "nulls.json", '{"items": [null, null]}'),
    ("dpd", "pudo.xml", "<RESPONSE><PUDO_ITEMS/></RESPONSE>"),
    ("dpd", "pudo.json", '{"PUDO_ITEMS": {}}'),
    ("dpd", "items.xml", "<RESPONSE><PUDO_ITEMS><PUDO_ITEM/><PUDO_ITEM/></PUDO_ITEMS></RESPONSE>"),
    ("chronopost", "chrono.xml", "<return><errorCode>0</errorCode><listePointRelais/></return>"),
    ("colissimo", "coli.xml", "<r><errorCode>0</errorCode><listePointRetraitAcheminement/></r>"),
    ("colissimo", "coli.json", '{"errorCode": 0, "listePointRetraitAcheminement": {}}'),
]


class TestEmptyCarrierExports:
    """An export with no point is an error like an empty CSV, not one bogus rejected row."""

    @pytest.mark.parametrize(("format", "name", "text"), EMPTY_CARRIER_FILES)
    def test_no_points_is_one_line_error(self, tmp_path, format, name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=f"has no {format} points") as exc:
            rn.load_points(path, format=format)
        assert_one_line(exc, path)
        result = validate(path, "--points-format", format)
        assert result.exit_code == 2, result.output
        assert f"has no {format} points" in error_line(result)

    def test_same_exit_as_an_empty_csv(self, tmp_path):
        csv = tmp_path / "points.csv"
        csv.write_text("")
        xml = tmp_path / "points.xml"
        xml.write_text("<PointsRelais/>")
        for path, options in ((csv, ()), (xml, ("--points-format", "mondial_relay"))):
            out = tmp_path / f"out_{path.suffix[1:]}"
            result = invoke("coverage", "--points", path, *options, "--out", out, "--quiet")
            assert result.exit_code == 2, result.output
            error_line(result)

    def test_empty_record_among_points_is_a_rejected_row(self, tmp_path):
        text = (FIXTURES / "formats" / "dpd_pudo.xml").read_text(encoding="latin-1")
        points, rejected = rn.load_points(FIXTURES / "formats" / "dpd_pudo.xml")
        n = len(points) + len(rejected)
        path = tmp_path / "dpd.xml"
        path.write_text(text.replace("<PUDO_ITEMS>", "<PUDO_ITEMS><PUDO_ITEM/>", 1), "latin-1")
        more, more_rejected = rn.load_points(path, format="dpd")
        assert len(more) == len(points) and len(more) + len(more_rejected) == n + 1
        reasons = dict(zip(more_rejected["row"], more_rejected["reason"], strict=True))
        assert reasons[1].startswith("empty record")

    def test_fixtures_read_as_before(self):
        document = json.loads((FIXTURES / "formats" / "dpd_pudo.json").read_text())
        points, rejected = rn.load_points(FIXTURES / "formats" / "dpd_pudo.json")
        assert len(points) + len(rejected) == len(document["PUDO_ITEMS"]["PUDO_ITEM"])

    def test_text_where_records_belong_is_a_rejected_row(self, tmp_path):
        path = tmp_path / "inpost.json"
        path.write_text('{"items": "not a list"}')
        points, rejected = rn.load_points(path, format="inpost")
        assert len(points) == 0 and rejected["row"].tolist() == [1]
        assert rejected["reason"].iloc[0].startswith('record is not an object ("not a list")')
        path.write_text('{"items": [1, "x"]}')
        points, rejected = rn.load_points(path, format="inpost")
        assert len(points) == 0 and rejected["row"].tolist() == [1, 2]


# --------------------------------------------------------------------------- 2. empty OSM

RELAY = '<tag k="amenity" v="parcel_locker"/>'


def osm_text(*nodes: str, ways: str = "") -> str:
    return '<?xml version="1.0"?>\n<osm version="0.6">\n' + "\n".join(nodes) + ways + "\n</osm>\n"


def write_pbf(path: Path, nodes: list[tuple[int, float, float, dict]]) -> Path:
    import osmium

    writer = osmium.SimpleWriter(str(path))
    try:
        for node_id, lon, lat, tags in nodes:
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat), tags=tags))
    finally:
        writer.close()
    return path


class TestEmptyOsm:
    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("empty.osm", osm_text()),
            ("self_closed.osm", '<osm version="0.6"/>'),
            ("roads_only.osm", osm_text('<node id="1" lat="45" lon="4"/>')),
            ("empty.osm.gz", gzip.compress(osm_text().encode())),
            ("empty.osm.bz2", bz2.compress(osm_text().encode())),
        ],
    )
    def test_no_relay_object_is_one_line_error(self, tmp_path, name, content):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(InputError, match="no relay points in this OSM file") as exc:
            rn.load_points(path)
        assert_one_line(exc, path)
        result = validate(path)
        assert result.exit_code == 2, result.output
        assert "no relay points" in error_line(result)

    def test_empty_pbf(self, tmp_path):
        path = write_pbf(tmp_path / "empty.osm.pbf", [])
        with pytest.raises(InputError, match="no relay points in this OSM file"):
            rn.load_points(path)
        assert validate(path).exit_code == 2

    def test_zero_bytes(self, tmp_path):
        path = tmp_path / "zero.osm"
        path.write_bytes(b"")
        with pytest.raises(InputError, match="file is empty"):
            rn.load_points(path)

    def test_same_exit_as_an_empty_csv_in_coverage(self, tmp_path):
        path = tmp_path / "empty.osm"
        path.write_text(osm_text())
        result = invoke("coverage", "--points", path, "--out", tmp_path / "out", "--quiet")
        assert result.exit_code == 2, result.output
        error_line(result)


# --------------------------------------------------------------------------- 3. OSM coordinates


class TestOsmCoordinates:
    GOOD = f'<node id="3" lat="45.1" lon="4.1">{RELAY}</node>'

    @pytest.mark.parametrize(
        ("lat", "lon", "reason"),
        [
            ("1e999", "4.5", "latitude '1e999' outside [-90, 90]"),
            ("-1e999", "4.5", "latitude '-1e999' outside [-90, 90]"),
            ("1e99", "4.5", "latitude 1e+99 outside [-90, 90]"),
            ("inf", "4.5", "latitude 'inf' outside [-90, 90]"),
            ("nan", "4.5", "non-numeric latitude"),
            ("abc", "4.5", "non-numeric latitude 'abc'"),
            ("91", "4.5", "latitude 91 outside [-90, 90]"),
            ("45", "200", "longitude 200 outside [-180, 180]"),
            ("45", "1e999", "longitude '1e999' outside [-180, 180]"),
            ("", "4.5", "missing coordinates"),
        ],
    )
    @pytest.mark.parametrize("suffix", [".osm", ".osm.gz", ".osm.bz2"])
    def test_node_is_a_rejected_row(self, tmp_path, lat, lon, reason, suffix):
        text = osm_text(f'<node id="7" lat="{lat}" lon="{lon}">{RELAY}</node>', self.GOOD)
        path = tmp_path / f"p{suffix}"
        pack = {".osm": bytes, ".osm.gz": gzip.compress, ".osm.bz2": bz2.compress}[suffix]
        path.write_bytes(pack(text.encode()))
        points, rejected = rn.load_points(path)
        assert points["point_id"].tolist() == ["n3"]  # never read as 0, never the whole file
        assert rejected["point_id"].tolist() == ["n7"] and rejected["row"].tolist() == [1]
        assert rejected["reason"].iloc[0].startswith(reason), rejected["reason"].iloc[0]

    def test_validate_names_the_node(self, tmp_path):
        path = tmp_path / "p.osm"
        path.write_text(osm_text(f'<node id="7" lat="1e999" lon="4.5">{RELAY}</node>', self.GOOD))
        result = validate(path)
        assert result.exit_code == 1, result.output
        assert "1 accepted, 1 rejected" in result.output
        assert "latitude '1e999' outside [-90, 90]" in result.output
        with pytest.raises(InputError, match=r"n7: latitude '1e999' outside"):
            rn.load_points(path, strict=True)

    def test_numbers_libosmium_refuses_are_read(self, tmp_path):
        nodes = [
            f'<node id="1" lat="+45.5" lon=" 4.5 ">{RELAY}</node>',
            f'<node id="2" lat="4.55e1" lon="4.6E0">{RELAY}</node>',
            f"<node id='3' lat='45.7' lon='4.7'>{RELAY}</node>",
        ]
        path = tmp_path / "p.osm"
        path.write_text(osm_text(*nodes))
        points, rejected = rn.load_points(path)
        assert len(rejected) == 0
        np.testing.assert_allclose(points.geometry.y, [45.5, 45.5, 45.7])
        np.testing.assert_allclose(points.geometry.x, [4.5, 4.6, 4.7])

    def test_node_without_coordinates_beside_an_odd_one(self, tmp_path):
        nodes = [
            f'<node id="1" lat="+45.5" lon="4.5">{RELAY}</node>',
            f'<node id="2" version="1">{RELAY}</node>',
            '<node id="4" lat="45.2" lon="4.2" user="a>b"/>',
        ]
        ways = f'<way id="20"><nd ref="1"/><nd ref="4"/>{RELAY}</way>'
        path = tmp_path / "p.osm"
        path.write_text(osm_text(*nodes, ways=ways))
        points, rejected = rn.load_points(path)
        assert points["point_id"].tolist() == ["n1", "w20"]
        np.testing.assert_allclose(points.geometry.y, [45.5, 45.35])
        assert rejected["point_id"].tolist() == ["n2"]
        assert rejected["reason"].tolist() == ["missing coordinates"]

    def test_way_with_a_bad_node_is_rejected_naming_it(self, tmp_path):
        nodes = [
            '<node id="1" lat="45.0" lon="4.0"/>',
            '<node id="2" lat="45.2" lon="4.2"/>',
            '<node id="8" lat="1e99" lon="4.1"/>',
            '<node id="9" lat="95" lon="4.1"/>',
        ]
        ways = (
            f'<way id="20"><nd ref="1"/><nd ref="8"/><nd ref="2"/>{RELAY}</way>'
            f'<way id="21"><nd ref="1"/><nd ref="9"/>{RELAY}</way>'
            f'<way id="22"><nd ref="1"/><nd ref="2"/><nd ref="404"/>{RELAY}</way>'
        )
        path = tmp_path / "p.osm"
        path.write_text(osm_text(*nodes, ways=ways))
        points, rejected = rn.load_points(path)
        # a node missing from the extract is left out of the centroid, as before
        assert points["point_id"].tolist() == ["w22"]
        np.testing.assert_allclose([points.geometry.y[0], points.geometry.x[0]], [45.1, 4.1])
        reasons = dict(zip(rejected["point_id"], rejected["reason"], strict=True))
        assert reasons["w20"].startswith("a node of the way has coordinates out of range (n8:")
        assert "'1e99'" in reasons["w20"]
        assert reasons["w21"].startswith("a node of the way has coordinates out of range (n9:")

    def test_pbf_out_of_range_is_a_rejected_row(self, tmp_path):
        tags = {"amenity": "parcel_locker"}
        path = write_pbf(
            tmp_path / "p.osm.pbf", [(1, 4.0, 91.0, tags), (2, 200.0, 45.0, tags), (3, 4, 45, tags)]
        )
        points, rejected = rn.load_points(path)
        assert points["point_id"].tolist() == ["n3"]
        reasons = dict(zip(rejected["point_id"], rejected["reason"], strict=True))
        assert reasons == {
            "n1": "latitude 91 outside [-90, 90]",
            "n2": "longitude 200 outside [-180, 180]",
        }

    def test_plain_files_are_not_copied(self):
        import relaynet.io.osm as osm

        path = FIXTURES / "relay_points.osm"
        with osm.checked_osm_file(path) as (readable, bad):
            assert readable == path and bad == {}


# --------------------------------------------------------------------------- 4. --within ""


class TestEmptyWithin:
    def test_library_keeps_blank_as_no_area(self):
        # parse_within("  ") is None by design (tests/test_io_within.py): the guard is the
        # command line's, where an empty --within is a typing or unset-variable mistake
        assert parse_within("  ") is None and parse_within(None) is None

    @pytest.mark.parametrize(
        "command",
        [
            ("validate", FIXTURES / "formats" / "dpd_pudo.json"),
            ("coverage", "--out", "never_written"),
            ("nearest", "--at", "45.0,4.0"),
        ],
    )
    @pytest.mark.parametrize("value", ["", " "])
    def test_cli_usage_error(self, tmp_path, monkeypatch, command, value):
        monkeypatch.chdir(tmp_path)
        result = invoke(*command, "--within", value)
        assert result.exit_code == 2, result.output
        assert "'--within'" in error_line(result) and "is empty" in result.output
        assert not (tmp_path / "never_written").exists()


# --------------------------------------------------------------------------- 5. gzip bombs


@pytest.fixture
def bomb(tmp_path, monkeypatch) -> Path:
    """50 MB of zeros after a header, about 50 KB compressed; the cap lowered to 10 MB."""
    monkeypatch.setattr(io_read, "MAX_DECOMPRESSED_BYTES", 10_000_000)
    path = tmp_path / "points.csv.gz"
    path.write_bytes(gzip.compress(b"id;lat;lon\n" + b"0" * 50_000_000, 6))
    assert path.stat().st_size < 1_000_000
    return path


class TestGzipBomb:
    def test_csv_stops_at_the_cap(self, bomb):
        with pytest.raises(InputError, match="decompresses to more than 10,000,000 bytes") as exc:
            rn.load_points(bomb)
        assert_one_line(exc, bomb)
        assert "MAX_DECOMPRESSED_BYTES" in str(exc.value)
        result = validate(bomb)
        assert result.exit_code == 2, result.output
        assert "decompresses to more than" in error_line(result)

    def test_demand_and_carrier_readers(self, bomb, tmp_path):
        with pytest.raises(InputError, match="decompresses to more than"):
            rn.load_demand(bomb)
        osm = tmp_path / "bomb.osm.gz"
        osm.write_bytes(gzip.compress(b"<osm>" + b" " * 50_000_000 + b"</osm>", 6))
        with pytest.raises(InputError, match="cannot read as an OSM file .decompresses to more"):
            rn.load_points(osm)

    def test_under_the_cap_reads_every_member(self, tmp_path, monkeypatch):
        monkeypatch.setattr(io_read, "MAX_DECOMPRESSED_BYTES", 1_000)
        path = tmp_path / "points.csv.gz"
        path.write_bytes(gzip.compress(b"id;lat;lon\nA;45;4\n") + gzip.compress(b"B;45.1;4.1\n"))
        points, rejected = rn.load_points(path)
        assert points["point_id"].tolist() == ["A", "B"] and len(rejected) == 0
        monkeypatch.setattr(io_read, "MAX_DECOMPRESSED_BYTES", 20)
        with pytest.raises(InputError, match="decompresses to more than 20 bytes"):
            rn.load_points(path)

    def test_default_cap(self):
        assert io_read.MAX_DECOMPRESSED_BYTES == 2 * 1024**3


# --------------------------------------------------------------------------- 6. cost tables


class TestCostTableDuplicates:
    TABLE = pd.DataFrame(
        {
            "demand_id": ["d0", "d1", "d1", "d2"],
            "point_id": ["p0", "p0", "p1", "p1"],
            "cost": [100.0, 900.0, 700.0, 1300.0],
        }
    )

    def test_different_costs_refused_naming_rows(self):
        table = pd.concat([self.TABLE, self.TABLE.iloc[[1]].assign(cost=50.0)], ignore_index=True)
        with pytest.raises(InputError, match="1 .demand_id, point_id. pairs given different") as e:
            CostTable(table, "s")
        assert "('d1', 'p0') on rows [1, 4], costs 900, 50" in str(e.value)
        assert str(e.value).isprintable()

    def test_exact_repeats_collapsed_and_reported(self):
        table = pd.concat([self.TABLE, self.TABLE.iloc[[0, 2]]], ignore_index=True)
        with pytest.warns(UserWarning, match=r"2 rows repeat an earlier row exactly .* \[4, 5\]"):
            costs = CostTable(table, "s")
        assert costs.repeated_rows == 2 and len(costs.table) == 4
        assert "2 repeated rows counted once" in costs.describe()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            clean = CostTable(self.TABLE, "s")
        assert clean.repeated_rows == 0
        pd.testing.assert_frame_equal(costs.table, clean.table)

    def test_sparse_matrix_entries(self):
        matrix = sparse.coo_array(([5.0, 6.0, 7.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
        with pytest.raises(InputError, match=r"matrix entry \(0, 1\) stored 2 times, costs 5, 6"):
            CostTable(matrix, "s")
        matrix = sparse.coo_array(([5.0, 5.0, 7.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
        with pytest.warns(UserWarning, match="1 rows repeat"):
            costs = CostTable(matrix, "s")
        assert costs.repeated_rows == 1 and costs._sparse.nnz == 2

    def test_file_and_cli(self, tmp_path):
        path = tmp_path / "costs.csv"
        table = pd.concat([self.TABLE, self.TABLE.iloc[[3]].assign(cost=1.0)], ignore_index=True)
        table.to_csv(path, index=False)
        with pytest.raises(InputError, match=r"costs.csv: costs: 1 \(demand_id, point_id\) pairs"):
            read_costs(path, "s")
        points = tmp_path / "points.csv"
        points.write_text("id;lat;lon\np0;45;3\np1;45.03;3\n")
        demand = tmp_path / "demand.csv"
        demand.write_text("demand_id;weight;lat;lon\nd0;1;45;3\nd1;1;45.01;3\nd2;1;45.02;3\n")
        args = ["coverage", "--points", points, "--demand", demand, "--standard", "15min"]
        result = invoke(*args, "--costs", path, "--costs-unit", "s", "--out", tmp_path / "o")
        assert result.exit_code == 2, result.output
        assert "pairs given different costs" in error_line(result)


# --------------------------------------------------------------------------- 7. dask CSV


class TestDaskDelimiters:
    @pytest.mark.parametrize(
        ("delimiter", "decimal", "name"),
        [(";", ",", "demand.csv"), ("\t", ".", "demand.txt"), (";", ".", "demand.csv.gz")],
    )
    def test_read_demand_like_the_local_loader(self, tmp_path, delimiter, decimal, name):
        pytest.importorskip("dask_geopandas")
        from relaynet.distributed import read_demand

        rows = [("A", "10", "45.5", "4.25", "01"), ("B", "3", "45.6", "4.3", "02")]
        lines = ["demand_id", "weight", "lat", "lon", "area_id"]
        text = delimiter.join(lines) + "\n"
        text += "".join(delimiter.join(r).replace(".", decimal) + "\n" for r in rows)
        data = "\ufeff".encode() + text.encode()  # with a byte-order mark, as Excel writes
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        local, rejected = rn.load_demand(path)
        assert len(rejected) == 0
        frame = read_demand(str(path)).compute(scheduler="synchronous")
        assert frame["demand_id"].tolist() == local["demand_id"].tolist() == ["A", "B"]
        assert frame["area_id"].tolist() == ["01", "02"]
        np.testing.assert_allclose(frame.geometry.y, local.geometry.y)
        np.testing.assert_allclose(frame.geometry.x, local.geometry.x)

    def test_gzip_bomb_stops_before_the_workers(self, bomb, tmp_path):
        pytest.importorskip("dask_geopandas")
        from relaynet.distributed import read_demand

        path = tmp_path / "demand.csv.gz"
        path.write_bytes(gzip.compress(b"demand_id;lat;lon\n" + b"0" * 50_000_000, 6))
        with pytest.raises(InputError, match="decompresses to more than"):
            read_demand(str(path))


# --------------------------------------------------------------------------- 8. dask rows

DEMAND_PARQUET = Path(__file__).resolve().parents[1] / "data" / "communes_demand.parquet"
POINTS_PARQUET = Path(__file__).resolve().parents[1] / "data" / "laposte_points.parquet"
DASK_KPIS = ["n_places", "weight", "covered_weight", "share_covered", "fragile_weight"]


@pytest.fixture(scope="module")
def dask_client():
    """A small in-process cluster (threads), as the other dask tests use."""
    pytest.importorskip("dask_geopandas")
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def lyon_points():
    import geopandas as gpd

    points = gpd.read_parquet(POINTS_PARQUET)
    return points.cx[4.0:5.6, 45.0:46.4].reset_index(drop=True)


def demand_text(delimiter: str, n: int = 400) -> tuple[str, dict[int, str]]:
    """Demand of ``n`` communes around Lyon under alias headers (``insee``, ``latitude``,
    ``lng``, ``population``, ``dep``), with bad rows among them: ``{line: reason}``."""
    import geopandas as gpd

    communes = gpd.read_parquet(DEMAND_PARQUET).cx[4.0:5.6, 45.0:46.4].iloc[:n]
    decimal = "," if delimiter == ";" else "."

    def number(value: float) -> str:
        return f"{value:.6f}".replace(".", decimal)

    rows = [
        [i, number(y), number(x), f"{w:g}", a]
        for i, y, x, w, a in zip(
            communes["demand_id"],
            communes.geometry.y,
            communes.geometry.x,
            communes["weight"],
            communes["area_id"],
            strict=True,
        )
    ]
    bad = {
        3: (["69999", "", number(4.8), "10", "69"], "missing coordinates"),
        40: (["69998", number(45.7), "abc", "10", "69"], "non-numeric longitude 'abc'"),
        90: (["69997", "1e999", number(4.8), "10", "69"], "latitude '1e999' outside"),
        150: (["69996", number(4.8), number(45.7), "10", "69"], "latitude/longitude look swap"),
        220: (["69995", number(45.7), number(4.8), "-3", "69"], "negative weight -3"),
        300: (["69994", number(45.7), number(4.8)], "row has 3 fields, header has 5"),
        360: ([""], "blank line"),
        len(rows) + 1: (["69993", number(45.7), "x", "1", "69"], "non-numeric longitude 'x'"),
    }
    for line in sorted(bad):
        rows.insert(line - 2, bad[line][0])
    rows.insert(1, rows[0])  # a repeated id on the next line: "duplicate demand_id"
    shifted = {k + 1: v[1] for k, v in bad.items()}
    shifted[3] = f"duplicate demand_id {rows[0][0]!r} (first on line 2)"
    header = delimiter.join(["insee", "latitude", "lng", "population", "dep"])
    text = header + "\n" + "".join(delimiter.join(map(str, r)) + "\n" for r in rows)
    return text, shifted


class TestDaskRejectedRows:
    """The dask engine reads delimited demand with the local loader's code: the same rows
    rejected (line and reason), the same KPIs on the rows accepted."""

    @pytest.mark.parametrize(("delimiter", "npartitions"), [(";", 3), (",", 4), ("\t", 1)])
    def test_same_rejected_rows_and_kpis_as_local(
        self, tmp_path, dask_client, lyon_points, delimiter, npartitions
    ):
        from relaynet import distributed as rd
        from relaynet.coverage import assess as local_assess

        text, reasons = demand_text(delimiter)
        path = tmp_path / "demand.csv"
        path.write_text(text, encoding="utf-8")
        accepted, rejected = rn.load_demand(path)
        assert dict(zip(rejected["row"], rejected["reason"], strict=True)).keys() == reasons.keys()
        for line, reason in reasons.items():
            assert rejected.set_index("row").loc[line, "reason"].startswith(reason)
        result = rd.assess(
            str(path),
            lyon_points,
            "5km",
            windows=None,
            scheduler=dask_client,
            npartitions=npartitions,
        )
        assert result.n_partitions == npartitions
        assert result.n_rejected == len(rejected) == len(reasons)
        assert (result.rejected["file"] == str(path)).all()
        pd.testing.assert_frame_equal(result.rejected.drop(columns="file"), rejected)
        local = local_assess(accepted, lyon_points, "5km", windows=None)
        assert result.n_places == len(accepted) == len(text.splitlines()) - 1 - len(rejected)
        for table, expected in ((result.kpis, local.kpis), (result.by_area, local.by_area)):
            pd.testing.assert_frame_equal(
                table[DASK_KPIS], expected[DASK_KPIS], rtol=1e-12, check_index_type=False
            )
            np.testing.assert_array_equal(
                table["p90_distance_m"], np.ceil(expected["p90_distance_m"])
            )

    def test_nearest_returns_or_warns_rejected_rows(self, tmp_path, dask_client, lyon_points):
        from relaynet import distributed as rd
        from relaynet.nearest import Locator

        text, _ = demand_text(",", n=500)
        path = tmp_path / "places.csv"
        path.write_text(text)
        accepted, rejected = rn.load_demand(path)
        table, got = rd.nearest(
            str(path), lyon_points, scheduler=dask_client, npartitions=3, return_rejected=True
        )
        pd.testing.assert_frame_equal(got.drop(columns="file"), rejected)
        expected = Locator(lyon_points).nearest(accepted)
        np.testing.assert_array_equal(table["demand_id"], expected["demand_id"].astype(str))
        np.testing.assert_allclose(table["distance_m"], expected["distance_m"])
        with pytest.warns(UserWarning, match=rf"{len(rejected)} demand rows rejected \(line 3: "):
            rd.nearest(str(path), lyon_points, scheduler=dask_client)

    def test_lazy_frame_names_the_lines_it_cannot_hold(self, tmp_path):
        pytest.importorskip("dask_geopandas")
        from relaynet.distributed import read_demand

        path = tmp_path / "demand.csv"
        path.write_text("id,lat,lon\na,45.5,4.5\nb,,4.5\nc,45.6,4.6\n")
        frame = read_demand(str(path))
        assert list(frame.columns)[0] == "demand_id"  # 'id' is a spelling of demand_id
        with pytest.raises(InputError, match=r"1 bad rows in a partition — line 3: missing coord"):
            frame.compute(scheduler="synchronous")
        path.write_text("id,lat,lon\na,45.5,4.5\nc,45.6,4.6\n")
        assert read_demand(str(path)).compute(scheduler="synchronous")["demand_id"].tolist() == [
            "a",
            "c",
        ]

    def test_every_row_rejected_is_an_error(self, tmp_path, dask_client, lyon_points):
        from relaynet import distributed as rd

        path = tmp_path / "demand.csv"
        path.write_text("code_insee;lat;lon\n69001;;4,8\n69002;abc;4,8\n")
        with pytest.raises(InputError, match=r"no usable demand rows \(2 demand rows rejected"):
            rd.assess(str(path), lyon_points, "5km", windows=None, scheduler=dask_client)

    def test_header_checked_on_the_client(self, tmp_path):
        pytest.importorskip("dask_geopandas")
        from relaynet.distributed import read_demand

        path = tmp_path / "demand.csv"
        path.write_text("nom;lat;lon\nA;45;4\n")
        with pytest.raises(InputError, match="missing required column 'demand_id' .or a known"):
            read_demand(str(path))
        path.write_text("id;x;y\nA;45;4\n")
        with pytest.raises(InputError, match="no latitude/longitude columns"):
            read_demand(str(path))

    @pytest.mark.parametrize("newline", ["\n", "\r\n"])
    def test_blocks_read_as_the_whole_file(self, tmp_path, newline):
        """Every block split gives the loader's cells, line numbers and reasons: quoted
        delimiters, blank and ``;;;`` lines, ragged rows, no final line end."""
        pytest.importorskip("dask_geopandas")
        import dask

        from relaynet.distributed._source import demand_parts

        rng = np.random.default_rng(8)
        lines = ["", "demand_id;lat;lon;weight"]
        for i in range(300):
            kind = rng.integers(0, 12)
            cells = [f"d{i}", f"45,{rng.integers(10**5)}", f"4,{rng.integers(10**5)}", "2"]
            if kind == 0:
                cells = []
            elif kind == 1:
                cells = ["", "", "", ""]
            elif kind == 2:
                cells = cells[:3]
            elif kind == 3:
                cells[0] = f'"quoted; d{i}"'
            elif kind == 4:
                cells[1] = "nord"
            lines.append(";".join(cells))
        path = tmp_path / "demand.csv"
        path.write_bytes(newline.join(lines).encode())  # no line end after the last row
        accepted, rejected = rn.load_demand(path)
        assert 0 < len(rejected) < 200
        for n in (1, 2, 5, 16, 60):
            parts = demand_parts(str(path), npartitions=n)
            got = dask.compute(*parts.tasks(), scheduler="synchronous")
            assert len(got) == n
            a = pd.concat([g.accepted for g in got], ignore_index=True)
            r = pd.concat([g.rejected for g in got], ignore_index=True)
            pd.testing.assert_frame_equal(r.drop(columns="file"), rejected)
            pd.testing.assert_frame_equal(
                a.drop(columns="geometry"), accepted.drop(columns="geometry")
            )
            np.testing.assert_array_equal(a.geometry.x, accepted.geometry.x)

    def test_gzip_and_several_files(self, tmp_path, dask_client, lyon_points):
        from relaynet import distributed as rd

        first = "demand_id;lat;lon\na;45,5;4,5\nb;;4,5\n"
        (tmp_path / "d1.csv").write_text(first)
        (tmp_path / "d2.csv.gz").write_bytes(gzip.compress(b"demand_id;lat;lon\nc;45.6;x\n"))
        result = rd.assess(
            str(tmp_path / "d*.csv*"), lyon_points, "5km", windows=None, scheduler=dask_client
        )
        assert result.n_places == 1
        assert result.rejected[["file", "row", "reason"]].values.tolist() == [
            [str(tmp_path / "d1.csv"), 3, "missing coordinates"],
            [str(tmp_path / "d2.csv.gz"), 2, "non-numeric longitude 'x'"],
        ]


# --------------------------------------------------------------------------- 9. cost files


class TestCostFiles:
    TABLE = TestCostTableDuplicates.TABLE

    def test_semicolon_decimal_comma_cp1252(self, tmp_path):
        comma = tmp_path / "costs.csv"
        self.TABLE.to_csv(comma, index=False)
        semicolon = tmp_path / "costs_fr.csv"
        text = "Demand ID;Point_ID;Cost\n" + "".join(
            f"{d};{p};{c:g}\n".replace(".", ",") for d, p, c in self.TABLE.itertuples(index=False)
        )
        semicolon.write_bytes(text.replace("d2", "d2é").encode("cp1252"))
        gz = tmp_path / "costs.tsv.gz"
        gz.write_bytes(gzip.compress(self.TABLE.to_csv(sep="\t", index=False).encode()))
        expected = read_costs(comma, "s").table
        pd.testing.assert_frame_equal(read_costs(gz, "s").table, expected)
        got = read_costs(semicolon, "s").table
        assert got["demand_id"].tolist() == ["d0", "d1", "d1", "d2é"]
        pd.testing.assert_frame_equal(
            got.drop(columns="demand_id"), expected.drop(columns="demand_id")
        )
        (tmp_path / "half.csv").write_text("demand_id;point_id;cost\nd0;p0;12,5\n")
        assert read_costs(tmp_path / "half.csv", "s").table["cost"].tolist() == [12.5]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("d0;p0;1\nd1;p0;abc\n", r"cost missing, negative or not a number on lines \[3\]"),
            ("d0;p0;1\nd1;p0\n", r"lines \[3\] do not have the header's 3 fields"),
            ("d0;p0;1\n ;p0;3\n", r"demand_id missing on lines \[3\]"),
            ("d0;p0;1\nd0;p0;2\n", r"\('d0', 'p0'\) on lines \[2, 3\], costs 1, 2"),
        ],
    )
    def test_errors_name_the_file_and_lines(self, tmp_path, body, message):
        path = tmp_path / "costs.csv"
        path.write_text("demand_id;point_id;cost\n" + body)
        with pytest.raises(InputError, match=message) as exc:
            read_costs(path, "s")
        assert_one_line(exc, path)
        path.write_text("demand_id;point_id\nd0;p0\n")
        with pytest.raises(InputError, match=r"lacks columns \['cost'\]"):
            read_costs(path, "s")

    def test_unknown_places_are_warned_unknown_points_counted(self):
        import geopandas as gpd

        from relaynet.coverage import assess

        demand = gpd.GeoDataFrame(
            {"demand_id": ["d0", "d1", "d2"], "weight": 1.0, "area_id": "a"},
            geometry=gpd.points_from_xy([3.0] * 3, [45.0, 45.01, 45.02]),
            crs="EPSG:4326",
        )
        points = gpd.GeoDataFrame(
            {"point_id": ["p0", "p1"]}, geometry=gpd.points_from_xy([3.0, 3.0], [45.0, 45.03])
        ).set_crs("EPSG:4326")
        extra = pd.DataFrame(
            {
                "demand_id": ["01", "x9", "x9", "d0"],
                "point_id": ["p0", "p0", "p1", "cand:d0"],
                "cost": [5.0, 6.0, 7.0, 8.0],
            }
        )
        costs = CostTable(pd.concat([self.TABLE, extra], ignore_index=True), "s")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = assess(demand, points, "15min", windows=None, costs=costs)
        messages = [str(w.message) for w in caught]
        assert messages == [
            "costs: 3 rows name a demand_id that is not in the demand (2 ids: '01', 'x9') "
            "(rows [4, 5, 6]); they are ignored"
        ], messages  # once per assessment, however often the table is asked
        assert costs.unknown_demand_rows == 3 and costs.unknown_point_rows == 1
        assert result.travel_costs == (
            "cost table (8 pairs, seconds, 3 rows naming unknown places ignored, "
            "1 rows naming other points ignored)"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assess(demand, points, "15min", windows=None, costs=CostTable(self.TABLE, "s"))

    def test_cli_reads_a_semicolon_file(self, tmp_path):
        points = tmp_path / "points.csv"
        points.write_text("id;lat;lon\np0;45;3\np1;45.03;3\n")
        demand = tmp_path / "demand.csv"
        demand.write_text("demand_id;weight;lat;lon\nd0;1;45;3\nd1;1;45.01;3\nd2;1;45.02;3\n")
        costs = tmp_path / "costs.csv"
        costs.write_text("demand_id;point_id;cost\nd0;p0;100,5\nd1;p1;700\nd2;p1;1300\n")
        out = tmp_path / "out"
        result = invoke(
            "coverage", "--points", points, "--demand", demand, "--standard", "15min",
            "--costs", costs, "--costs-unit", "s", "--no-windows", "--quiet", "--out", out,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads((out / "kpis.json").read_text())["overall"]["covered_weight"] == 2


# --------------------------------------------------------------------------- 10. road files


def road_file(bad: str | None) -> str:
    """A 3 × 3 grid of two-way streets around (45.0, 4.0), and a dead end to node 99 at
    latitude ``bad`` (none: no dead end)."""
    nodes = [
        f'<node id="{10 * r + c}" lat="{45 + r / 1000}" lon="{4 + c / 1000}"/>'
        for r in range(3)
        for c in range(3)
    ]
    street = '<tag k="highway" v="residential"/>'
    ways = [
        f'<way id="{100 + r}">'
        + "".join(f'<nd ref="{10 * r + c}"/>' for c in range(3))
        + f"{street}</way>"
        for r in range(3)
    ] + [
        f'<way id="{200 + c}">'
        + "".join(f'<nd ref="{10 * r + c}"/>' for r in range(3))
        + f"{street}</way>"
        for c in range(3)
    ]
    if bad is not None:
        nodes.append(f'<node id="99" lat="{bad}" lon="4.003"/>')
        ways.append(f'<way id="300"><nd ref="22"/><nd ref="99"/>{street}</way>')
    return osm_text(*nodes, ways="".join(ways))


class TestRoadCoordinates:
    """Road files go through the relay-point reader's check (relaynet.io.osm.checked_osm_file):
    a node libosmium would misread (1e99 → latitude 0) or stop at (nan) leaves its way out,
    with a warning naming it, never a road to the equator."""

    @pytest.mark.parametrize("builder", ["from_osm_file", "from_pbf"])
    @pytest.mark.parametrize(
        ("lat", "shown"),
        [
            ("1e99", "'1e99'"),
            ("1e999", "'1e999'"),
            ("-1e999", "'-1e999'"),
            ("nan", "'nan'"),
            ("inf", "'inf'"),
            ("abc", "'abc'"),
            ("91", "'91'"),
        ],
    )
    def test_bad_node_leaves_its_way_out(self, tmp_path, builder, lat, shown):
        from relaynet.network import RoadNetwork
        from relaynet.network._build import BadCoordinatesWarning

        clean = tmp_path / "clean.osm"
        clean.write_text(road_file(None))
        path = tmp_path / "roads.osm.gz"
        path.write_bytes(gzip.compress(road_file(lat).encode()))
        expected = getattr(RoadNetwork, builder)(clean)
        with pytest.warns(BadCoordinatesWarning) as caught:
            net = getattr(RoadNetwork, builder)(path)
        assert [str(w.message) for w in caught] == [
            f"{path}: left out 1 drive way(s) using nodes whose coordinates are not numbers in "
            f"range (n99: lat={shown}, lon='4.003')"
        ]
        assert net.lat.min() >= 45.0 and net.n_nodes == expected.n_nodes
        np.testing.assert_array_equal(np.sort(net.lat), np.sort(expected.lat))

    def test_plain_values_are_read(self, tmp_path):
        from relaynet.network import RoadNetwork

        path = tmp_path / "roads.osm"
        path.write_text(road_file("+45.0035").replace('lon="4.003"', 'lon=" 4.003 "'))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for builder in (RoadNetwork.from_osm_file, RoadNetwork.from_pbf):
                net = builder(path)
                assert 45.0035 in np.round(net.lat, 7)

    def test_pbf_out_of_range(self, tmp_path):
        import osmium

        from relaynet.network import RoadNetwork
        from relaynet.network._build import BadCoordinatesWarning

        xml = tmp_path / "roads.osm"
        xml.write_text(road_file("91"))
        pbf = tmp_path / "roads.osm.pbf"
        with osmium.SimpleWriter(str(pbf)) as writer:
            for obj in osmium.FileProcessor(str(xml)):
                writer.add(obj)
        with pytest.warns(BadCoordinatesWarning, match=r"\(n99: lat='91', lon='4.003'\)"):
            net = RoadNetwork.from_pbf(pbf)
        assert net.lat.max() < 46

    def test_only_a_ring_is_a_network_error(self, tmp_path):
        from relaynet.errors import NetworkError
        from relaynet.network import RoadNetwork

        ring = "".join(f'<nd ref="{i}"/>' for i in (1, 2, 3, 1))
        path = tmp_path / "ring.osm"
        path.write_text(
            osm_text(
                *(
                    f'<node id="{i}" lat="{45 + i / 1000}" lon="{4 + (i % 2) / 1000}"/>'
                    for i in (1, 2, 3)
                ),
                ways=f'<way id="5">{ring}<tag k="highway" v="residential"/></way>',
            )
        )
        for builder in (RoadNetwork.from_osm_file, RoadNetwork.from_pbf):
            with pytest.raises(NetworkError, match="road graph has no edges"):
                builder(path)


# --------------------------------------------------------------------------- 11. carrier tables


class TestCarrierTables:
    def test_header_without_delimiter_is_refused_as_everywhere(self, tmp_path):
        path = tmp_path / "export.csv"
        path.write_text("Num\n066100\n")
        with pytest.raises(InputError, match="has no ';', ',', tab or '|' delimiter") as exc:
            rn.load_points(path, format="mondial_relay")
        assert_one_line(exc, path)
        with pytest.raises(InputError, match="has no ';', ',', tab or '|' delimiter"):
            rn.load_points(path)

    def test_delimiter_only_row_at_the_end_is_a_rejected_row(self, tmp_path):
        source = FIXTURES / "formats" / "mondial_relay_export.csv"
        data = source.read_bytes().rstrip(b"\r\n") + b"\n;;;;\n\n"
        path = tmp_path / "export.csv"
        path.write_bytes(data)
        points, rejected = rn.load_points(source)
        more, more_rejected = rn.load_points(path, format="mondial_relay")
        assert len(more) == len(points) and len(more_rejected) == len(rejected) + 1
        last = len(data.rstrip(b"\n").splitlines())
        assert more_rejected["row"].iloc[-1] == last

    def test_one_decoder(self):
        from relaynet.formats import _base

        assert not hasattr(io_read, "_decode")
        assert _base.decode(b"\xef\xbb\xbfR\xc3\xa9", "x") == _base.decode(b"R\xe9", "x") == "Ré"
        with pytest.raises(InputError, match="x: looks like a binary file, expected text"):
            _base.decode(b"a\x00b", "x")


# --------------------------------------------------------------------------- 12. empty exports


class TestEmptyExportsDetected:
    @pytest.mark.parametrize(("format", "name", "text"), EMPTY_CARRIER_FILES)
    def test_auto_gives_the_readers_message(self, tmp_path, format, name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=f"has no {format} points") as exc:
            rn.load_points(path)
        assert_one_line(exc, path)
        result = validate(path)
        assert result.exit_code == 2, result.output
        assert f"has no {format} points" in error_line(result)

    def test_other_xml_is_still_unknown(self, tmp_path):
        path = tmp_path / "other.xml"
        path.write_text("<Stores><Store/></Stores>")
        with pytest.raises(InputError, match="unknown file type '.xml'"):
            rn.load_points(path)


def test_dask_blocks_keep_quoted_line_ends_whole(tmp_path):
    """A quoted field holding a line end is never cut between two dask blocks: every
    cut starts a record, whatever the number of partitions (same rows as one block)."""
    from relaynet.distributed._source import _record_cuts

    rows = ["demand_id;name;lat;lon;weight"]
    for i in range(200):
        name = f'"Lieu {i}\nsuite; ""cité"""' if i % 3 == 0 else f"Lieu {i}"
        rows.append(f"d{i};{name};44.{i:03d};3.5;{i + 1}")
    data = ("\n".join(rows) + "\n").encode()
    path = tmp_path / "demand.csv"
    path.write_bytes(data)
    start = data.index(b"\n") + 1
    starts = {start + len(b"\n".join(r.encode() for r in rows[1 : k + 1])) + 1 for k in range(200)}
    for n in (2, 3, 7, 40, 199):
        cuts = [start + ((len(data) - start) * i) // n for i in range(n + 1)]
        got = _record_cuts(str(path), cuts)
        assert got[0] == start and got[-1] == len(data) and got == sorted(set(got))
        assert all(c in starts for c in got[1:-1]), n


@pytest.mark.parametrize("newline", ["", None])
def test_csv_cell_with_carriage_return_stays_one_neutralised_cell(tmp_path, newline):
    """A cell '\\r=1+1' is quoted (RFC 4180 line ends): no reader splits it into a new
    line starting with '=1+1' (found by the report fuzz)."""
    import csv

    import pandas as pd

    from relaynet.io import write_csv

    path = write_csv(
        pd.DataFrame({"name": ["\r=1+1", "a\rb", "ok"], "n": [1, 2, 3]}), tmp_path / "x.csv"
    )
    with path.open(encoding="utf-8", newline=newline) as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 4 and all(len(r) == 2 for r in rows)
    assert not any(c.startswith(("=", "+", "@", "-")) for r in rows for c in r)
    assert pd.read_csv(path)["name"].tolist()[2] == "ok"
