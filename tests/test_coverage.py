"""Tests of relaynet.coverage: hand-built cases with every KPI known, real-data invariants."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaynet.cli.coverage import coverage
from relaynet.coverage import (
    TIME_WINDOWS,
    DensityThresholds,
    DriveEstimate,
    TripAssumptions,
    assess,
    classify_density,
    compliance_table,
    density_agreement,
    find_gaps,
    published_comparison,
    published_reference,
    time_windows,
    travel_burden,
    weighted_quantile,
)
from relaynet.coverage.kpis import kpi_table, kpis_with_total
from relaynet.datasets import load_demo
from relaynet.eligibility import Eligibility
from relaynet.errors import InputError, ParameterError
from relaynet.geo import EARTH_RADIUS_M
from relaynet.nearest import haversine_m
from relaynet.standard import Standard

DEG_M = EARTH_RADIUS_M * math.pi / 180  # metres per degree of longitude on the equator


def km(deg: float) -> float:
    return deg * DEG_M


# -- hand-built network on the equator: distances are exact multiples of DEG_M ----------------


def hand_points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "point_id": ["P1", "P2", "P3"],
            "name": ["one", "two", "three"],
            "network": ["a", "b", "a"],
            "kind": ["counter", "locker", "counter"],
            "opening_hours": ["Mo-Su 08:00-20:00", "Mo-Fr 09:00-18:00", "Sa 09:00-12:00"],
            "services": ["pickup", "pickup;returns", "pickup"],
        },
        geometry=gpd.points_from_xy([0.0, 0.03, 1.0], [0.0, 0.0, 0.0]),
        crs="EPSG:4326",
    )


def hand_demand() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "demand_id": ["D1", "D2", "D3", "D4", "D5"],
            "name": ["d1", "d2", "d3", "d4", "d5"],
            "weight": [100.0, 200.0, 300.0, 400.0, 50.0],
            "area_id": ["X", "X", "Y", "Y", "Y"],
            "area_name": ["Ex", "Ex", "Why", "Why", "Why"],
            "density_class": ["urban", "intermediate", "rural", "rural", "rural"],
        },
        geometry=gpd.points_from_xy([0.01, 0.07, 0.45, 0.98, 0.47], [0.0] * 5),
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def hand():
    return assess(hand_demand(), hand_points(), "5km")


class TestHandBuilt:
    def test_per_place_table(self, hand):
        acc = hand.access.set_index("demand_id")
        assert acc["point_id"].tolist() == ["P1", "P2", "P2", "P3", "P2"]
        expected = [km(0.01), km(0.04), km(0.42), km(0.02), km(0.44)]
        np.testing.assert_allclose(acc["distance_m"], expected, rtol=1e-9)
        assert acc["covered"].tolist() == [True, True, False, True, False]
        assert acc["n_points"].tolist() == [2, 1, 0, 1, 0]
        assert acc["n_networks"].tolist() == [2, 1, 0, 1, 0]
        np.testing.assert_allclose(acc["drive_s"], np.array(expected) * 1.3 / (50 / 3.6))
        assert hand.drive_time_source == "estimated"

    def test_overall_kpis(self, hand):
        k = hand.kpis.loc["all"]
        assert k["weight"] == 1050 and k["covered_weight"] == 700
        assert k["uncovered_weight"] == 350
        assert k["share_covered"] == pytest.approx(700 / 1050)
        mean = (100 * 0.01 + 200 * 0.04 + 300 * 0.42 + 400 * 0.02 + 50 * 0.44) / 1050
        assert k["mean_distance_m"] == pytest.approx(km(mean))
        # sorted: D1 100, D4 500, D2 700, D3 1000, D5 1050 → p50 (525) at D2, p90 (945) at D3
        assert k["p50_distance_m"] == pytest.approx(km(0.04))
        assert k["p90_distance_m"] == pytest.approx(km(0.42))
        assert k["fragile_weight"] == 600  # D2 (network b only) + D4 (network a only)
        assert k["backup_weight"] == 100  # D1: two points
        assert k["unreached_weight"] == 0

    def test_no_points_at_all_covers_nobody(self):
        # a scenario closing every point (compare --scenario 'none=-baseline.csv')
        result = assess(hand_demand(), hand_points().iloc[:0], "5km")
        assert not result.access["covered"].any()
        assert result.access["point_id"].isna().all()
        assert result.kpis.loc["all", "covered_weight"] == 0

    def test_by_density_and_area(self, hand):
        rural = hand.by_density.loc["rural"]
        assert rural["weight"] == 750 and rural["covered_weight"] == 400
        assert list(hand.by_density.index) == ["urban", "intermediate", "rural"]
        assert hand.by_area.loc["X", "share_covered"] == 1.0
        assert hand.by_area.loc["Y", "share_covered"] == pytest.approx(400 / 750)

    def test_networks_alone_and_marginal(self, hand):
        net = hand.networks.set_index("network")
        assert net.loc["a", "covered_weight"] == 500  # D1 via P1, D4 via P3
        assert net.loc["b", "covered_weight"] == 300  # D1, D2 via P2
        assert net.loc["a", "marginal_weight"] == 400  # D4 only
        assert net.loc["b", "marginal_weight"] == 200  # D2 only
        assert net.loc["all networks", "covered_weight"] == 700
        assert net.loc["a", "n_points"] == 2 and net.loc["b", "n_points"] == 1

    def test_default_time_windows(self, hand):
        shares = hand.windows[hand.windows["group"] == "all"].set_index("window")["covered_weight"]
        # Tue 10:00: P1, P2 open → D1, D2; Tue 19:00: P1 → D1; Sat 10:00: P1, P3 → D1, D4
        assert shares.to_dict() == {
            "weekday_daytime": 300,
            "weekday_evening": 100,
            "saturday": 500,
            "sunday": 100,
        }
        sat = hand.window_access["saturday"]
        assert sat["point_id"].astype(str).tolist() == ["P1", "P1", "P1", "P3", "P1"]
        np.testing.assert_allclose(sat["distance_m"].iloc[1], km(0.07))

    def test_user_window_and_base_filter(self):
        windows = {"returns_any_time": Eligibility(services={"returns"})}
        a = assess(hand_demand(), hand_points(), "5km", windows=windows)
        row = a.windows[(a.windows["window"] == "returns_any_time") & (a.windows["group"] == "all")]
        assert row["covered_weight"].item() == 300  # only P2 offers returns: D1, D2
        base = assess(
            hand_demand(), hand_points(), "5km", Eligibility(networks={"a"}), windows=None
        )
        assert base.kpis.loc["all", "covered_weight"] == 500
        assert base.n_eligible == 2

    def test_estimated_drive_time_standard(self):
        reach = 1200 * (50 / 3.6) / 1.3
        a = assess(hand_demand(), hand_points(), "20min", windows=None)
        acc = a.access.set_index("demand_id")
        assert acc.loc["D2", "n_points"] == 2  # P1 at 7.8 km is within 12.8 km straight line
        assert km(0.07) < reach < km(0.42)
        both = assess(hand_demand(), hand_points(), "5km&20min", windows=None)
        assert both.access["n_points"].tolist() == [2, 1, 0, 1, 0]
        slow = assess(
            hand_demand(),
            hand_points(),
            Standard(drive_s=1200),
            windows=None,
            drive_estimate=DriveEstimate(detour_factor=2.0, speed_kmh=20),
        )
        counts = slow.access.set_index("demand_id")["n_points"]  # reach 1200 s × 20 km/h / 2
        assert counts["D1"] == 2 and counts["D2"] == 0  # 3.33 km: P2 at 2.2 km, 4.4 km

    def test_compliance(self, hand):
        table = compliance_table(hand, 0.9).set_index("area_id")
        assert bool(table.loc["X", "passes"]) and table.loc["X", "shortfall"] == 0
        assert not table.loc["Y", "passes"]
        assert table.loc["Y", "shortfall"] == math.ceil(0.9 * 750 - 400)
        assert table.loc["Y", "uncovered_places"] == 2
        assert table.loc["Y", "closing_places_n"] == 1
        assert table.loc["Y", "closing_places"].startswith("d3 (300)")
        assert list(table.index)[0] == "Y"  # failing first
        assert table.loc["Y", "area_name"] == "Why"

    def test_gaps(self, hand):
        gaps = find_gaps(hand)
        assert len(gaps) == 1
        zone = gaps.iloc[0]
        assert zone["uncovered_weight"] == 350 and zone["n_places"] == 2
        assert zone["rural_share"] == 1.0
        assert zone["nearest_point_id"] == "P2"
        assert zone["nearest_point_m"] == pytest.approx(km(0.42))
        assert zone["crs_used"] == "EPSG:32631"  # UTM zone of lon 0.46 (not metropolitan)
        for x in (0.45, 0.47):
            assert zone.geometry.contains(gpd.points_from_xy([x], [0.0])[0])
        # isolated places are their own zone; ranked by uncovered weight
        sunday = find_gaps(hand, window="sunday")
        assert sunday["uncovered_weight"].tolist() == [400, 350, 200]
        assert sunday["rank"].tolist() == [1, 2, 3]
        tight = find_gaps(hand, eps_m=1000)
        assert sorted(tight["n_places"]) == [1, 1]

    def test_travel_burden(self, hand):
        burden = travel_burden(hand).loc["all"]
        distances = np.array([0.01, 0.04, 0.42, 0.02, 0.44]) * DEG_M / 1000
        weights = np.array([100, 200, 300, 400, 50])
        person_km = (weights * distances * 1.3).sum() * 6 * 2
        assert burden["person_km_per_year"] == pytest.approx(person_km)
        assert burden["co2_t_per_year"] == pytest.approx(person_km * 0.6 * 190 / 1e6)
        custom = travel_burden(hand, TripAssumptions(trips_per_person_year=1, round_trip=False))
        assert custom.loc["all", "person_km_per_year"] == pytest.approx(person_km / 12)

    def test_to_dict_is_json(self, hand):
        text = json.dumps(hand.to_dict())
        data = json.loads(text)
        assert data["drive_time_source"] == "estimated"
        assert data["overall"]["n_places"] == 5
        assert set(data["windows"]) == set(TIME_WINDOWS)


class TestHelpers:
    def test_weighted_quantile_matches_numpy(self):
        rng = np.random.default_rng(1)
        for _ in range(50):
            n = int(rng.integers(1, 40))
            v, w = rng.integers(0, 20, n).astype(float), rng.integers(0, 4, n).astype(float)
            if w.sum() == 0:
                continue
            for q in (0.1, 0.5, 0.9, 1.0):
                expected = np.quantile(v, q, weights=w, method="inverted_cdf")
                assert weighted_quantile(v, w, q) == expected

    def test_weighted_quantile_per_group_matches_numpy(self):
        rng = np.random.default_rng(3)
        for _ in range(50):
            n = int(rng.integers(1, 60))
            v, w = rng.integers(0, 20, n).astype(float), rng.integers(0, 4, n).astype(float)
            v[rng.random(n) < 0.1] = np.nan  # unreached: +inf
            groups = rng.integers(0, 4, n)
            got = weighted_quantile(v, w, [0.5, 0.9], groups, 5)
            for g in range(5):
                inside = (groups == g) & (w > 0)
                for i, q in enumerate((0.5, 0.9)):
                    if not inside.any():
                        assert np.isnan(got[i, g])
                        continue
                    values = np.where(np.isnan(v[inside]), np.inf, v[inside])
                    expected = np.quantile(values, q, weights=w[inside], method="inverted_cdf")
                    assert got[i, g] == expected

    def test_kpis_with_total_equal_kpi_tables(self):
        rng = np.random.default_rng(4)
        n = 500
        distance = rng.exponential(4000, n)
        distance[rng.random(n) < 0.05] = np.nan
        table = pd.DataFrame(
            {
                "weight": rng.integers(0, 50, n).astype(float),
                "covered": distance < 5000,
                "distance_m": distance,
                "drive_s": distance / 10,
                "backup": rng.random(n) < 0.3,
                "n_networks": rng.integers(0, 3, n),
                "density_class": rng.choice(["rural", "urban", "intermediate"], n),
            }
        )
        codes, labels = pd.factorize(table["density_class"], sort=True)
        both = kpis_with_total(
            *(table[c].to_numpy() for c in ("weight", "covered", "distance_m", "backup")),
            table["n_networks"].to_numpy(),
            table["drive_s"].to_numpy(),
            codes,
            pd.Index(labels),
        )
        expected = pd.concat([kpi_table(table), kpi_table(table, "density_class")])
        np.testing.assert_array_equal(both.index, ["all", *labels])
        np.testing.assert_array_equal(both.to_numpy(float), expected.to_numpy(float))

    def test_weighted_quantile_unreached_is_inf(self):
        assert weighted_quantile([1.0, np.nan], [1, 1], 0.9) == np.inf
        assert weighted_quantile([1.0, np.nan], [9, 1], 0.9) == 1.0

    def test_density_thresholds(self):
        frame = pd.DataFrame({"weight": [5000, 500, 50, 10], "area_km2": [1, 1, 1, np.nan]})
        classes = classify_density(frame).tolist()
        assert classes == ["urban", "intermediate", "rural", "unknown"]
        custom = classify_density(frame, DensityThresholds(6000, 40)).tolist()
        assert custom == ["intermediate", "intermediate", "intermediate", "unknown"]
        given = frame.assign(density_class=["7", "rural", None, "urbain"])
        assert classify_density(given).tolist() == ["rural", "rural", "rural", "urban"]
        with pytest.raises(ParameterError, match="rural_max"):
            DensityThresholds(urban_min_per_km2=10, rural_max_per_km2=100)

    def test_time_windows_reference_week(self):
        windows = time_windows()
        assert [w.open_at.strftime("%a %H:%M") for w in windows.values()] == [
            "Tue 10:00",
            "Tue 19:00",
            "Sat 10:00",
            "Sun 10:00",
        ]
        holidays_2024 = {"2024-05-20", "2024-07-14", "2024-08-15", "2024-05-09"}
        assert not {w.open_at.date().isoformat() for w in windows.values()} & holidays_2024
        with pytest.raises(ParameterError, match="Monday"):
            time_windows(pd.Timestamp("2024-06-11").date())

    def test_errors(self):
        with pytest.raises(ParameterError, match="by="):
            assess(hand_demand(), hand_points(), "5km", by="nope", windows=None)
        with pytest.raises(ParameterError, match="cannot read standard"):
            assess(hand_demand(), hand_points(), "five km", windows=None)
        bad = hand_demand().assign(weight=[1.0, -2.0, 1.0, 1.0, 1.0])
        with pytest.raises(InputError, match="weight"):
            assess(bad, hand_points(), "5km", windows=None)
        with pytest.raises(ParameterError, match="opening_hours"):
            assess(hand_demand(), hand_points().drop(columns="opening_hours"), "5km")
        with pytest.raises(ParameterError, match="window="):
            find_gaps(assess(hand_demand(), hand_points(), "5km", windows=None), window="x")


# -- bundled real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture(scope="module")
def national(demo):
    points, demand = demo
    return assess(demand, points, "5km|20min")


class TestRealData:
    def test_conservation_and_ranges(self, national):
        k = national.kpis.loc["all"]
        assert k["covered_weight"] + k["uncovered_weight"] == pytest.approx(k["weight"])
        assert k["weight"] == pytest.approx(national.access["weight"].sum())
        for table in (national.kpis, national.by_area, national.by_density, national.windows):
            shares = table[["share_covered", "fragile_share", "backup_share"]].to_numpy(float)
            assert ((shares >= 0) & (shares <= 1)).all()
        assert national.by_area["weight"].sum() == pytest.approx(k["weight"])
        assert national.by_density["covered_weight"].sum() == pytest.approx(k["covered_weight"])
        assert national.drive_time_source == "estimated"

    def test_windows_never_cover_more_than_base(self, national):
        base = national.access["covered"].to_numpy()
        for table in national.window_access.values():
            assert not (table["covered"].to_numpy() & ~base).any()
            assert (
                table["distance_m"].fillna(np.inf) >= national.access["distance_m"] - 1e-6
            ).all()

    def test_nearest_and_counts_against_brute_force(self, demo):
        points, demand = demo
        sample = demand.sample(150, random_state=3)
        a = assess(sample, points, "5km", windows=None)
        plat, plon = points.geometry.y.to_numpy(), points.geometry.x.to_numpy()
        d = haversine_m(
            sample.geometry.y.to_numpy()[:, None], sample.geometry.x.to_numpy()[:, None], plat, plon
        )
        np.testing.assert_allclose(a.access["distance_m"], d.min(axis=1), rtol=1e-7)
        np.testing.assert_array_equal(a.access["n_points"], (d <= 5000).sum(axis=1))
        np.testing.assert_array_equal(a.access["covered"], d.min(axis=1) <= 5000)

    def test_stricter_standard_never_covers_more(self, demo):
        points, demand = demo
        flags = {
            s: assess(demand, points, s, windows=None).access["covered"].to_numpy()
            for s in ("3km", "5km", "5km&20min", "5km|20min")
        }
        assert not (flags["3km"] & ~flags["5km"]).any()
        assert not (flags["5km&20min"] & ~flags["5km"]).any()
        assert not (flags["5km"] & ~flags["5km|20min"]).any()

    @settings(
        max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        lat=st.floats(44.1, 44.95), lon=st.floats(2.95, 4.0), radius=st.sampled_from([2000, 5000])
    )
    def test_adding_a_point_never_lowers_coverage(self, demo, lat, lon, radius):
        points, demand = demo
        lozere = demand[demand["area_id"] == "48"]
        near = points.cx[2.5:4.5, 43.8:45.3]
        before = assess(lozere, near, Standard(distance_m=radius), windows=None)
        extra = gpd.GeoDataFrame(
            {"point_id": ["NEW"], "network": ["newcomer"]},
            geometry=gpd.points_from_xy([lon], [lat]),
            crs="EPSG:4326",
        )
        more = pd.concat([near, extra], ignore_index=True)
        after = assess(lozere, more, Standard(distance_m=radius), windows=None)
        assert not (before.access["covered"] & ~after.access["covered"]).any()
        assert after.share_covered >= before.share_covered
        assert (after.access["distance_m"] <= before.access["distance_m"] + 1e-6).all()
        net = after.networks.set_index("network")
        gained = after.kpis.loc["all", "covered_weight"] - before.kpis.loc["all", "covered_weight"]
        assert net.loc["newcomer", "marginal_weight"] == pytest.approx(gained)

    def test_density_agreement_with_insee(self, demo):
        agreement = density_agreement(demo.demand)
        assert agreement.loc["all", "share_places"] > 0.93
        assert agreement.loc["rural", "share_places"] > 0.97

    def test_compliance_and_published_comparison(self, national):
        table = compliance_table(national)
        assert len(table) == national.access["area_id"].nunique()
        assert (table["shortfall"][table["passes"]] == 0).all()
        assert (table["shortfall"][~table["passes"]] > 0).all()
        comparison = published_comparison(national)
        assert comparison["published_share"].tolist() == [0.967, 0.97]
        assert (comparison["measured_share"] > 0.95).all()
        assert "overstate" in comparison["demand_resolution"].iloc[0]
        assert set(published_reference()["year"]) == {2015, 2023}

    def test_gaps_real(self, national):
        gaps = find_gaps(national, window="sunday")
        uncovered = national.window_access["sunday"]["covered"].eq(False)
        positive = national.access["weight"] > 0
        assert gaps["uncovered_weight"].sum() == pytest.approx(
            national.access.loc[uncovered & positive, "weight"].sum()
        )
        assert gaps["n_places"].sum() == (uncovered & positive).sum()
        assert gaps["uncovered_weight"].is_monotonic_decreasing
        assert gaps.geometry.is_valid.all() and (gaps.to_crs(6933).area > 0).all()
        metro = gaps[gaps["crs_used"] == "EPSG:2154"]
        assert len(metro) > 0.9 * len(gaps)


class TestCli:
    def test_writes_outputs(self, tmp_path):
        result = CliRunner().invoke(
            coverage,
            ["--standard", "5km|20min", "--by", "departement", "--out", str(tmp_path / "o")],
        )
        assert result.exit_code == 0, result.output
        out = tmp_path / "o"
        for name in ("access.csv", "kpis.json", "gaps.geojson", "gaps.csv", "compliance.csv"):
            assert (out / name).exists()
        data = json.loads((out / "kpis.json").read_text())
        assert data["drive_time_source"] == "estimated"
        assert data["published_comparison"][0]["published_share"] == 0.967
        assert "La Poste's published figures" in result.output
        access = pd.read_csv(out / "access.csv", dtype={"demand_id": str})
        assert len(access) == data["n_places"]

    def test_parquet_quiet_and_filters(self, tmp_path):
        result = CliRunner().invoke(
            coverage,
            [
                "--standard",
                "10km",
                "--kind",
                "post_office",
                "--no-windows",
                "--format",
                "parquet",
                "-q",
                "--out",
                str(tmp_path),
            ],
        )
        assert result.exit_code == 0, result.output
        assert result.output == ""
        access = pd.read_parquet(tmp_path / "access.parquet")
        assert access["covered"].mean() > 0.9

    def test_bad_standard_exit_2(self, tmp_path):
        result = CliRunner().invoke(coverage, ["--standard", "far", "--out", str(tmp_path)])
        assert result.exit_code == 2
        assert "cannot read standard" in result.output


class TestRoadNetwork:
    def test_drive_standard_uses_road_times(self):
        import warnings

        from relaynet.network import RoadNetwork

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = RoadNetwork.from_osm_file("data/osm/monaco.osm.gz", mode="drive")
        points = gpd.GeoDataFrame(
            {"point_id": ["A", "B"], "network": ["x", "y"], "opening_hours": ["24/7", "24/7"]},
            geometry=gpd.points_from_xy([7.415, 7.43], [43.732, 43.744]),
            crs="EPSG:4326",
        )
        demand = gpd.GeoDataFrame(
            {"demand_id": list("abcd"), "weight": [1.0, 2, 3, 4], "area_id": ["m"] * 4},
            geometry=gpd.points_from_xy([7.41, 7.42, 7.425, 7.43], [43.73, 43.735, 43.74, 43.745]),
            crs="EPSG:4326",
        )
        a = assess(demand, points, "2min", network=net, windows=None)
        assert a.drive_time_source == "road_network"
        oracle = net.nearest(demand, points, k=1)
        np.testing.assert_allclose(a.access["drive_s"], oracle["drive_s"])
        pairs = net.within(demand, points, 120)
        expected = pairs.groupby("demand_id").size().reindex(list("abcd"), fill_value=0)
        np.testing.assert_array_equal(a.access["n_points"], expected.to_numpy())
        strict = assess(demand, points, "500m&2min", network=net, windows=None)
        assert not (strict.access["covered"] & ~a.access["covered"]).any()
        assert not (strict.access["covered"] & (strict.access["distance_m"] > 500)).any()
