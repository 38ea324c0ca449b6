"""Carrier formats, detection and spreadsheets (relaynet.formats) on the fixtures in
tests/fixtures/formats (illustrative records in each carrier's documented layout, written
by make_fixtures.py there). Opening hours are checked against opening-hours-py."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import opening_hours
import pandas as pd
import pytest

import relaynet as rn
from relaynet import formats
from relaynet.errors import InputError, ParameterError

FIXTURES = Path(__file__).parent / "fixtures" / "formats"

MONDAY = dt.date(2026, 6, 1)  # a Monday without public holiday


def at(day_offset: int, hour: int, minute: int = 0, base: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(base + dt.timedelta(days=day_offset), dt.time(hour, minute))


def load(name: str, **kwargs):
    accepted, rejected = rn.load_points(FIXTURES / name, **kwargs)
    return accepted.set_index("point_id", drop=False), rejected


def assert_hours(points, point_id: str, expected: dict[dt.datetime, bool]) -> None:
    """The point's OSM string, evaluated by opening-hours-py, matches ``expected`` — and so
    does relaynet.hours on the loaded table (same instants)."""
    text = points.loc[point_id, "opening_hours"]
    oh = opening_hours.OpeningHours(text)
    for when, is_open in expected.items():
        assert oh.is_open(when) is is_open, (point_id, text, when)
        row = points.loc[[point_id]]
        assert bool(rn.hours.is_open(row, when)[0]) is is_open, (point_id, text, when)


def rows_conserved(accepted, rejected, n: int) -> None:
    assert len(accepted) + len(rejected) == n


class TestMondialRelay:
    def test_soap_xml(self):
        points, rejected = load("mondial_relay_search.xml")
        rows_conserved(points, rejected, 5)
        assert list(points.index) == ["011721", "022045", "033310"]  # ids kept, zeros too
        assert (points["network"] == "mondial_relay").all()
        assert (points["hours_source"] == "carrier").all()
        assert points.loc["011721", "name"] == "RELAIS EXEMPLE LILLE"
        assert points.loc["011721", "kind"] == "counter"
        assert points.loc["022045", "kind"] == "locker"
        assert points.loc["011721", "max_weight_kg"] == 30.0
        assert np.isnan(points.loc["022045", "max_weight_kg"])
        assert points.loc["011721", "services"] == "dropoff;pickup;returns"
        lille = points.loc["011721"].geometry
        assert (round(lille.y, 4), round(lille.x, 4)) == (50.6292, 3.0573)  # decimal comma
        nantes = points.loc["022045"].geometry
        assert round(nantes.x, 4) == -1.5536  # sign kept
        assert_hours(
            points,
            "011721",
            {at(0, 10): True, at(0, 12, 30): False, at(0, 18, 59): True, at(5, 11): True,
             at(5, 15): False, at(6, 10): False},
        )  # fmt: skip
        assert points.loc["022045", "opening_hours"] == "24/7"
        # Informations_Dispo: closed 1–16 August 2026, open the week before
        assert_hours(
            points,
            "033310",
            {at(0, 10, base=dt.date(2026, 7, 27)): True, at(0, 10, base=dt.date(2026, 8, 3)): False,
             at(0, 10, base=dt.date(2026, 8, 17)): True},
        )  # fmt: skip

    def test_bad_rows_have_reasons_and_record_numbers(self):
        _, rejected = load("mondial_relay_search.xml")
        reasons = dict(zip(rejected["row"], rejected["reason"], strict=True))
        assert "Horaires_Mardi" in reasons[4] and "09h0" in reasons[4]
        assert reasons[5] == "missing coordinates"
        assert (rejected["source_file"] == str(FIXTURES / "mondial_relay_search.xml")).all()

    def test_latin1_csv_export(self):
        points, rejected = load("mondial_relay_export.csv")
        rows_conserved(points, rejected, 3)
        assert points.loc["066100", "city"] == "SAINT-ÉTIENNE"
        assert points.loc["077200", "address"] == "7 ALLÉE EXEMPLE"
        assert_hours(
            points, "066100", {at(0, 9, 45): True, at(0, 13): False, at(5, 12, 30): True,
                               at(5, 13, 30): False}
        )  # fmt: skip
        christmas = dt.date(2026, 12, 21)  # a Monday
        assert_hours(points, "077200", {at(0, 10, base=christmas): True,
                                        at(3, 10, base=christmas): False})  # fmt: skip
        # the swapped row is rejected on its file line (header = line 1)
        assert rejected["row"].tolist() == [4]
        assert "look swapped" in rejected["reason"].iloc[0]


class TestInPost:
    def test_items(self):
        points, rejected = load("inpost_points.json")  # UTF-8 with BOM
        rows_conserved(points, rejected, 5)
        assert points.loc["FRLIL01M", "kind"] == "locker"
        assert points.loc["FRPAR02P", "kind"] == "counter"  # type pop
        assert points.loc["FRLIL01M", "services"] == "dropoff;pickup;returns"
        assert points.loc["FRPAR02P", "services"] == "dropoff;pickup"
        assert (points["network"] == "inpost").all()
        assert points["max_weight_kg"].isna().all()  # the API states no limit
        assert points.loc["FRLIL01M", "opening_hours"] == "24/7"
        assert points.loc["FRSTR03M", "opening_hours"] == "24/7"  # location_247, no text
        assert_hours(
            points, "FRPAR02P", {at(0, 9, 59): False, at(0, 10): True, at(4, 18, 59): True,
                                 at(5, 13): True, at(5, 14, 30): False, at(6, 12): False}
        )  # fmt: skip
        reasons = dict(zip(rejected["row"], rejected["reason"], strict=True))
        assert reasons[4] == "status 'Disabled': not operating"
        assert "'po uzgodnieniu' not understood" in reasons[5]

    def test_empty_or_malformed_items(self, tmp_path):
        document = json.loads((FIXTURES / "inpost_points.json").read_text(encoding="utf-8-sig"))
        path = tmp_path / "points.json"
        path.write_text(json.dumps({**document, "items": []}), encoding="utf-8")
        with pytest.raises(InputError, match="points.json: has no inpost points"):
            rn.load_points(path)
        items = document["items"]
        items[3], items[4] = None, [1, 2]  # each listed item is a row, never the envelope
        path.write_text(json.dumps(document), encoding="utf-8")
        points, rejected = rn.load_points(path, format="inpost")
        rows_conserved(points, rejected, 5)
        assert set(rejected["row"]) >= {4, 5}

    @pytest.mark.parametrize(
        ("text", "osm"),
        [
            ("PN-PT 10-19 SB 10-14", "Mo-Fr 10:00-19:00; Sa 10:00-14:00"),
            ("pn-pt 8.00-18.00, sb 9-13", "Mo-Fr 08:00-18:00; Sa 09:00-13:00"),
            ("Pn-Pt: 08:00-12:00, 13:00-17:00; Nd 10-12",
             "Mo-Fr 08:00-12:00,13:00-17:00; Su 10:00-12:00"),
            ("Mon-Sat 07-22", "Mo-Sa 07:00-22:00"),
            ("PN-PT 10-25", None),
            ("na telefon", None),
        ],
    )  # fmt: skip
    def test_hours_text(self, text, osm):
        from relaynet.formats.inpost import inpost_hours

        assert inpost_hours(text) == osm


class TestColissimo:
    def test_json(self):
        points, rejected = load("colissimo_points.json")
        rows_conserved(points, rejected, 5)
        assert points.loc["750100", "kind"] == "post_office"  # BPR
        assert points.loc["750200", "kind"] == "counter"  # A2P
        assert points.loc["750300", "kind"] == "locker"  # PCS
        assert points.loc["750100", "max_weight_kg"] == 30.0  # poidsMaxi 30000 g
        assert points.loc["750200", "max_weight_kg"] == 20.0
        assert points.loc["750100", "services"] == "dropoff;pickup;returns"
        assert points.loc["750200", "services"] == "pickup;returns"
        assert points.loc["750100", "step_free"] == True  # noqa: E712 (pandas boolean)
        assert points.loc["750300", "step_free"] == False  # noqa: E712
        assert_hours(
            points, "750100", {at(0, 8, 29): False, at(0, 8, 30): True, at(0, 13): True,
                               at(5, 12): True, at(5, 13): False, at(6, 10): False}
        )  # fmt: skip
        # listeConges in epoch milliseconds (local midnight): closed 1–15 August 2026
        assert_hours(
            points, "750200", {at(4, 10, base=dt.date(2026, 7, 27)): True,
                               at(5, 10, base=dt.date(2026, 7, 27)): False,
                               at(4, 10, base=dt.date(2026, 8, 10)): False,
                               at(0, 10, base=dt.date(2026, 8, 17)): True}
        )  # fmt: skip
        reasons = dict(zip(rejected["row"], rejected["reason"], strict=True))
        assert reasons[4].startswith("horairesOuvertureLundi, horairesOuvertureMardi")
        assert "25:00" in reasons[4]
        assert reasons[5] == "weight 'vingt kilos' is not a number of grams"

    def test_utf8_bom_table(self):
        points, rejected = load("colissimo_export.csv")
        assert len(rejected) == 0 and len(points) == 2
        assert points.loc["690100", "max_weight_kg"] == 20.0
        lyon = points.loc["690100"].geometry
        assert (lyon.y, lyon.x) == (45.7745, 4.8320)
        assert_hours(points, "690200", {at(6, 10): False, at(2, 18, 30): True})


class TestChronopost:
    def test_soap_xml(self):
        points, rejected = load("chronopost_points.xml")
        rows_conserved(points, rejected, 3)
        assert (points["network"] == "chronopost").all()
        assert (points["kind"] == "counter").all()
        assert (points["max_weight_kg"] == 20.0).all()
        assert (points["services"] == "pickup").all()
        assert rejected["reason"].tolist() == ["actif=false: point not active"]
        christmas = dt.date(2026, 12, 21)
        assert_hours(
            points, "1234R", {at(0, 11): True, at(0, 13): False, at(5, 11): True,
                              at(3, 11, base=christmas): False, at(2, 11, base=christmas): True}
        )  # fmt: skip
        assert_hours(points, "3456R", {at(5, 19): True, at(6, 10): False})


class TestDPD:
    def test_latin1_xml(self):
        points, rejected = load("dpd_pudo.xml")
        rows_conserved(points, rejected, 3)
        assert (points["network"] == "dpd_pickup").all()
        assert points.loc["P67001", "kind"] == "counter"
        assert points.loc["P67002", "kind"] == "locker"
        assert points["max_weight_kg"].isna().all()
        assert points.loc["P67001", "parking"] == False  # noqa: E712
        assert points.loc["P67002", "opening_hours"] == "24/7"
        assert_hours(
            points, "P67001", {at(0, 11): True, at(0, 13): False, at(5, 11): True,
                               at(5, 15): False, at(0, 11, base=dt.date(2026, 8, 3)): False}
        )  # fmt: skip
        assert rejected["reason"].tolist() == ["OPENING_HOURS_ITEM with DAY_ID '8'"]

    def test_json(self):
        points, rejected = load("dpd_pudo.json")
        assert len(points) == 1 and len(rejected) == 0
        assert round(points.geometry.x.iloc[0], 4) == -0.5792
        assert points["parking"].iloc[0] == True  # noqa: E712
        assert_hours(points, "P33001", {at(5, 12): True, at(5, 14): False})


class TestDetection:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("mondial_relay_search.xml", "mondial_relay"),
            ("mondial_relay_export.csv", "mondial_relay"),
            ("inpost_points.json", "inpost"),
            ("colissimo_points.json", "colissimo"),
            ("colissimo_export.csv", "colissimo"),
            ("chronopost_points.xml", "chronopost"),
            ("dpd_pudo.xml", "dpd"),
            ("dpd_pudo.json", "dpd"),
            ("amazon_style_lockers.xlsx", "generic"),
        ],
    )
    def test_named(self, name, expected):
        assert formats.detect(FIXTURES / name) == expected

    def test_plain_csv_and_osm_by_suffix(self, tmp_path):
        path = tmp_path / "p.csv"
        path.write_text("id;lat;lon\nA;45;4\n")
        assert formats.detect(path) == "generic"
        osm = tmp_path / "x.osm"
        osm.write_text("<osm/>")
        assert formats.detect(osm) == "osm"

    def test_ambiguous_names_candidates(self):
        path = FIXTURES / "ambiguous_pickup.csv"
        with pytest.raises(InputError, match="fit colissimo and chronopost"):
            rn.load_points(path)
        points, rejected = rn.load_points(path, format="chronopost")
        assert points["network"].tolist() == ["chronopost"] and len(rejected) == 0
        points, _ = rn.load_points(path, format="colissimo")
        assert points["kind"].tolist() == ["counter"]

    def test_unknown_format(self):
        with pytest.raises(ParameterError, match="expected one of auto, mondial_relay"):
            rn.load_points(FIXTURES / "dpd_pudo.json", format="ups")

    def test_wrong_explicit_format_says_what_is_missing(self):
        with pytest.raises(InputError, match="no inpost points found"):
            rn.load_points(FIXTURES / "dpd_pudo.json", format="inpost")

    def test_xml_with_entities_refused(self, tmp_path):
        path = tmp_path / "dpd.xml"
        path.write_text('<!DOCTYPE r [<!ENTITY a "aaaa">]><PUDO_ITEMS><PUDO_ID>&a;</PUDO_ID>'
                        "</PUDO_ITEMS>")  # fmt: skip
        with pytest.raises(InputError, match="DOCTYPE"):
            rn.load_points(path)


class TestOptions:
    def test_defaults_replace_assumptions_and_fill_gaps(self):
        points, _ = load("inpost_points.json", defaults={"country": "FR", "max_weight_kg": 25})
        assert (points["country"] == "FR").all()
        points, _ = load("dpd_pudo.xml", defaults={"network": "relais_dpd", "max_weight_kg": 20})
        assert (points["network"] == "relais_dpd").all()
        assert (points["max_weight_kg"] == 20).all()

    def test_columns_refused_for_an_explicit_carrier(self):
        with pytest.raises(ParameterError, match="columns= applies to generic"):
            rn.load_points(FIXTURES / "dpd_pudo.json", format="dpd", columns={"A": "name"})

    def test_strict_names_first_bad_rows(self):
        with pytest.raises(InputError, match=r"2 bad rows of 5 — record 4: status 'Disabled'"):
            rn.load_points(FIXTURES / "inpost_points.json", strict=True)

    def test_dataframe_of_carrier_records(self):
        doc = json.loads((FIXTURES / "dpd_pudo.json").read_text())
        frame = pd.DataFrame(doc["PUDO_ITEMS"]["PUDO_ITEM"])
        points, rejected = rn.load_points(frame, format="dpd")
        assert points["point_id"].tolist() == ["P33001"] and len(rejected) == 0


class TestSpreadsheet:
    COLUMNS = {
        "Locker ID": "point_id",
        "Locker Name": "name",
        "GPS_LAT": "latitude",
        "GPS_LON": "longitude",
        "Hours": "opening_hours",
        "Max kg": "max_weight_kg",
    }

    def test_mapped_sheet_with_defaults(self):
        points, rejected = load(
            "amazon_style_lockers.xlsx",
            layer="Lockers",
            columns=self.COLUMNS,
            defaults={"network": "amazon", "kind": "locker"},
        )
        rows_conserved(points, rejected, 4)
        assert points.index.tolist() == ["AMZ-FR-0001", "AMZ-FR-0002"]
        assert (points["network"] == "amazon").all() and (points["kind"] == "locker").all()
        assert (points["max_weight_kg"] == 10).all()
        assert points.loc["AMZ-FR-0001", "postcode"] == "69003"  # no "69003.0"
        # sheet row numbers, header on row 1
        reasons = dict(zip(rejected["row"], rejected["reason"], strict=True))
        assert reasons[4] == "missing coordinates"
        assert "unparseable opening_hours" in reasons[5]
        assert_hours(points, "AMZ-FR-0002", {at(5, 19): True, at(6, 10): False})

    def test_sheet_names_checked(self):
        with pytest.raises(InputError, match=r"no sheet named 'Nope'; sheets are \['Notes'"):
            rn.load_points(FIXTURES / "amazon_style_lockers.xlsx", layer="Nope")

    def test_damaged_file_is_one_input_error(self, tmp_path):
        path = tmp_path / "broken.xlsx"
        path.write_bytes(b"PK\x03\x04 not really a zip")
        with pytest.raises(InputError, match="cannot read as a spreadsheet"):
            rn.load_points(path)

    def test_sheet_without_coordinates_names_the_file(self, tmp_path):
        openpyxl = pytest.importorskip("openpyxl")
        book = openpyxl.Workbook()
        book.active.append(["name"])
        book.active.append(["x"])
        path = tmp_path / "names.xlsx"
        book.save(path)
        with pytest.raises(InputError, match=r"^\S*names\.xlsx: no coordinates"):
            rn.load_points(path)


class TestSeveralFiles:
    def test_three_formats_one_network(self):
        files = ["mondial_relay_search.xml", "inpost_points.json", "colissimo_points.json"]
        accepted, rejected = rn.load_points([FIXTURES / f for f in files])
        assert len(accepted) + len(rejected) == 5 + 5 + 5
        assert set(accepted["network"]) == {"mondial_relay", "inpost", "colissimo"}
        assert accepted["point_id"].is_unique
        by_file = accepted.groupby("source_file").size()
        assert by_file.to_dict() == {str(FIXTURES / f): n for f, n in zip(files, (3, 3, 3))}
        assert set(rejected["source_file"]) == {str(FIXTURES / f) for f in files}
        assert accepted.crs == "EPSG:4326"
        access = rn.Locator(accepted).nearest(
            pd.DataFrame({"demand_id": ["p"], "lat": [48.86], "lon": [2.35]}).pipe(
                lambda d: rn.load_demand(d)[0]
            ),
            k=1,
        )
        assert access["point_id"].iloc[0] in set(accepted["point_id"])

    def test_folder_and_shared_ids(self, tmp_path):
        shutil.copy(FIXTURES / "dpd_pudo.json", tmp_path / "a.json")
        plain = tmp_path / "b.csv"  # another network reusing DPD's id
        plain.write_text("id;name;lat;lon;network\nP33001;Autre;44.84;-0.58;relais_colis\n")
        twice = tmp_path / "c.json"  # the same DPD export twice: a real duplicate
        shutil.copy(FIXTURES / "dpd_pudo.json", twice)
        accepted, rejected = rn.load_points(tmp_path)
        assert sorted(accepted["point_id"]) == ["dpd_pickup:P33001", "relais_colis:P33001"]
        assert accepted["source_id"].tolist() == ["P33001", "P33001"]
        assert len(rejected) == 1 and "duplicate point_id" in rejected["reason"].iloc[0]
        assert rejected["source_file"].iloc[0] == str(twice)

    def test_point_files_for_the_cli(self):
        files = formats.PointFiles(
            (str(FIXTURES / "dpd_pudo.json"), str(FIXTURES / "chronopost_points.xml"))
        )
        accepted, rejected = files.load()
        assert len(accepted) == 3 and len(rejected) == 1
