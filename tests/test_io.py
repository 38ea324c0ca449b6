"""Loaders: every format, column mapping, hour columns, every rejection reason, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

import relaynet as rn
from relaynet.errors import InputError
from relaynet.io import write_csv

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def points_frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point_id": [f"P{i}" for i in range(n)],
            "name": [f"Point {i}" for i in range(n)],
            "network": ["Mondial Relay"] * n,
            "kind": ["locker"] * n,
            "lat": np.linspace(45.0, 46.0, n),
            "lon": np.linspace(4.0, 5.0, n),
        }
    )


class TestFormats:
    def test_csv_with_french_columns(self, tmp_path):
        # Hours contain ';' too: they must be quoted — the file below quotes nothing, so
        # use a comma-separated file where hours need no quoting.
        text = (
            "id,nom,type,latitude,longitude,horaires,services,poids_max\n"
            'P1,Tabac,Relais,45.76,4.84,"Mo-Fr 09:00-19:00; Sa 09:00-12:00","pickup,dropoff",20\n'
            "P2,Consigne,locker,45.761,4.858,24/7,pickup,30\n"
        )
        pts, rejected = rn.load_points(write(tmp_path, "p.csv", text))
        assert rejected.empty
        assert list(pts.columns[:5]) == ["point_id", "name", "network", "kind", "opening_hours"]
        assert pts["kind"].tolist() == ["counter", "locker"]
        assert pts["services"].tolist() == ["dropoff;pickup", "pickup"]
        assert pts["max_weight_kg"].tolist() == [20.0, 30.0]
        assert pts.crs == "EPSG:4326"
        assert pts.geometry.x.tolist() == [4.84, 4.858]
        assert pts["hours_source"].tolist() == ["operator", "operator"]

    @pytest.mark.parametrize("driver,suffix", [("GeoJSON", ".geojson"), ("GPKG", ".gpkg")])
    def test_geographic_files(self, tmp_path, driver, suffix):
        frame = points_frame()
        gdf = gpd.GeoDataFrame(
            frame.drop(columns=["lat", "lon"]),
            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs=4326,
        )
        path = tmp_path / f"p{suffix}"
        gdf.to_file(path, driver=driver)
        pts, rejected = rn.load_points(path)
        assert rejected.empty and len(pts) == 3
        assert pts["network"].unique().tolist() == ["mondial_relay"]
        np.testing.assert_allclose(pts.geometry.y, frame["lat"])

    def test_geoparquet_in_lambert93_is_reprojected(self, tmp_path):
        frame = points_frame()
        gdf = gpd.GeoDataFrame(
            frame.drop(columns=["lat", "lon"]),
            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs=4326,
        ).to_crs(2154)
        path = tmp_path / "p.parquet"
        gdf.to_parquet(path)
        pts, _ = rn.load_points(path)
        assert pts.crs == "EPSG:4326"
        np.testing.assert_allclose(pts.geometry.y, frame["lat"], atol=1e-7)

    def test_xy_columns_with_stated_crs(self, tmp_path):
        l93 = gpd.GeoSeries([Point(4.84, 45.76)], crs=4326).to_crs(2154)
        text = f"id,x,y\nA,{l93.x[0]:.2f},{l93.y[0]:.2f}\n"
        pts, _ = rn.load_points(write(tmp_path, "p.csv", text), crs="EPSG:2154")
        assert pts.geometry.x[0] == pytest.approx(4.84, abs=1e-5)
        assert pts.geometry.y[0] == pytest.approx(45.76, abs=1e-5)

    def test_xy_without_crs_is_an_error(self, tmp_path):
        with pytest.raises(InputError, match="need their CRS"):
            rn.load_points(write(tmp_path, "p.csv", "id,x,y\nA,843000,6519000\n"))

    def test_osm_file(self):
        pts, rejected = rn.load_points(FIXTURES / "relay_points.osm")
        by_id = pts.set_index("point_id")
        assert sorted(by_id.index) == ["n1", "n2", "n3", "w20"]
        assert by_id.loc["n1", "kind"] == "locker" and by_id.loc["n1", "network"] == "inpost"
        assert by_id.loc["n1", "services"] == "dropoff;pickup"
        assert by_id.loc["n2", "kind"] == "post_office"
        assert by_id.loc["n2", "opening_hours"] == "Mo-Fr 08:00-19:00; Sa 09:00-12:00; PH off"
        assert by_id.loc["n3", "network"] == "mondial_relay" and by_id.loc["n3", "step_free"]
        assert by_id.loc["w20", "kind"] == "counter"
        assert by_id.loc["w20", "geometry"].y == pytest.approx(48.88013, abs=1e-4)
        assert (pts["hours_source"].isin(["osm", "unknown"])).all()
        # The locker with nonsense hours is reported, not dropped, not "always open".
        assert rejected["point_id"].tolist() == ["n5"]
        assert "unparseable opening_hours" in rejected["reason"][0]

    def test_dataframe_source(self):
        pts, rejected = rn.load_points(points_frame(5))
        assert len(pts) == 5 and rejected.empty


class TestColumnMapping:
    def test_explicit_mapping_wins(self, tmp_path):
        text = "ref_magasin,enseigne_x,Y_GPS,X_GPS\nA,Shop,45.0,4.0\n"
        pts, _ = rn.load_points(
            write(tmp_path, "p.csv", text),
            columns={
                "ref_magasin": "point_id",
                "enseigne_x": "name",
                "Y_GPS": "lat",
                "X_GPS": "lon",
            },
        )
        assert pts["point_id"].tolist() == ["A"] and pts["name"].tolist() == ["Shop"]

    def test_unknown_explicit_column_is_an_error(self, tmp_path):
        with pytest.raises(InputError, match="not in the file"):
            rn.load_points(
                write(tmp_path, "p.csv", "id,lat,lon\nA,45,4\n"), columns={"nope": "point_id"}
            )

    def test_demand_french_spellings(self, tmp_path):
        text = (
            "code_insee;nom;population;dep_code;lat;lng;DENS\n48095;Mende;12000;48;44.518;3.5;3\n"
        )
        dem, rejected = rn.load_demand(write(tmp_path, "d.csv", text))
        assert rejected.empty
        row = dem.iloc[0]
        assert (row["demand_id"], row["name"], row["weight"], row["area_id"]) == (
            "48095",
            "Mende",
            12000.0,
            "48",
        )
        assert row["density_class"] == "intermediate"

    def test_demand_without_weight_counts_one_each(self, tmp_path):
        dem, _ = rn.load_demand(write(tmp_path, "d.csv", "id,lat,lon\na,45,4\nb,45.1,4\n"))
        assert dem["weight"].tolist() == [1.0, 1.0]

    def test_polygons_become_points_with_area(self, tmp_path):
        square = Polygon([(3.0, 44.0), (3.1, 44.0), (3.1, 44.1), (3.0, 44.1)])
        gdf = gpd.GeoDataFrame({"code": ["X"], "population": [100]}, geometry=[square], crs=4326)
        gdf.to_file(tmp_path / "c.geojson", driver="GeoJSON")
        dem, _ = rn.load_demand(tmp_path / "c.geojson")
        assert square.contains(dem.geometry[0])
        assert dem["area_km2"][0] == pytest.approx(11.12 * 8.0, rel=0.02)  # 0.1° × 0.1° at 44°N


class TestHourColumns:
    def test_hhmm_day_columns_become_osm(self, tmp_path):
        days = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]
        header = "id,lat,lon," + ",".join(f"Horaires_{d}" for d in days)
        weekday = "09001200 14001900"
        row = "A,45,4," + ",".join([weekday] * 5 + ["09001200 00000000", "00000000 00000000"])
        pts, rejected = rn.load_points(write(tmp_path, "p.csv", f"{header}\n{row}\n"))
        assert rejected.empty
        assert pts["opening_hours"][0] == "Mo-Fr 09:00-12:00,14:00-19:00; Sa 09:00-12:00"
        assert not any(c.startswith("horaires_") for c in pts.columns)

    def test_bad_hour_cell_is_rejected_with_column(self, tmp_path):
        days = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
        header = "id,lat,lon," + ",".join(days)
        row = "A,45,4,19000900," + ",".join(["09001200"] * 6)
        _, rejected = rn.load_points(write(tmp_path, "p.csv", f"{header}\n{row}\n"))
        assert "column 'lundi'" in rejected["reason"][0]


def _reject_reason(tmp_path, row: str, header="id;lat;lon;type;horaires;poids_max") -> str:
    text = f"{header}\nOK;45.0;4.0;locker;24/7;20\n{row}\n"
    pts, rejected = rn.load_points(write(tmp_path, "p.csv", text))
    assert len(pts) == 1 and len(rejected) == 1
    assert rejected["row"][0] == 3  # header is line 1
    return rejected["reason"][0]


class TestRejections:
    @pytest.mark.parametrize(
        "row,expected",
        [
            ("B;;4.0;locker;24/7;20", "missing coordinates"),
            ("B;abc;4.0;locker;24/7;20", "non-numeric latitude 'abc'"),
            ("B;95.0;4.0;locker;24/7;20", "latitude 95 outside [-90, 90]"),
            ("B;45.0;200;locker;24/7;20", "longitude 200 outside [-180, 180]"),
            ("B;0;0;locker;24/7;20", "coordinates (0, 0)"),
            ("B;2.35;48.85;locker;24/7;20", "look swapped"),
            ("B;16.23;61.38;locker;24/7;20", "longitude sign looks wrong"),
            ("OK;45.1;4.1;locker;24/7;20", "duplicate point_id 'OK' (first on line 2)"),
            (";45.1;4.1;locker;24/7;20", "missing point_id"),
            ("B;45.1;4.1;spaceship;24/7;20", "unknown kind 'spaceship'"),
            ("B;45.1;4.1;locker;Mo-Fr 25:00-26:00;20", "unparseable opening_hours"),
            ("B;45.1;4.1;locker;24/7;-5", "max_weight_kg must be a positive number, got '-5'"),
            ("B;45.1;4.1;locker;24/7;heavy", "max_weight_kg must be a positive number"),
            ("B;45.1;4.1;locker", "row has 4 fields, header has 6"),
        ],
    )
    def test_point_reasons(self, tmp_path, row, expected):
        assert expected in _reject_reason(tmp_path, row)

    def test_unparseable_hours_keep_parser_message(self, tmp_path):
        reason = _reject_reason(tmp_path, "B;45.1;4.1;locker;2023 Mar 30,Apr 01,14 off;20")
        assert "expected monthday_range" in reason

    def test_past_dated_off_rules_are_accepted_unchanged(self, tmp_path):
        hours = "Mo-Fr 09:00-12:00; PH off; 2022 Mar 11,25 off"
        text = f'id,lat,lon,horaires\nA,45.0,4.0,"{hours}"\nB,45.1,4.1,"""on appointment"""\n'
        pts, rejected = rn.load_points(write(tmp_path, "p.csv", text))
        assert rejected.empty
        # the string is kept as written; relaynet.hours reads it without the past rules
        assert pts["opening_hours"].tolist() == [hours, '"on appointment"']
        assert pts["hours_source"].tolist() == ["operator", "operator"]

    def test_future_dated_rule_the_parser_rejects_is_still_rejected(self, tmp_path):
        reason = _reject_reason(
            tmp_path, 'B;45.1;4.1;locker;"Mo 09:00-12:00; 2099 Mar 11,25 off";20'
        )
        assert "unparseable opening_hours" in reason

    def test_several_problems_in_one_reason(self, tmp_path):
        reason = _reject_reason(tmp_path, "B;;4.1;spaceship;24/7;0")
        assert "missing coordinates" in reason and "unknown kind" in reason
        assert "max_weight_kg" in reason

    def test_rejected_rows_keep_their_cells(self, tmp_path):
        text = "id;lat;lon\nA;45;4\nB;x;4\n"
        _, rejected = rn.load_points(write(tmp_path, "p.csv", text))
        assert rejected.loc[0, ["row", "id", "lat"]].tolist() == [3, "B", "x"]

    @pytest.mark.parametrize(
        "weight,expected",
        [
            ("-3", "negative weight -3"),
            ("many", "non-numeric weight 'many'"),
            ("", "missing weight"),
            ("1e308", "weight 1e+308 too large (expected at most 1e+15)"),  # sums overflow
        ],
    )
    def test_demand_weight(self, tmp_path, weight, expected):
        text = f"id;lat;lon;population\na;45;4;10\nb;45;4;{weight}\n"
        _, rejected = rn.load_demand(write(tmp_path, "d.csv", text))
        assert rejected["reason"].tolist() == [expected]

    def test_unknown_density_class(self, tmp_path):
        text = "id;lat;lon;density_class\na;45;4;rural\nb;45;4;suburbia\n"
        dem, rejected = rn.load_demand(write(tmp_path, "d.csv", text))
        assert dem["density_class"].tolist() == ["rural"]
        assert "unknown density_class 'suburbia'" in rejected["reason"][0]

    def test_strict_mode_raises_naming_rows(self, tmp_path):
        text = "id;lat;lon\nA;45;4\nB;x;4\nC;95;4\n"
        with pytest.raises(InputError, match=r"2 bad rows of 3 — line 3: non-numeric.*line 4"):
            rn.load_points(write(tmp_path, "p.csv", text), strict=True)

    def test_blank_line_in_the_middle_is_reported(self, tmp_path):
        pts, rejected = rn.load_points(write(tmp_path, "p.csv", "id;lat;lon\nA;45;4\n\nB;45;4\n"))
        assert len(pts) == 2 and rejected["row"].tolist() == [3]


class TestFileErrors:
    def test_missing_file(self, tmp_path):
        with pytest.raises(InputError, match="does not exist"):
            rn.load_points(tmp_path / "nope.csv")

    def test_empty_file(self, tmp_path):
        with pytest.raises(InputError, match="empty"):
            rn.load_points(write(tmp_path, "p.csv", ""))

    def test_header_only(self, tmp_path):
        with pytest.raises(InputError, match="no data rows"):
            rn.load_points(write(tmp_path, "p.csv", "id;lat;lon\n"))

    def test_wrong_delimiter(self, tmp_path):
        with pytest.raises(InputError, match="p.csv: .*delimiter"):
            rn.load_points(write(tmp_path, "p.csv", "id:lat:lon\nA:45:4\n"))

    def test_missing_required_column(self, tmp_path):
        with pytest.raises(InputError, match="missing required column 'point_id'"):
            rn.load_points(write(tmp_path, "p.csv", "foo;lat;lon\nA;45;4\n"))

    def test_no_coordinates(self, tmp_path):
        with pytest.raises(InputError, match="no coordinates"):
            rn.load_points(write(tmp_path, "p.csv", "id;name\nA;x\n"))

    def test_projected_values_in_lat_lon_columns(self, tmp_path):
        text = "id;lat;lon\nA;6519000;843000\nB;6520000;844000\n"
        with pytest.raises(InputError, match="look projected"):
            rn.load_points(write(tmp_path, "p.csv", text))

    def test_geometry_without_crs(self, tmp_path):
        gdf = gpd.GeoDataFrame({"id": ["A"]}, geometry=[Point(843000, 6519000)])
        gdf.to_parquet(tmp_path / "p.parquet")
        with pytest.raises(InputError, match="no CRS"):
            rn.load_points(tmp_path / "p.parquet")

    def test_unknown_suffix(self, tmp_path):
        with pytest.raises(InputError, match="unknown file type"):
            rn.load_points(write(tmp_path, "p.xyz", "hello"))

    def test_binary_garbage(self, tmp_path):
        path = tmp_path / "p.csv"
        path.write_bytes(b"\x00\x01\x02garbage")
        with pytest.raises(InputError, match="binary"):
            rn.load_points(path)

    def test_corrupt_geopackage(self, tmp_path):
        path = tmp_path / "p.gpkg"
        path.write_bytes(b"not a sqlite file at all")
        with pytest.raises(InputError, match="cannot read"):
            rn.load_points(path)


ROW = st.one_of(
    st.tuples(st.floats(-89, 89), st.floats(-179, 179)).map(lambda t: f"{t[0]:.5f};{t[1]:.5f}"),
    st.sampled_from(
        [
            "",
            ";",
            "abc;4",
            "95;4",
            "45;200",
            "0;0",
            "2.3;48.8",
            "45;4;extra",
            "45,5;4,5",
            "=1+1;4",
            "nan;nan",
            "inf;4",
        ]
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "", "d e"]), ROW), min_size=1, max_size=25
    )
)
def test_rows_are_conserved(tmp_path, rows):
    lines = [f"{pid}{i if pid == 'd e' else ''};{coords}" for i, (pid, coords) in enumerate(rows)]
    path = write(tmp_path, "p.csv", "id;lat;lon\n" + "\n".join(lines) + "\n")
    try:
        pts, rejected = rn.load_points(path)
    except InputError as exc:  # only acceptable when there is no data row at all
        assert "no data rows" in str(exc) or "look projected" in str(exc)
        return
    non_blank = [ln for ln in lines if ln.strip(";")]
    trailing = len(lines) - max((i + 1 for i, ln in enumerate(lines) if ln), default=0)
    assert len(pts) + len(rejected) == len(lines) - trailing
    assert rejected["reason"].str.len().gt(0).all()
    assert pts["point_id"].is_unique
    assert len(non_blank) >= len(pts)


def test_write_csv_neutralises_formulas(tmp_path):
    frame = pd.DataFrame({"name": ['=HYPERLINK("x")', "+1", "@SUM(A1)", "ok", "-3.5"]})
    path = write_csv(frame, tmp_path / "out.csv")
    back = pd.read_csv(path, dtype=str)["name"].tolist()
    assert back == ['\'=HYPERLINK("x")', "'+1", "'@SUM(A1)", "ok", "-3.5"]


class TestBundledData:
    def test_demo_data_is_canonical(self):
        demo = rn.datasets.load_demo()
        pts, dem = demo.points, demo.demand
        assert len(pts) > 17_000 and pts["point_id"].is_unique
        assert pts.crs == "EPSG:4326" and dem.crs == "EPSG:4326"
        assert set(pts["kind"]) == {"post_office", "counter"}
        assert set(pts["hours_source"]) == {"carrier", "unknown"}
        # Points without hours stay unknown, never "always open".
        unknown = pts["hours_source"] == "unknown"
        assert pts.loc[unknown, "opening_hours"].isna().all()
        assert 0.85 < (~unknown).mean() < 0.95
        assert len(dem) > 34_000 and dem["demand_id"].is_unique
        assert dem["weight"].sum() == pytest.approx(66.5e6, rel=0.01)
        assert set(dem["density_class"].dropna()) == {"urban", "intermediate", "rural"}

    def test_bundled_hours_unparsed_are_those_hours_validate_rejects(self):
        unparsed = pd.read_csv(rn.datasets.path("laposte_hours_unparsed.csv"), dtype=str)
        assert len(unparsed) == 42
        assert not any(rn.hours.validate(s) for s in unparsed["opening_hours"])
        pts = rn.datasets.load_demo().points
        assert pts["opening_hours"].notna().sum() == 16_100
        # recovered strings (past dated 'off' rules) are kept as written
        assert pts["opening_hours"].str.contains("2022 Mar 05-06,08-13 off", regex=False).any()

    def test_bundled_points_reload_through_the_loader(self, tmp_path):
        pts = rn.datasets.load_demo().points
        pts.to_parquet(tmp_path / "p.parquet")
        again, rejected = rn.load_points(tmp_path / "p.parquet")
        assert rejected.empty and len(again) == len(pts)

    def test_sample_csv_loads(self):
        path = rn.datasets.path("laposte_points_sample.csv")
        pts, rejected = rn.load_points(path)
        assert len(pts) + len(rejected) == 300
        assert pts["kind"].notna().all()
