"""Time limits, unknown bounds and solver output of relaynet.optimize.solve."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import geopandas as gpd
import numpy as np
import pytest

from relaynet.io import write_json
from relaynet.optimize import solve

R = 6_371_008.8
CUTOFF_M = 8_000.0
MARGIN_S = 2.0
"""Allowed lateness: the setup phases (coverage, model, greedy) run to completion and the
solver checks its limit between steps; generous because the test machine is shared."""


def _instance(seed: int, n: int, m: int, span: float = 2.0):
    """Random demand and candidate sites (EPSG:4326) and the oracle distances (m, n × m)."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = 44.5, 3.5
    dem_lat, dem_lon = lat0 + rng.uniform(0, span, n), lon0 + rng.uniform(0, span, n)
    site_lat, site_lon = lat0 + rng.uniform(0, span, m), lon0 + rng.uniform(0, span, m)
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "weight": rng.integers(1, 100, n) * 1.0},
        geometry=gpd.points_from_xy(dem_lon, dem_lat),
        crs=4326,
    )
    sites = gpd.GeoDataFrame(
        {"point_id": [f"s{j}" for j in range(m)]},
        geometry=gpd.points_from_xy(site_lon, site_lat),
        crs=4326,
    )
    p1, p2 = np.radians(dem_lat)[:, None], np.radians(site_lat)[None, :]
    dl = np.radians(site_lon[None, :] - dem_lon[:, None])
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return demand, sites, 2 * R * np.arcsin(np.sqrt(a))


@pytest.fixture(scope="module")
def big():
    # p-median over 3 000 places and 2 000 candidates: ~4 s to prove optimal with HiGHS
    return _instance(13, n=3000, m=2000)


class TestTimeLimit:
    @pytest.mark.parametrize("engine", ["auto", "highspy"])
    def test_whole_call_ends_near_the_limit_with_a_feasible_answer(self, big, engine):
        demand, sites, dist = big
        limit, p = 0.5, 60
        t0 = time.perf_counter()
        sol = solve(
            demand, sites, "8km", model="pmedian", p=p, time_limit=limit, gap=0.0, engine=engine
        )
        wall = time.perf_counter() - t0
        assert wall <= limit + MARGIN_S
        assert sol.wall_s <= wall and sol.time_limit_s == limit
        assert sol.status == "time_limit" and not sol.proven_optimal
        # feasible: at most p sites, and the objective is what they really achieve
        assert 0 < len(sol.sites) <= p
        opened = sites["point_id"].isin(sol.site_ids).to_numpy()
        w = demand["weight"].to_numpy()
        achieved = (w * np.minimum(dist[:, opened].min(axis=1), CUTOFF_M)).sum()
        assert sol.objective == pytest.approx(achieved, rel=1e-9)
        assert sol.objective <= sol.greedy_objective + 1e-6
        if sol.bound is not None:
            assert sol.bound <= sol.objective * (1 + 1e-9) and sol.gap >= 0

    def test_unknown_bound_is_none_everywhere(self, big, tmp_path):
        demand, sites, _ = big
        sol = solve(demand, sites, "8km", model="mclp", p=40, time_limit=0.01)
        assert sol.status == "time_limit" and len(sol.sites) > 0
        # setup used up the 10 ms: the solver gets what is left, i.e. is not started
        assert sol.solve_s == 0.0 and "before the solver could start" in sol.log
        assert sol.bound is None and sol.gap is None
        assert "bound not proven" in sol.summary() and "inf" not in sol.summary()
        path = write_json({"bound": sol.bound, "gap": sol.gap, "stats": sol.stats}, tmp_path / "s")
        text = path.read_text()
        data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
        assert data["bound"] is None and data["gap"] is None

    def test_proven_bound_and_gap_are_finite(self):
        demand, sites, _ = _instance(1, n=60, m=30, span=0.3)
        sol = solve(demand, sites, "8km", model="mclp", p=3)
        assert sol.status == "optimal"
        assert math.isfinite(sol.bound) and 0 <= sol.gap <= 1e-4


SOLVERS = [("highs", "pulp"), ("highs", "highspy"), ("cbc", "pulp")]


class TestSolverOutput:
    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_silent_by_default_log_kept(self, capfd, solver, engine):
        demand, sites, _ = _instance(2, n=80, m=40, span=0.4)
        sol = solve(demand, sites, "8km", model="pmedian", p=4, solver=solver, engine=engine)
        out, err = capfd.readouterr()
        assert (out, err) == ("", "")
        assert sol.status == "optimal" and len(sol.log) > 100

    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_verbose_shows_the_log(self, capfd, solver, engine):
        demand, sites, _ = _instance(2, n=80, m=40, span=0.4)
        solve(
            demand, sites, "8km", model="pmedian", p=4, solver=solver, engine=engine, verbose=True
        )
        out, _ = capfd.readouterr()
        assert ("Solving report" if solver == "highs" else "Result - Optimal") in out

    def test_no_banner_in_a_fresh_process(self):
        # highspy prints its banner once per process, so this needs a process of its own
        code = (
            "import geopandas as gpd, relaynet as rn\n"
            "d = gpd.GeoDataFrame({'demand_id': ['a', 'b'], 'weight': [1.0, 2.0]},\n"
            "    geometry=gpd.points_from_xy([3.5, 3.6], [44.5, 44.5]), crs=4326)\n"
            "s = gpd.GeoDataFrame({'point_id': ['x', 'y']},\n"
            "    geometry=gpd.points_from_xy([3.5, 3.6], [44.51, 44.5]), crs=4326)\n"
            "sol = rn.solve(d, s, '5km', model='mclp', p=1, engine='highspy')\n"
            "assert sol.status == 'optimal' and 'Running HiGHS' in sol.log\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert (done.stdout, done.stderr) == ("", "")
