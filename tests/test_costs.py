"""Travel cost sources: one "covered" for assess and solve, road distance, your own costs."""

from __future__ import annotations

import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from relaynet.cli import main as cli
from relaynet.costs import CostTable, DriveEstimate, EstimatedCosts, travel_costs
from relaynet.coverage import assess
from relaynet.errors import InputError, ParameterError
from relaynet.geo import haversine_m
from relaynet.optimize import candidates_from_demand, solve
from relaynet.standard import Standard

OSM = Path(__file__).resolve().parents[1] / "data" / "osm"


def _demand(lat, lon, weight=None, density=None) -> gpd.GeoDataFrame:
    n = len(lat)
    frame = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "weight": np.ones(n) if weight is None else weight,
            "area_id": ["a"] * n,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    if density is not None:
        frame["density_class"] = density
    return frame


def _points(lat, lon, prefix="p") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"point_id": [f"{prefix}{i}" for i in range(len(lat))], "network": "n"},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def _scatter(seed: int, n: int, lat0: float, lon0: float, span: float):
    rng = np.random.default_rng(seed)
    return lat0 + rng.uniform(-span, span, n), lon0 + rng.uniform(-span, span, n)


def _covered_equal(demand, existing, standard, **source):
    """MCLP's covered weight == assess's covered weight on existing + chosen sites."""
    sol = solve(
        demand,
        candidates_from_demand(demand),
        standard,
        model="mclp",
        existing=existing,
        p=3,
        time_limit=30,
        **source,
    )
    weight = sol.assignment["weight"].to_numpy()
    solved = float((weight * sol.assignment["covered_after"]).sum())
    chosen = sol.sites[["point_id", "geometry"]].assign(network="n")
    points = gpd.GeoDataFrame(
        pd.concat([existing[["point_id", "network", "geometry"]], chosen], ignore_index=True),
        crs="EPSG:4326",
    )
    result = assess(demand, points, standard, windows=None, **source)
    assessed = float((result.access["weight"] * result.access["covered"]).sum())
    assert solved == pytest.approx(assessed, rel=1e-12, abs=1e-9), standard
    assert solved == pytest.approx(sol.objective, rel=1e-9)
    return solved, result


@pytest.fixture(scope="module")
def instance():
    lat, lon = _scatter(3, 120, 45.0, 3.0, 0.35)
    weight = np.random.default_rng(4).integers(1, 500, len(lat)).astype(float)
    demand = _demand(lat, lon, weight)
    plat, plon = _scatter(5, 4, 45.0, 3.0, 0.3)
    return demand, _points(plat, plon, "e")


class TestEstimate:
    def test_per_class_values(self):
        est = DriveEstimate(by_class={"rural": (1.5, 40.0)})
        assert not est.uniform and DriveEstimate().uniform
        density = np.array(["urban", "rural"], dtype=object)
        np.testing.assert_allclose(est.road_m([1000, 1000], density), [1300, 1500])
        np.testing.assert_allclose(est.drive_s([1000, 1000], density), [93.6, 135.0])
        np.testing.assert_allclose(est.max_distance_m(135.0, density)[1], 1000)
        assert pickle.loads(pickle.dumps(est)) == est and hash(est) == hash(est)
        assert "rural × 1.5 at 40 km/h" in est.describe()
        with pytest.raises(ParameterError, match="detour"):
            DriveEstimate(by_class={"rural": (0.8, 40.0)})

    def test_road_standard_is_estimated_per_class(self):
        # places due north of one point at 3.0 / 3.7 / 4.2 km; 5 km road = 3.846 km straight
        lat = 45.0 + np.array([3000.0, 3700.0, 4200.0, 3700.0]) / 111_195.0
        demand = _demand(lat, np.full(4, 3.0), density=["urban", "urban", "urban", "rural"])
        points = _points([45.0], [3.0])
        std = Standard.parse("5km road")
        result = assess(demand, points, std, windows=None)
        assert result.access["covered"].tolist() == [True, True, False, True]
        assert result.distance_source == "estimated"
        assert result.to_dict()["distance_source"] == "estimated"
        np.testing.assert_allclose(result.access["road_m"], result.access["distance_m"] * 1.3)
        slow_rural = DriveEstimate(by_class={"rural": (1.4, 50.0)})
        result = assess(demand, points, std, windows=None, drive_estimate=slow_rural)
        assert result.access["covered"].tolist() == [True, True, False, False]
        straight = assess(demand, points, "5km", windows=None)
        assert straight.access["covered"].all() and straight.distance_source == "straight_line"


