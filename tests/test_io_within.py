"""``within=``: rows outside an area are rejected with a reason, rows are conserved."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

import relaynet as rn
from relaynet.errors import InputError, ParameterError
from relaynet.io import Within, load_demand, load_points, parse_within, reject_outside

# (label, lat, lon, inside FR)
PLACES = [
    ("Paris", 48.8566, 2.3522, True),
    ("Ile de Sein", 48.037, -4.853, True),
    ("Hoedic", 47.339, -2.880, True),
    ("Mont-Saint-Michel", 48.635, -1.511, True),
    ("Ajaccio", 41.9192, 8.7386, True),
    ("Saint-Denis, La Reunion", -20.8821, 55.4507, True),
    ("Pointe-a-Pitre", 16.2411, -61.5331, True),
    ("Cayenne", 4.9372, -52.326, True),
    ("Mamoudzou", -12.7806, 45.2278, True),
    ("Saint-Pierre (SPM)", 46.779, -56.172, True),
    ("Menton", 43.7764, 7.5048, True),
    ("Lleida, Spain", 41.629, 0.159, False),
    ("Andorra la Vella", 42.507, 1.528, False),
    ("Pas de la Casa, Andorra", 42.541, 1.732, False),
    ("Monaco", 43.7384, 7.4246, False),
    ("Llivia, Spanish enclave", 42.4637, 1.9806, False),
    ("Geneva", 46.2044, 6.1432, False),
    ("Brussels", 50.8503, 4.3517, False),
    ("Atlantic", 46.0, -12.0, False),
]


def haversine_m(lat1, lon1, lat2, lon2):
    """Brute-force oracle (its own formula, not relaynet.geo's)."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def points_frame(places) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"P{i}" for i in range(len(places))],
            "name": [p[0] for p in places],
            "lat": [p[1] for p in places],
            "lon": [p[2] for p in places],
        }
    )


def demand_gdf(lats, lons) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"demand_id": [f"D{i}" for i in range(len(lats))], "weight": 1.0},
        geometry=gpd.points_from_xy(lons, lats),
        crs="EPSG:4326",
    )


class TestCountry:
    def test_fr_keeps_france_and_overseas_and_rejects_the_rest(self):
        frame = points_frame(PLACES)
        accepted, rejected = load_points(frame, within="FR")
        assert len(accepted) + len(rejected) == len(PLACES)
        expected_in = {p[0] for p in PLACES if p[3]}
        assert set(accepted["name"]) == expected_in
        assert set(rejected["name"]) == {p[0] for p in PLACES if not p[3]}
        assert rejected["reason"].str.startswith("outside FR (").all()

    def test_reason_names_the_place(self):
        frame = points_frame([("Rouy AP", 41.629172, 0.158729, False)])
        frame = pd.concat([points_frame(PLACES[:1]), frame], ignore_index=True)
        frame["id"] = ["A", "B"]
        _, rejected = load_points(frame, within="FR")
        assert rejected["reason"].tolist() == ["outside FR (41.63 N, 0.16 E)"]
        assert rejected["row"].tolist() == [2]  # record number, 1-based
        assert rejected["name"].tolist() == ["Rouy AP"]

    def test_west_and_south_hemispheres(self):
        within = Within.country("fr")
        reasons = within.reasons(np.array([-70.0, 10.0]), np.array([-33.0, 60.0]))
        assert reasons == ["outside FR (33.00 S, 70.00 W)", "outside FR (60.00 N, 10.00 E)"]

    def test_csv_line_numbers_and_other_reasons_kept(self, tmp_path):
        path = tmp_path / "p.csv"
        path.write_text(
            "id;lat;lon;type\nA;45;4;locker\nB;41.63;0.16;locker\nC;;;locker\n"
            "D;41.63;0.16;spaceship\n",
            encoding="utf-8",
        )
        accepted, rejected = load_points(path, within="FR")
        assert accepted["point_id"].tolist() == ["A"]
        by_id = rejected.set_index("id")
        assert by_id.loc["B", "row"] == 3
        assert by_id.loc["B", "reason"] == "outside FR (41.63 N, 0.16 E)"
        assert by_id.loc["C", "reason"] == "missing coordinates"  # no 'outside' for no place
        assert (
            "outside FR" in by_id.loc["D", "reason"] and "unknown kind" in by_id.loc["D", "reason"]
        )

    def test_swapped_coordinates_keep_their_own_reason(self):
        frame = pd.DataFrame({"id": ["A", "B"], "lat": [45.0, 2.35], "lon": [4.0, 48.85]})
        _, rejected = load_points(frame, within="FR")
        assert rejected["reason"].str.contains("look swapped").all()
        assert not rejected["reason"].str.contains("outside FR (", regex=False).any()

    def test_demand_too(self):
        dem = demand_gdf([45.0, 41.63], [4.0, 0.16])
        accepted, rejected = load_demand(dem, within="FR")
        assert accepted["demand_id"].tolist() == ["D0"]
        assert rejected["reason"].tolist() == ["outside FR (41.63 N, 0.16 E)"]

    def test_unknown_country(self):
        with pytest.raises(ParameterError, match="no area known for that country"):
            load_points(points_frame(PLACES[:1]), within="DE")

    def test_strict_raises(self):
        with pytest.raises(InputError, match=r"outside FR \(41.63 N, 0.16 E\)"):
            load_points(points_frame(PLACES[11:12]), within="FR", strict=True)


