"""Hostile and degenerate inputs, one class per defect: empty carrier exports and OSM files,
OSM coordinates that are not numbers in range, ``--within ""``, gzip bombs, a cost table
giving one pair several costs, and ``;``-separated demand on the dask engine.

Policy checked throughout: bad input is a one-line error (CLI exit 2) or a rejected row
naming the row and the reason (CLI exit 1); no row is silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import relaynet as rn
from relaynet.cli import main
from relaynet.errors import InputError

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
