"""Nearest queries against a brute-force haversine oracle; places; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from relaynet.cli.nearest import nearest as nearest_cli
from relaynet.eligibility import Eligibility
from relaynet.errors import InputError, ParameterError
from relaynet.nearest import ACCESS_COLUMNS, Locator, haversine_m
from relaynet.places import resolve_place

DATA = Path(__file__).resolve().parent.parent / "data"


def random_points(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(42.5, 51, n), rng.uniform(-4.5, 8, n)
    return gpd.GeoDataFrame(
        {
            "point_id": [f"p{i}" for i in range(n)],
            "name": [f"P {i}" for i in range(n)],
            "network": rng.choice(["mondial_relay", "la_poste"], n),
            "kind": rng.choice(["locker", "counter"], n),
            "selector": rng.uniform(0, 1, n),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def brute_force(points, lat, lon, mask, k, max_m=np.inf):
    plat, plon = points.geometry.y.to_numpy(), points.geometry.x.to_numpy()
    d = haversine_m(lat[:, None], lon[:, None], plat[None, :], plon[None, :])
    d = np.where(mask[None, :] & (d <= max_m), d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, order, axis=1), order


POINTS = random_points(4000, seed=0)
LOC = Locator(POINTS)
RNG = np.random.default_rng(1)
QLAT, QLON = RNG.uniform(42, 51.5, 500), RNG.uniform(-5, 9, 500)


class TestAgainstBruteForce:
    @pytest.mark.parametrize("share", [1.0, 0.3, 0.03, 0.01, 0.001])
    def test_exact_k_nearest_eligible(self, share):
        mask = POINTS["selector"].to_numpy() < share
        k = 5
        rows, dist = LOC.query(QLAT, QLON, k=k, where=mask)
        expect_d, expect_rows = brute_force(POINTS, QLAT, QLON, mask, k)
        found = np.isfinite(expect_d)
        np.testing.assert_array_equal(rows >= 0, found)
        np.testing.assert_allclose(dist[found], expect_d[found], rtol=1e-9, atol=1e-6)
        np.testing.assert_array_equal(rows[found], expect_rows[found])
        assert mask[rows[rows >= 0]].all()

    def test_max_distance(self):
        rows, dist = LOC.query(QLAT, QLON, k=4, max_distance_m=20_000)
        expect_d, _ = brute_force(POINTS, QLAT, QLON, np.ones(len(POINTS), bool), 4, 20_000)
        np.testing.assert_array_equal(np.isfinite(dist), np.isfinite(expect_d))
        ok = np.isfinite(expect_d)
        np.testing.assert_allclose(dist[ok], expect_d[ok], rtol=1e-9)

    @pytest.mark.parametrize("share", [1.0, 0.05])
    def test_within_radius(self, share):
        mask = POINTS["selector"].to_numpy() < share
        table = LOC.within((QLAT[:50], QLON[:50]), 30_000, where=mask)
        d, order = brute_force(POINTS, QLAT[:50], QLON[:50], mask, len(POINTS), 30_000)
        expect = {(str(i), f"p{order[i, j]}") for i, j in zip(*np.nonzero(np.isfinite(d)))}
        assert set(zip(table.demand_id, table.point_id)) == expect
        assert (table.distance_m <= 30_000).all()
        assert list(table.columns) == ["demand_id", "point_id", "distance_m"]

    def test_eligibility_object_and_cache(self):
        where = Eligibility(kinds={"locker"}, networks={"la_poste"})
        mask = where.mask(POINTS)
        table = LOC.nearest((QLAT[:20], QLON[:20]), k=3, where=where)
        expect_d, expect_rows = brute_force(POINTS, QLAT[:20], QLON[:20], mask, 3)
        np.testing.assert_allclose(table.distance_m.to_numpy().reshape(20, 3), expect_d)
        assert set(table.kind.astype(str)) == {"locker"}
        assert len(LOC._indexes) >= 1
        again = LOC.nearest(
            (QLAT[:20], QLON[:20]), k=3, where=Eligibility(networks={"la_poste"}, kinds=["locker"])
        )
        pd.testing.assert_frame_equal(table, again)


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 6),
    share=st.floats(0.0, 1.0),
    seed=st.integers(0, 10_000),
    n_places=st.integers(1, 30),
)
def test_access_table_shape_and_order(k, share, seed, n_places):
    rng = np.random.default_rng(seed)
    mask = POINTS["selector"].to_numpy() < share
    lat, lon = rng.uniform(42, 51, n_places), rng.uniform(-4, 8, n_places)
    table = LOC.nearest((lat, lon), k=k, where=mask)
    assert list(table.columns) == list(ACCESS_COLUMNS)
    assert len(table) == n_places * k
    assert table["rank"].tolist() == list(range(1, k + 1)) * n_places
    dist = table.distance_m.to_numpy().reshape(n_places, k)
    filled = np.nan_to_num(dist, nan=1e30)
    assert (np.diff(filled, axis=1) >= 0).all()  # sorted, missing ranks last
    n_found = (~np.isnan(dist)).sum(axis=1)
    assert (n_found == min(k, int(mask.sum()))).all()
    assert table.point_id.isna().sum() == np.isnan(dist).sum()


class TestPlaces:
    def test_geodataframe_ids_and_crs(self):
        demand = gpd.GeoDataFrame(
            {"demand_id": ["x", "y"]},
            geometry=gpd.points_from_xy([2.35, 4.85], [48.85, 45.75]),
            crs="EPSG:4326",
        ).to_crs("EPSG:2154")
        table = LOC.nearest(demand, k=2)
        assert table.demand_id.tolist() == ["x", "x", "y", "y"]
        direct = LOC.nearest(([48.85, 45.75], [2.35, 4.85]), k=2)
        np.testing.assert_allclose(table.distance_m, direct.distance_m, rtol=1e-6)
        assert direct.demand_id.tolist() == ["0", "0", "1", "1"]

    def test_bad_places(self):
        with pytest.raises(InputError, match="out of range"):
            LOC.nearest((95.0, 2.0))
        with pytest.raises(InputError, match="no CRS"):
            LOC.nearest(gpd.GeoDataFrame(geometry=gpd.points_from_xy([2], [48])))
        with pytest.raises(ParameterError, match="k="):
            LOC.nearest((48.0, 2.0), k=0)
        with pytest.raises(ParameterError, match="boolean mask"):
            LOC.nearest((48.0, 2.0), where=np.ones(3, bool))

    def test_no_eligible_point(self):
        table = LOC.nearest((48.0, 2.0), k=2, where=np.zeros(len(POINTS), bool))
        assert table.point_id.isna().all() and table.distance_m.isna().all()
        assert LOC.within((48.0, 2.0), 1e6, where=np.zeros(len(POINTS), bool)).empty


class TestBundled:
    def test_resolve_names_and_postcodes(self):
        assert resolve_place("Lyon 3e").demand_id.iloc[0] == "69383"
        assert resolve_place("69003").demand_id.iloc[0] == "69383"
        assert resolve_place("st etienne").demand_id.iloc[0] == "42218"
        assert resolve_place("Saint-Denis 93").demand_id.iloc[0] == "93066"
        assert resolve_place("93200 Saint-Denis").demand_id.iloc[0] == "93066"

    def test_ambiguous_and_unknown(self):
        with pytest.raises(ParameterError, match="ambiguous.*Saint-Denis \\(93"):
            resolve_place("Saint-Denis")
        with pytest.raises(ParameterError, match="unknown French commune.*Marseille"):
            resolve_place("Marseile")

    def test_nearest_by_name(self):
        points = gpd.read_parquet(DATA / "laposte_points.parquet")
        table = Locator(points).nearest("Lyon 3e", k=3)
        place = resolve_place("Lyon 3e")
        sub = points.set_index("point_id").loc[table.point_id]
        expect = haversine_m(
            place.geometry.y.iloc[0],
            place.geometry.x.iloc[0],
            sub.geometry.y.to_numpy(),
            sub.geometry.x.to_numpy(),
        )
        np.testing.assert_allclose(table.distance_m, expect, rtol=1e-7)
        assert (table.distance_m < 2000).all()


class TestCli:
    def test_table(self):
        result = CliRunner().invoke(
            nearest_cli,
            ["--at", "Lyon 3e", "-k", "3", "--open", "Sa 10:00-11:00", "--service", "returns"],
        )
        assert result.exit_code == 0, result.output
        assert "Lyon 3e Arrondissement" in result.output
        assert result.output.count(" open ") >= 3 and " km" in result.output

    def test_csv_matches_api(self, tmp_path):
        points_file = tmp_path / "points.csv"
        pts = random_points(300, seed=5)
        pd.DataFrame(
            {
                "point_id": pts.point_id,
                "name": pts.name,
                "kind": pts.kind,
                "network": pts.network,
                "lat": pts.geometry.y,
                "lon": pts.geometry.x,
                "opening_hours": "Mo-Sa 09:00-19:00",
            }
        ).to_csv(points_file, index=False)
        result = CliRunner().invoke(
            nearest_cli,
            [
                "--points",
                str(points_file),
                "--lat",
                "48.8",
                "--lon",
                "2.3",
                "-k",
                "4",
                "--format",
                "csv",
                "--kind",
                "locker",
            ],
        )
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert lines[0] == ",".join(ACCESS_COLUMNS) and len(lines) == 5
        expect = Locator(pts).nearest((48.8, 2.3), k=4, where=Eligibility(kinds={"locker"}))
        assert [line.split(",")[2] for line in lines[1:]] == expect.point_id.tolist()

    def test_geojson(self):
        result = CliRunner().invoke(
            nearest_cli, ["--at", "Belley", "-k", "2", "--format", "geojson"]
        )
        assert result.exit_code == 0, result.output
        features = json.loads(result.output)["features"]
        assert len(features) == 2 and features[0]["properties"]["rank"] == 1

    def test_errors(self):
        runner = CliRunner()
        result = runner.invoke(nearest_cli, ["--at", "Saint-Denis"])
        assert result.exit_code == 2 and "ambiguous" in result.output
        result = runner.invoke(nearest_cli, [])
        assert result.exit_code == 2 and "exactly one" in result.output
        result = runner.invoke(nearest_cli, ["--at", "Belley", "--open", "someday"])
        assert result.exit_code == 2 and "open_during" in result.output


def test_count_within_matches_within_pairs():
    rng = np.random.default_rng(5)
    n = 2000
    points = gpd.GeoDataFrame(
        {"point_id": [f"p{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(2, 3, n), rng.uniform(45, 46, n)),
        crs=4326,
    )
    lat, lon = rng.uniform(45, 46, 300), rng.uniform(2, 3, 300)
    mask = rng.random(n) < 0.3
    loc = Locator(points)
    counts = loc.count_within(lat, lon, 4000, where=mask)
    place, _, _ = loc.within_arrays(lat, lon, 4000, where=mask)
    np.testing.assert_array_equal(counts, np.bincount(place, minlength=300))
    assert counts.sum() > 0