class TestBoundary:
    def test_geojson_and_gpkg_files(self, tmp_path):
        area = gpd.GeoDataFrame(
            {"name": ["a", "b"]}, geometry=[box(4, 45, 5, 46), box(5, 45, 6, 46)]
        )
        area = area.set_crs(4326)
        geojson, gpkg = tmp_path / "area.geojson", tmp_path / "area.gpkg"
        area.to_file(geojson, driver="GeoJSON")
        area.to_crs(2154).to_file(gpkg, driver="GPKG")  # another CRS: reprojected
        frame = pd.DataFrame(
            {
                "id": ["in", "edge", "east", "out"],
                "lat": [45.5, 46.0, 45.5, 47.0],
                "lon": [4.5, 4.5, 5.9, 4.5],
            }
        )
        for path in (geojson, gpkg):
            accepted, rejected = load_points(frame, within=path)
            assert accepted["point_id"].tolist() == ["in", "edge", "east"]
            assert rejected["reason"].tolist() == [f"outside {path.name} (47.00 N, 4.50 E)"]

    def test_polygons_in_memory(self):
        frame = pd.DataFrame({"id": ["a", "b"], "lat": [45.5, 47.0], "lon": [4.5, 4.5]})
        accepted, rejected = load_points(frame, within=box(4, 45, 5, 46))
        assert accepted["point_id"].tolist() == ["a"]
        assert rejected["reason"][0].startswith("outside the boundary (")

    def test_not_polygons(self, tmp_path):
        path = tmp_path / "line.geojson"
        gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=4326).to_file(path)
        with pytest.raises(InputError, match="expected Polygon/MultiPolygon"):
            load_points(points_frame(PLACES[:1]), within=path)

    def test_table_without_geometry(self, tmp_path):
        path = tmp_path / "points.csv"  # a CSV given as boundary by mistake: no geometry
        path.write_text("point_id,latitude,longitude\np1,48.85,2.35\n", encoding="utf-8")
        with pytest.raises(InputError, match="points.csv: expected Polygon/MultiPolygon"):
            load_points(points_frame(PLACES[:1]), within=path)

    def test_missing_and_unreadable_files(self, tmp_path):
        with pytest.raises(InputError, match="boundary file does not exist"):
            load_points(points_frame(PLACES[:1]), within=tmp_path / "nope.geojson")
        bad = tmp_path / "bad.geojson"
        bad.write_text("{not json", encoding="utf-8")
        with pytest.raises(InputError, match="cannot read as a boundary file"):
            load_points(points_frame(PLACES[:1]), within=bad)


class TestAroundDemand:
    def test_against_brute_force(self):
        rng = np.random.default_rng(5)
        dem = demand_gdf(rng.uniform(44, 46, 50), rng.uniform(3, 5, 50))
        n = 400
        lat, lon = rng.uniform(43.5, 46.5, n), rng.uniform(2.5, 5.5, n)
        frame = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "lat": lat, "lon": lon})
        accepted, rejected = load_points(frame, within=Within.around(dem, 20_000, "the demand"))
        assert len(accepted) + len(rejected) == n
        d = haversine_m(
            lat[:, None], lon[:, None], dem.geometry.y.to_numpy(), dem.geometry.x.to_numpy()
        ).min(axis=1)
        expect = {f"p{i}" for i in np.flatnonzero(d <= 20_000)}
        assert set(accepted["point_id"]) == expect
        assert rejected["reason"].str.startswith("more than 20 km from the demand (").all()
        assert 0 < len(rejected) < n

    def test_parse_within(self):
        assert parse_within("demand:20km") == ("demand", 20_000.0)
        assert parse_within("demand=500m") == ("demand", 500.0)
        assert parse_within("demand:1500") == ("demand", 1500.0)
        assert parse_within("FR") == "FR"
        assert parse_within("  ") is None
        with pytest.raises(ParameterError, match="demand:<distance>"):
            parse_within("demand:far")

    def test_demand_spec_needs_the_demand(self):
        with pytest.raises(ParameterError, match="needs the demand"):
            load_points(points_frame(PLACES[:1]), within=("demand", 5000))
        with pytest.raises(ParameterError, match="needs the demand"):
            load_demand(demand_gdf([45.0], [4.0]), within="demand:5km")