class TestCoveredEquality:
    """For the same demand, sites and standard, MCLP's covered weight is assess's."""

    @pytest.mark.parametrize("text", ["5km", "20min", "5km|20min", "5km&20min", "5km road"])
    def test_straight_and_estimated(self, instance, text):
        demand, existing = instance
        covered, result = _covered_equal(demand, existing, Standard.parse(text))
        assert 0 < covered < demand["weight"].sum()
        if "min" in text:
            assert result.drive_time_source == "estimated"

    def test_estimate_per_class(self, instance):
        demand, existing = instance
        demand = demand.assign(density_class=np.where(np.arange(len(demand)) % 2, "rural", "urban"))
        est = DriveEstimate(by_class={"rural": (1.5, 35.0)})
        _covered_equal(demand, existing, Standard.parse("5km|20min"), drive_estimate=est)

    def test_report_optimize_with_time_standard(self, instance):
        from relaynet.report.pipeline import run_coverage

        demand, existing = instance
        run = run_coverage(existing, demand, "20min", windows=False, optimize="mclp", p=2)
        assert run.solution is not None and len(run.solution.sites) == 2


class TestCostTable:
    @pytest.fixture()
    def small(self):
        demand = _demand([45.0, 45.01, 45.02], [3.0, 3.0, 3.0])
        points = _points([45.0, 45.03], [3.0, 3.0])
        table = pd.DataFrame(
            {
                "demand_id": ["d0", "d1", "d1", "d2"],
                "point_id": ["p0", "p0", "p1", "p1"],
                "cost": [100.0, 900.0, 700.0, 1300.0],
            }
        )
        return demand, points, table

    def test_table_seconds(self, small):
        demand, points, table = small
        result = assess(demand, points, "10min", windows=None, costs=table, costs_unit="s")
        assert result.access["covered"].tolist() == [True, False, False]
        assert result.drive_time_source == "cost_table"
        np.testing.assert_allclose(result.access["drive_s"], [100.0, 700.0, 1300.0])
        # 15 min: d1 reaches both points, d2 one; absent pairs are out of reach
        result = assess(demand, points, "15min", windows=None, costs=table, costs_unit="s")
        assert result.access["n_points"].tolist() == [1, 2, 0]
        # straight-line part still from the points' coordinates ("2km or 10 min")
        result = assess(demand, points, "2km|10min", windows=None, costs=table, costs_unit="s")
        assert result.access["covered"].tolist() == [True, True, True]

    def test_sparse_matrix_same_as_table(self, small):
        demand, points, table = small
        rows = table["demand_id"].str[1:].astype(int)
        cols = table["point_id"].str[1:].astype(int)
        matrix = sparse.csr_array((table["cost"], (rows, cols)), shape=(3, 2))
        a = assess(demand, points, "15min", windows=None, costs=table, costs_unit="s")
        b = assess(demand, points, "15min", windows=None, costs=matrix, costs_unit="s")
        pd.testing.assert_frame_equal(a.access, b.access)
        with pytest.raises(InputError, match="shape"):
            assess(demand, points, "15min", windows=None, costs=matrix.T, costs_unit="s")

    def test_table_metres_answers_the_distance(self, small):
        demand, points, table = small
        for text in ("1km", "1km road"):
            result = assess(demand, points, text, windows=None, costs=table, costs_unit="m")
            assert result.access["covered"].tolist() == [True, True, False]
            assert result.distance_source == "cost_table"

    def test_errors(self, small):
        demand, points, table = small
        with pytest.raises(ParameterError, match="costs_unit"):
            assess(demand, points, "10min", windows=None, costs=table)
        with pytest.raises(ParameterError, match="time part"):
            assess(demand, points, "10min", windows=None, costs=table, costs_unit="m")
        with pytest.raises(ParameterError, match="road distance part"):
            assess(demand, points, "5km road", windows=None, costs=table, costs_unit="s")
        with pytest.raises(InputError, match="lacks columns"):
            CostTable(table.drop(columns="cost"), "s")
        with pytest.raises(InputError, match="negative"):
            CostTable(table.assign(cost=-1.0), "s")
        with pytest.raises(ParameterError, match="not both"):
            travel_costs(network=object(), costs=table, costs_unit="s")
        assert isinstance(travel_costs(), EstimatedCosts)

    def test_solve_and_assess_agree(self, small):
        demand, points, table = small
        extra = pd.DataFrame(
            {"demand_id": ["d2", "d1"], "point_id": ["cand:d2", "cand:d2"], "cost": [0.0, 50.0]}
        )
        costs = CostTable(pd.concat([table, extra], ignore_index=True), "s")
        _covered_equal(demand, points, Standard.parse("10min"), costs=costs)