class TestRejectOutside:
    def test_moves_rows_and_keeps_counts(self):
        pts, _ = load_points(points_frame(PLACES))
        inside, rejected = reject_outside(pts, pd.DataFrame(), "FR")
        assert len(inside) + len(rejected) == len(PLACES)
        assert rejected["row"].eq(0).all()  # no source row known
        assert rejected.columns[:2].tolist() == ["row", "reason"]
        assert "Monaco" in set(rejected["name"])

    def test_nothing_to_do(self):
        pts, _ = load_points(points_frame(PLACES[:3]))
        same, rejected = reject_outside(pts, pd.DataFrame(), None)
        assert same is pts and rejected.empty


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.floats(-90, 90), st.floats(-180, 180)) | st.just((float("nan"), 1.0)),
        min_size=1,
        max_size=30,
    )
)
def test_rows_conserved_and_accepted_inside(coords):
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(coords))],
            "lat": [c[0] for c in coords],
            "lon": [c[1] for c in coords],
        }
    )
    accepted, rejected = load_points(frame, within="FR", country=None)
    assert len(accepted) + len(rejected) == len(frame)
    if len(accepted):
        inside = Within.country("FR").contains(accepted.geometry.x, accepted.geometry.y)
        assert inside.all()


class TestBundledData:
    def test_no_bundled_point_or_commune_outside_fr(self):
        demo = rn.datasets.load_demo()
        fr = Within.country("FR")
        for frame in (demo.points, demo.demand):
            assert fr.contains(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()).all()

    def test_build_reports_what_within_removed(self):
        rejected = pd.read_csv(rn.datasets.path("laposte_rejected.csv"), dtype=str)
        outside = rejected[rejected["reason"].str.startswith("outside FR")]
        assert len(outside) == 16
        spain = outside[outside["reason"] == "outside FR (41.63 N, 0.16 E)"]
        assert sorted(spain["#Identifiant_du_site"]) == ["10636A", "15348D"]
        assert len(rejected) == len(outside) + 13  # and 13 without coordinates


class TestCommands:
    """``--within`` on the commands that load files (CliRunner)."""

    @pytest.fixture
    def files(self, tmp_path):
        points = tmp_path / "points.csv"
        points.write_text(
            "id;lat;lon;type\nNEAR;44.52;3.50;locker\nFAR;44.90;3.50;locker\n"
            "SPAIN;41.63;0.16;locker\n",
            encoding="utf-8",
        )
        demand = tmp_path / "demand.csv"
        demand.write_text(
            "code_insee;population;lat;lon;dep\n48095;100;44.50;3.50;48\n48001;50;44.55;3.52;48\n",
            encoding="utf-8",
        )
        return points, demand

    def test_coverage_demand_buffer(self, files, tmp_path):
        from click.testing import CliRunner

        from relaynet.cli import main

        points, demand = files
        out = tmp_path / "out"
        args = ["coverage", "--points", str(points), "--demand", str(demand), "--out", str(out)]
        result = CliRunner().invoke(main, [*args, "--within", "demand:20km", "-q"])
        assert result.exit_code == 1, result.output  # rows rejected
        rejected = pd.read_csv(out / "rejected.csv", dtype=str)
        assert rejected["id"].tolist() == ["FAR", "SPAIN"]
        assert rejected["reason"].str.startswith("more than 20 km from the demand (").all()
        run = __import__("json").loads((out / "run.json").read_text())
        assert run["parameters"]["within"] == "20 km of the demand"
        points_record = next(r for r in run["inputs"] if r["role"] == "points")
        assert points_record["rows_read"] == 3 and points_record["accepted"] == 1

    def test_report_country(self, files, tmp_path):
        from click.testing import CliRunner

        from relaynet.cli import main

        points, demand = files
        out = tmp_path / "rep"
        result = CliRunner().invoke(
            main,
            ["report", "--points", str(points), "--demand", str(demand), "--out", str(out)]
            + ["--within", "FR", "-q", "--no-windows"],
        )
        assert result.exit_code == 1, result.output
        rejected = pd.read_csv(out / "rejected.csv", dtype=str)
        assert rejected["reason"].tolist() == ["outside FR (41.63 N, 0.16 E)"]

    def test_nearest_and_optimize(self, files, tmp_path):
        from click.testing import CliRunner

        from relaynet.cli import main

        points, demand = files
        runner = CliRunner()
        args = ["nearest", "--points", str(points), "--places", str(demand), "-k", "3"]
        result = runner.invoke(main, [*args, "--format", "csv", "--within", "demand:20km"])
        assert result.exit_code == 0, result.output
        access = pd.read_csv(__import__("io").StringIO(result.stdout))
        assert set(access["point_id"].dropna()) == {"NEAR"}
        out = tmp_path / "opt"
        result = runner.invoke(
            main,
            ["optimize", "--demand", str(demand), "--points", str(points), "--p", "1"]
            + ["--within", "FR", "--out", str(out)],
        )
        assert result.exit_code == 0, result.output
        assert "1 points outside" in result.stderr