class TestPublishedInstance:
    """OR-Library p-median instance pmed1 (100 nodes, 200 edges, p = 5).

    Source: J.E. Beasley, "A note on solving large p-median problems", European Journal of
    Operational Research 21 (1985) 270-273; data and optimal values in OR-Library
    (people.brunel.ac.uk/~mastjjb/jeb/orlib/pmedinfo.html, file pmedopt): pmed1 = 5819.
    Costs are shortest-path lengths on the undirected graph (a repeated edge: the last
    one counts), every node a demand point of weight 1 and a candidate site.
    """

    EDGES = """
    1 2 30 2 3 46 3 4 1 4 5 28 5 6 31 6 7 69 7 8 39 8 9 14 9 10 84 10 11 59 11 12 10
    12 13 28 13 14 63 14 15 9 15 16 100 16 17 98 17 18 70 18 19 94 19 20 22 20 21 14
    21 22 87 22 23 82 23 24 55 24 25 2 25 26 32 26 27 77 27 28 95 28 29 29 29 30 59
    30 31 91 31 32 89 32 33 50 33 34 40 34 35 88 35 36 94 36 37 60 37 38 21 38 39 89
    39 40 47 40 41 63 41 42 45 42 43 46 43 44 24 44 45 77 45 46 60 46 47 45 47 48 50
    48 49 93 49 50 22 50 51 84 51 52 16 52 53 85 53 54 68 54 55 93 55 56 37 56 57 26
    57 58 29 58 59 38 59 60 10 60 61 32 61 62 67 62 63 66 63 64 52 64 65 19 65 66 39
    66 67 12 67 68 86 68 69 72 69 70 73 70 71 65 71 72 2 72 73 8 73 74 96 74 75 43
    75 76 39 76 77 61 77 78 90 78 79 8 79 80 58 80 81 91 81 82 58 82 83 13 83 84 79
    84 85 59 85 86 28 86 87 46 87 88 24 88 89 63 89 90 81 90 91 14 91 92 52 92 93 64
    93 94 75 94 95 71 95 96 51 96 97 75 97 98 57 98 99 31 99 100 49 100 1 88 80 5 90
    85 69 51 20 19 30 85 13 22 81 95 54 58 73 37 64 51 89 39 76 89 13 8 77 91 76 51
    52 95 96 91 75 33 80 91 84 35 80 46 54 86 35 30 70 5 19 7 9 74 53 50 11 37 4
    19 92 70 62 94 96 60 52 34 24 59 63 42 45 68 19 60 53 60 27 86 15 50 31 38 18 27
    81 30 99 1 29 6 22 52 11 54 59 75 5 7 8 41 44 80 41 76 42 44 12 56 61 65 73
    20 93 35 9 99 28 45 68 19 16 79 96 13 42 3 68 4 28 58 17 60 21 81 34 35 7 7
    21 14 82 26 32 26 6 63 83 31 69 53 91 78 32 45 59 33 42 57 5 8 53 66 65 94 61
    94 90 63 73 33 88 39 21 59 42 85 34 30 57 37 34 94 52 62 38 56 26 29 20 48 98 53
    4 33 45 31 63 82 8 52 31 37 81 14 50 27 16 27 14 48 88 33 8 56 30 76 87 91 17
    33 49 77 70 30 74 25 99 19 95 30 96 14 85 90 49 8 96 96 5 87 73 4 41 99 32 35
    95 1 31 99 3 49 18 75 100 58 47 68 35 60 5 38 16 70 54 40 52 95 55 47 54 17 45
    9 83 75 97 66 81 9 48 92 90 95 96 4 27 27 75 22 48 62 7 55 79 3 57 15 69 46
    """
    OPTIMUM = 5819  # OR-Library pmedopt, pmed1

    def test_pmed1(self):
        values = np.array(self.EDGES.split(), dtype=np.int64).reshape(-1, 3)
        assert len(values) == 200
        n = 100
        graph = np.zeros((n, n))
        for u, v, w in values:  # the last mention of an edge counts
            graph[u - 1, v - 1] = graph[v - 1, u - 1] = w
        dist = shortest_path(sparse.csr_array(graph), directed=False)
        rows, cols = np.nonzero(np.ones((n, n), dtype=bool))
        # no coordinates in this instance: every node at one place; the table is the cost
        nodes = _demand(np.full(n, 45.0), np.full(n, 3.0))
        sites = _points(np.full(n, 45.0), np.full(n, 3.0), "s")
        costs = pd.DataFrame(
            {
                "demand_id": nodes["demand_id"].to_numpy()[rows],
                "point_id": sites["point_id"].to_numpy()[cols],
                "cost": dist[rows, cols],
            }
        )
        sol = solve(
            nodes,
            sites,
            Standard(distance_m=10_000),
            model="pmedian",
            p=5,
            costs=costs,
            costs_unit="m",
            time_limit=60,
        )
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(self.OPTIMUM)
        chosen = (
            sites["point_id"].str[1:].astype(int).isin(sol.sites["point_id"].str[1:].astype(int))
        )
        assert dist[:, chosen.to_numpy()].min(axis=1).sum() == pytest.approx(self.OPTIMUM)


class TestCli:
    def test_coverage_and_optimize_with_costs(self, tmp_path):
        lat, lon = _scatter(11, 12, 45.0, 3.0, 0.05)
        demand = _demand(lat, lon)
        points = _points(lat[:2], lon[:2])
        demand_csv, points_csv = tmp_path / "demand.csv", tmp_path / "points.csv"
        pd.DataFrame(
            {
                "demand_id": demand["demand_id"],
                "name": demand["demand_id"],
                "lat": lat,
                "lon": lon,
                "weight": 1.0,
            }
        ).to_csv(demand_csv, index=False)
        pd.DataFrame({"point_id": points["point_id"], "lat": lat[:2], "lon": lon[:2]}).to_csv(
            points_csv, index=False
        )
        # drive seconds = straight metres / 10 to every existing point and candidate
        ids = np.r_[points["point_id"], "cand:" + demand["demand_id"]]
        plat, plon = np.r_[lat[:2], lat], np.r_[lon[:2], lon]
        d, p = np.meshgrid(np.arange(len(lat)), np.arange(len(ids)), indexing="ij")
        cost = haversine_m(lat[d.ravel()], lon[d.ravel()], plat[p.ravel()], plon[p.ravel()]) / 10
        costs_csv = tmp_path / "costs.csv"
        pd.DataFrame(
            {
                "demand_id": demand["demand_id"].to_numpy()[d.ravel()],
                "point_id": ids[p.ravel()],
                "cost": cost,
            }
        ).to_csv(costs_csv, index=False)
        runner = CliRunner()
        common = ["--demand", str(demand_csv), "--points", str(points_csv), "--standard", "2min"]
        out = tmp_path / "cov"
        res = runner.invoke(
            cli,
            [
                "coverage",
                *common,
                "--no-windows",
                "--costs",
                str(costs_csv),
                "--costs-unit",
                "s",
                "--out",
                str(out),
                "-q",
            ],
        )
        assert res.exit_code == 0, res.output
        access = pd.read_csv(out / "access.csv")
        want = cost.reshape(len(lat), len(ids))[:, :2].min(axis=1) <= 120
        assert access["covered"].tolist() == want.tolist()
        res = runner.invoke(
            cli,
            [
                "optimize",
                *common,
                "--p",
                "1",
                "--costs",
                str(costs_csv),
                "--costs-unit",
                "s",
                "--out",
                str(tmp_path / "opt"),
            ],
        )
        assert res.exit_code == 0, res.output
        res = runner.invoke(
            cli, ["coverage", *common, "--costs", str(costs_csv), "--out", str(out)]
        )
        assert res.exit_code != 0 and "--costs-unit" in res.output
