"""Tests for relaynet.optimize: brute-force oracles on tiny instances, invariants, real data."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.optimize import linprog

from relaynet.errors import InputError, ParameterError, SolverError
from relaynet.optimize import (
    InfeasibleCoverError,
    candidates_from_demand,
    candidates_from_grid,
    candidates_from_points,
    solve,
    sparse_coverage,
)
from relaynet.standard import Standard

DATA = Path(__file__).resolve().parent.parent / "data"
R = 6_371_008.8


def haversine(lat1, lon1, lat2, lon2):
    """Oracle great-circle distance in metres (independent of the library)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl, dp = np.radians(lon2 - lon1), p2 - p1
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(a))


def make_instance(seed: int, n: int = 14, m: int = 7, n_fixed: int = 1, span: float = 0.25):
    rng = np.random.default_rng(seed)
    lat0, lon0 = 44.5, 3.5
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "weight": rng.integers(1, 100, n).astype(float),
            "area_id": np.where(np.arange(n) % 2 == 0, "A", "B"),
        },
        geometry=gpd.points_from_xy(lon0 + rng.uniform(0, span, n), lat0 + rng.uniform(0, span, n)),
        crs=4326,
    )
    sites = gpd.GeoDataFrame(
        {
            "point_id": [f"s{j}" for j in range(m)],
            "name": "",
            "status": ["fixed"] * n_fixed + ["new"] * (m - n_fixed),
            "cost": rng.integers(1, 4, m).astype(float),
            "capacity": np.nan,
        },
        geometry=gpd.points_from_xy(lon0 + rng.uniform(0, span, m), lat0 + rng.uniform(0, span, m)),
        crs=4326,
    )
    dist = haversine(
        demand.geometry.y.to_numpy()[:, None],
        demand.geometry.x.to_numpy()[:, None],
        sites.geometry.y.to_numpy()[None, :],
        sites.geometry.x.to_numpy()[None, :],
    )
    return demand, sites, dist


def split(sites):
    existing = sites[sites["status"] == "fixed"]
    return sites[sites["status"] != "fixed"], existing


def subsets(free_idx, max_size=None):
    top = len(free_idx) if max_size is None else min(max_size, len(free_idx))
    for size in range(top + 1):
        yield from itertools.combinations(free_idx, size)


RADIUS = 9_000.0
SOLVERS = [("highs", "pulp"), ("highs", "highspy"), ("cbc", "pulp")]


class TestSynthetic:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_mclp_matches_brute_force(self, seed, solver, engine):
        demand, sites, dist = make_instance(seed)
        w = demand["weight"].to_numpy()
        cover = dist <= RADIUS
        fixed = np.flatnonzero(sites["status"] == "fixed")
        free = np.flatnonzero(sites["status"] != "fixed")
        best = max(w[cover[:, list(fixed) + list(s)].any(axis=1)].sum() for s in subsets(free, 2))
        cands, existing = split(sites)
        sol = solve(
            demand,
            cands,
            Standard(distance_m=RADIUS),
            model="mclp",
            p=2,
            existing=existing,
            solver=solver,
            engine=engine,
        )
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(best)
        assert sol.covered_weight_after == pytest.approx(best)
        assert sol.greedy_objective <= best + 1e-9
        assert sol.sites["new_weight"].sum() == pytest.approx(
            sol.covered_weight_after - sol.covered_weight_before
        )
        assert len(sol.sites) <= 2 and not sol.sites["status"].eq("fixed").any()

    def test_reduced_cost_fixing_keeps_the_optimum(self):
        # random MCLP models over 10 candidates whose LP bound is above the optimum (an
        # integrality gap, else fixing at the LP values is trivially right): fixing against
        # every feasible start in turn (each 3-subset, the worst included) keeps the
        # brute-force optimum reachable
        from relaynet.optimize import models, solvers

        n, m, p = 40, 10, 3
        checked = n_fixed = 0
        for seed in range(40):
            rng = np.random.default_rng(seed)
            cover = rng.uniform(size=(n, m)) < 0.2
            cols = np.nonzero(cover)[1]
            indptr = np.r_[0, np.cumsum(cover.sum(axis=1))]
            ids = np.array([f"d{i}" for i in range(n)])
            inst = models.Instance(
                indptr,
                cols,
                np.zeros(len(cols)),
                rng.integers(1, 50, n).astype(float),
                np.zeros(m, bool),
                np.ones(m, bool),
                np.ones(m),
                ids,
            )
            mm = models.build_mclp(inst, p=p)
            k = len(mm.sites)
            starts = []
            for chosen in itertools.combinations(range(k), min(p, k)):
                x = np.zeros(k)
                x[list(chosen)] = 1.0
                starts.append(mm.complete(x))
            values = np.array([mm.objective(v) for v in starts])
            solvers.solve_relaxation(mm, time_limit=10)
            if mm.relaxation.objective + mm.offset <= values.max() + 1e-6:
                continue
            checked += 1
            for start in starts:
                fixed, count = models.fix_by_reduced_cost(mm, start)
                n_fixed += count
                assert fixed.feasible(start)
                kept = [v for v, x in zip(values, starts, strict=True) if fixed.feasible(x)]
                assert max(kept) == pytest.approx(values.max())
            if checked == 6:
                break
        assert checked == 6 and n_fixed > 0  # the test exercises fixing

    @pytest.mark.parametrize("seed", [3, 4])
    def test_mclp_budget_matches_brute_force(self, seed):
        demand, sites, dist = make_instance(seed)
        w, cost = demand["weight"].to_numpy(), sites["cost"].to_numpy()
        cover = dist <= RADIUS
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        best = max(
            w[cover[:, fixed + list(s)].any(axis=1)].sum()
            for s in subsets(free)
            if cost[list(s)].sum() <= 4
        )
        cands, existing = split(sites)
        sol = solve(
            demand, cands, Standard(distance_m=RADIUS), model="mclp", budget=4, existing=existing
        )
        assert sol.objective == pytest.approx(best)
        assert sol.sites["cost"].sum() <= 4

    @pytest.mark.parametrize("seed", [0, 5])
    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_lscp_matches_brute_force(self, seed, solver, engine):
        demand, sites, dist = make_instance(seed, m=9, span=0.15)
        cover = dist <= RADIUS
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        sizes = [len(s) for s in subsets(free) if cover[:, fixed + list(s)].any(axis=1).all()]
        if not sizes:
            pytest.skip("instance not coverable")
        cands, existing = split(sites.assign(cost=1.0))
        sol = solve(
            demand,
            cands,
            RADIUS and "9km",
            model="lscp",
            existing=existing,
            solver=solver,
            engine=engine,
        )
        assert sol.objective == pytest.approx(min(sizes))
        assert sol.assignment["covered_after"].all()

    def test_lscp_share_per_area_matches_brute_force(self):
        demand, sites, dist = make_instance(6, m=8)
        w = demand["weight"].to_numpy()
        area = demand["area_id"].to_numpy()
        cover = dist <= RADIUS
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        cost = sites["cost"].to_numpy()

        def ok(s):
            hit = cover[:, fixed + list(s)].any(axis=1)
            return all(w[hit & (area == a)].sum() >= 0.6 * w[area == a].sum() for a in "AB")

        feasible = [cost[list(s)].sum() for s in subsets(free) if ok(s)]
        cands, existing = split(sites)
        if not feasible:
            with pytest.raises(InfeasibleCoverError):
                solve(
                    demand,
                    cands,
                    "9km",
                    model="lscp",
                    alpha=0.6,
                    alpha_by="area_id",
                    existing=existing,
                )
            return
        sol = solve(
            demand, cands, "9km", model="lscp", alpha=0.6, alpha_by="area_id", existing=existing
        )
        assert sol.objective == pytest.approx(min(feasible))
        kpi = sol.kpi_table(by="area_id")
        assert (kpi["share_after"] >= 0.6 - 1e-9).all()

    @pytest.mark.parametrize("seed", [0, 1])
    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_pmedian_matches_brute_force(self, seed, solver, engine):
        demand, sites, dist = make_instance(seed)
        w = demand["weight"].to_numpy()
        cutoff = 12_000.0
        capped = np.minimum(dist, cutoff)
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        best = min(
            (w * capped[:, fixed + list(s)].min(axis=1)).sum()
            for s in subsets(free, 2)
            if fixed or s
        )
        cands, existing = split(sites)
        sol = solve(
            demand,
            cands,
            Standard(distance_m=cutoff),
            model="pmedian",
            p=2,
            existing=existing,
            solver=solver,
            engine=engine,
        )
        assert sol.objective == pytest.approx(best, rel=1e-6)
        assert sol.greedy_objective >= best - 1e-6

    @pytest.mark.parametrize("theta", [0.5, 0.3])
    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_backup_matches_brute_force(self, theta, solver, engine):
        demand, sites, dist = make_instance(7, n_fixed=2)
        w = demand["weight"].to_numpy()
        cover = dist <= RADIUS
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")

        def value(s):
            level = cover[:, fixed + list(s)].sum(axis=1)
            return (w * (theta * (level >= 1) + (1 - theta) * (level >= 2))).sum()

        best = max(value(s) for s in subsets(free, 3))
        cands, existing = split(sites)
        sol = solve(
            demand,
            cands,
            "9km",
            model="backup",
            p=3,
            once_share=theta,
            existing=existing,
            solver=solver,
            engine=engine,
        )
        assert sol.objective == pytest.approx(best)

    def test_mclp_monotone_in_p(self):
        demand, sites, _ = make_instance(8, n=40, m=15, n_fixed=0, span=0.4)
        values = [solve(demand, sites, "8km", model="mclp", p=p).objective for p in range(6)]
        assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))
        assert values[0] == 0 and values[-1] > 0

    def test_lscp_one_site_when_each_covers_all(self):
        demand, sites, _ = make_instance(9, n=20, m=6, n_fixed=0, span=0.02)
        sol = solve(demand, sites.assign(cost=1.0), "50km", model="lscp")
        assert sol.objective == 1 and len(sol.sites) == 1

    def test_fixed_sites_never_dropped_closable_can_close(self):
        demand, sites, _ = make_instance(10, n=30, m=8, n_fixed=3)
        cands, existing = split(sites)
        sol = solve(demand, cands, "9km", model="pmedian", p=2, existing=existing)
        open_ids = set(sol.assignment["point_id"].dropna())
        assert not sol.sites["point_id"].isin(existing["point_id"]).any()
        assert len(sol.closed) == 0
        # every demand point whose nearest site is a fixed one is served by it
        assert open_ids & set(existing["point_id"])
        redesign = solve(
            demand,
            cands,
            "9km",
            model="mclp",
            p=1,
            existing=existing.drop(columns="status"),
            existing_mode="closable",
        )
        kept = redesign.sites["status"].eq("closable").sum()
        assert len(redesign.sites) <= 1 and kept + len(redesign.closed) == 3

    def test_deterministic(self):
        demand, sites, _ = make_instance(11, n=60, m=25, n_fixed=2, span=0.5)
        cands, existing = split(sites)
        runs = [solve(demand, cands, "9km", model="mclp", p=4, existing=existing) for _ in "ab"]
        assert runs[0].site_ids == runs[1].site_ids
        assert runs[0].objective == runs[1].objective
        pd.testing.assert_frame_equal(runs[0].assignment, runs[1].assignment)

    def test_infeasible_lscp_names_points(self):
        demand, sites, _ = make_instance(12, n=6, m=3, n_fixed=0, span=0.01)
        far = gpd.GeoDataFrame(
            {"demand_id": ["far1", "far2"], "weight": [1.0, 2.0]},
            geometry=gpd.points_from_xy([6.0, 6.1], [47.0, 47.0]),
            crs=4326,
        )
        demand = pd.concat([demand, far], ignore_index=True)
        with pytest.raises(SolverError, match="far1") as info:
            solve(demand, sites, "5km", model="lscp")
        assert info.value.demand_ids == ["far1", "far2"]
        sol = solve(demand, sites, "5km", model="mclp", p=1)
        assert sol.uncoverable == ("far1", "far2")

    def test_time_limit_returns_best_solution(self):
        demand, sites, _ = make_instance(13, n=400, m=300, n_fixed=0, span=1.5)
        sol = solve(
            demand, sites, "8km", model="pmedian", p=30, time_limit=0.05, gap=0.0, engine="highspy"
        )
        assert sol.status in ("time_limit", "optimal")
        if sol.status == "time_limit":
            assert not sol.proven_optimal and len(sol.sites) > 0
        assert sol.objective <= sol.greedy_objective + 1e-6

    def test_parameters_checked(self):
        demand, sites, _ = make_instance(0)
        with pytest.raises(ParameterError, match="exactly one of p"):
            solve(demand, sites, "9km", model="mclp")
        with pytest.raises(ParameterError, match="model must be"):
            solve(demand, sites, "9km", model="nope", p=1)
        with pytest.raises(ParameterError, match="solver must be"):
            solve(demand, sites, "9km", model="mclp", p=1, solver="gurobi")


def served_oracle(w, dist, radius, cap, open_sites, *, penalty=None):
    """Independent LP at demand-point level (scipy linprog, no grouping): the best splittable
    assignment of demand ``w`` to ``open_sites`` within ``radius`` under capacities ``cap``
    (NaN = unlimited). Returns the served weight, or with ``penalty`` the least
    Σ w·d·y + penalty·w·unserved. ``None`` when infeasible (never, here)."""
    pairs = [(i, j) for i in range(len(w)) for j in open_sites if dist[i, j] <= radius]
    n_y = len(pairs)
    if penalty is None:
        c = np.array([-w[i] for i, _ in pairs] or [0.0])
    else:
        c = np.array([w[i] * dist[i, j] - penalty * w[i] for i, j in pairs] or [0.0])
    a_ub, b_ub = [], []
    for i in range(len(w)):
        a_ub.append([1.0 if pi == i else 0.0 for pi, _ in pairs])
        b_ub.append(1.0)
    for j in open_sites:
        if np.isfinite(cap[j]):
            a_ub.append([w[i] if pj == j else 0.0 for i, pj in pairs])
            b_ub.append(cap[j])
    if n_y == 0:
        return 0.0 if penalty is None else penalty * w.sum()
    res = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, bounds=(0, 1), method="highs")
    assert res.status == 0
    return -res.fun if penalty is None else res.fun + penalty * w.sum()


CAPACITY = np.array([120.0, 90.0, 200.0, 60.0, np.nan, 150.0, 80.0])


class TestCapacitated:
    """Sites with a capacity: brute force over site subsets, each scored by an independent
    demand-level LP (scipy linprog)."""

    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("solver,engine", SOLVERS)
    def test_mclp_matches_brute_force(self, seed, solver, engine):
        demand, sites, dist = make_instance(seed)
        sites["capacity"] = CAPACITY
        w = demand["weight"].to_numpy()
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        best = max(
            served_oracle(w, dist, RADIUS, CAPACITY, fixed + list(s)) for s in subsets(free, 2)
        )
        cands, existing = split(sites)
        sol = solve(
            demand,
            cands,
            Standard(distance_m=RADIUS),
            model="mclp",
            p=2,
            existing=existing,
            solver=solver,
            engine=engine,
        )
        assert sol.status == "optimal" and sol.stats["capacitated"]
        assert sol.objective == pytest.approx(best, rel=1e-6)
        assert sol.covered_weight_after == pytest.approx(best, rel=1e-6)
        assert sol.greedy_objective <= best + 1e-6
        chosen = list(np.flatnonzero(sites["point_id"].isin(sol.site_ids)))
        assert sol.objective == pytest.approx(
            served_oracle(w, dist, RADIUS, CAPACITY, fixed + chosen), rel=1e-6
        )
        limited = sol.sites["capacity"].notna()
        assert (sol.sites.loc[limited, "load"] <= sol.sites.loc[limited, "capacity"] + 1e-6).all()
        # newly served weight goes to the sites serving it; with capacities a part of it may
        # be served by fixed sites freed up by the new ones
        gain = sol.covered_weight_after - sol.covered_weight_before
        assert 0 < sol.sites["new_weight"].sum() <= gain + 1e-6
        before = served_oracle(w, dist, RADIUS, CAPACITY, fixed)
        assert sol.covered_weight_before == pytest.approx(before, rel=1e-6)

    @pytest.mark.parametrize("seed", [0, 3])
    def test_lscp_matches_brute_force(self, seed):
        demand, sites, dist = make_instance(seed, n=10, span=0.12)
        sites["capacity"] = CAPACITY * 2
        w, cost = demand["weight"].to_numpy(), sites["cost"].to_numpy()
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        feasible = [
            cost[list(s)].sum()
            for s in subsets(free)
            if served_oracle(w, dist, RADIUS, CAPACITY * 2, fixed + list(s)) >= w.sum() - 1e-6
        ]
        cands, existing = split(sites)
        sol = solve(demand, cands, Standard(distance_m=RADIUS), model="lscp", existing=existing)
        if not feasible:
            assert sol.status == "infeasible"
            return
        assert sol.objective == pytest.approx(min(feasible))
        assert sol.assignment["covered_after"].all()

    @pytest.mark.parametrize("seed", [1, 4])
    def test_pmedian_matches_brute_force(self, seed):
        demand, sites, dist = make_instance(seed)
        sites["capacity"] = CAPACITY
        w = demand["weight"].to_numpy()
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        best = min(
            served_oracle(w, dist, RADIUS, CAPACITY, fixed + list(s), penalty=RADIUS)
            for s in subsets(free, 2)
        )
        cands, existing = split(sites)
        sol = solve(
            demand, cands, Standard(distance_m=RADIUS), model="pmedian", p=2, existing=existing
        )
        assert sol.objective == pytest.approx(best, rel=1e-6)

    @pytest.mark.parametrize("seed", [3, 6])
    def test_budget_and_closable_match_brute_force(self, seed):
        demand, sites, dist = make_instance(seed)
        sites["capacity"] = CAPACITY
        w, cost = demand["weight"].to_numpy(), sites["cost"].to_numpy()
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        best = max(
            served_oracle(w, dist, RADIUS, CAPACITY, fixed + list(s))
            for s in subsets(free)
            if cost[list(s)].sum() <= 4
        )
        cands, existing = split(sites)
        std = Standard(distance_m=RADIUS)
        sol = solve(demand, cands, std, model="mclp", budget=4, existing=existing)
        assert sol.objective == pytest.approx(best, rel=1e-6) and sol.sites["cost"].sum() <= 4
        # closable: the existing site competes for the 2 places like any candidate
        best = max(
            served_oracle(w, dist, RADIUS, CAPACITY, list(s))
            for s in subsets(np.arange(len(sites)), 2)
        )
        redesign = solve(
            demand,
            cands,
            std,
            model="mclp",
            p=2,
            existing=existing.drop(columns="status"),
            existing_mode="closable",
        )
        assert redesign.objective == pytest.approx(best, rel=1e-6)

    def test_unlimited_capacity_equals_uncapacitated(self):
        demand, sites, _ = make_instance(5, n=40, m=15, n_fixed=2, span=0.4)
        cands, existing = split(sites)
        plain = solve(demand, cands, "8km", model="mclp", p=3, existing=existing)
        huge = solve(
            demand, cands.assign(capacity=1e12), "8km", model="mclp", p=3, existing=existing
        )
        assert huge.stats["capacitated"] and not plain.stats["capacitated"]
        assert huge.objective == pytest.approx(plain.objective)

    def test_full_fixed_site_does_not_count(self):
        demand, sites, dist = make_instance(0)
        w = demand["weight"].to_numpy()
        sites["capacity"] = np.where(sites["status"] == "fixed", 0.0, np.nan)
        cands, existing = split(sites)
        sol = solve(
            demand, cands, Standard(distance_m=RADIUS), model="mclp", p=0, existing=existing
        )
        assert sol.covered_weight_before == 0 and sol.objective == 0
        # demand_rate: 2 parcels per unit of weight halves what a capacity serves
        sites["capacity"] = CAPACITY
        cands, existing = split(sites)
        fixed = list(np.flatnonzero(sites["status"] == "fixed"))
        free = np.flatnonzero(sites["status"] != "fixed")
        best = max(
            served_oracle(w, dist, RADIUS, CAPACITY / 2, fixed + list(s)) for s in subsets(free, 2)
        )
        sol = solve(
            demand,
            cands,
            Standard(distance_m=RADIUS),
            model="mclp",
            p=2,
            existing=existing,
            demand_rate=2.0,
        )
        assert sol.objective == pytest.approx(best, rel=1e-6)
        assert (sol.sites["load"] == 2 * sol.sites["assigned_weight"]).all()

    def test_bad_capacity_input(self):
        demand, sites, _ = make_instance(0)
        with pytest.raises(InputError, match="negative capacity"):
            solve(demand, sites.assign(capacity=-1.0), "9km", model="mclp", p=1)
        with pytest.raises(InputError, match="non-numeric capacity"):
            solve(demand, sites.assign(capacity="lots"), "9km", model="mclp", p=1)
        with pytest.raises(InputError, match="non-numeric capacity in rows \\[2\\]"):
            candidates_from_points(sites.assign(capacity=["1", "2", "x", "4", "", None, "7"]))
        with pytest.raises(ParameterError, match="backup"):
            solve(demand, sites.assign(capacity=10.0), "9km", model="backup", p=1)
        with pytest.raises(ParameterError, match="demand_rate"):
            solve(demand, sites.assign(capacity=10.0), "9km", model="mclp", p=1, demand_rate=0)


class TestCoverageStructure:
    def test_radius_pairs_match_brute_force(self):
        demand, sites, dist = make_instance(20, n=80, m=40, span=0.6)
        cov = sparse_coverage(demand, sites, Standard(distance_m=RADIUS))
        table = cov.to_frame()
        expect = {(f"d{i}", f"s{j}") for i, j in zip(*np.nonzero(dist <= RADIUS))}
        assert set(zip(table["demand_id"], table["point_id"])) == expect
        got = dist[table["demand_id"].str[1:].astype(int), table["point_id"].str[1:].astype(int)]
        np.testing.assert_allclose(table["distance_m"], got, rtol=1e-9, atol=1e-6)

    def test_zero_distance_pairs_kept(self):
        demand, _, _ = make_instance(21, n=10)
        cov = sparse_coverage(demand, candidates_from_demand(demand), Standard(distance_m=1.0))
        assert cov.nnz == 10 and (cov.matrix.data == 0).all()

    def test_drive_table_combine(self):
        demand, sites, dist = make_instance(22, n=10, m=5)
        table = pd.DataFrame(
            {
                "demand_id": ["d0", "d1", "d2"],
                "point_id": ["s0", "s1", "s2"],
                "drive_s": [300.0, 900.0, 100.0],
            }
        )
        table = table.rename(columns={"drive_s": "cost"})
        only = sparse_coverage(demand, sites, Standard(drive_s=600), costs=table, costs_unit="s")
        only = only.to_frame()
        assert set(zip(only.demand_id, only.point_id)) == {("d0", "s0"), ("d2", "s2")}
        np.testing.assert_allclose(only.drive_s, [300.0, 100.0])
        both = sparse_coverage(
            demand, sites, Standard(distance_m=RADIUS, drive_s=600), costs=table, costs_unit="s"
        )
        radius_pairs = int((dist <= RADIUS).sum())
        extra = sum(dist[i, i] > RADIUS for i in (0, 2))
        assert both.nnz == radius_pairs + extra
        # no table: the documented estimate (straight line × 1.3 at 50 km/h), as in assess
        estimated = sparse_coverage(demand, sites, Standard(drive_s=600))
        assert estimated.nnz == int((dist <= 600 * 50 / 3.6 / 1.3).sum())
        with pytest.raises(ParameterError, match="unit"):
            sparse_coverage(demand, sites, Standard(drive_s=600), costs=table)


class TestCandidates:
    def test_hex_grid_spacing_and_clip(self):
        demand, _, _ = make_instance(30, n=50, span=0.5)
        grid = candidates_from_grid(demand, 5_000, shape="hex")
        hull = demand.to_crs(2154).union_all().convex_hull
        assert grid.to_crs(2154).intersects(hull).all()
        xyz = grid.to_crs(2154).geometry
        x, y = xyz.x.to_numpy(), xyz.y.to_numpy()
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(d, np.inf)
        np.testing.assert_allclose(d.min(axis=1), 5_000, rtol=1e-6)
        area_km2 = hull.area / 1e6
        assert len(grid) == pytest.approx(area_km2 / (5 * 5 * np.sqrt(3) / 2), rel=0.35)
        assert set(grid["status"]) == {"new"}

    def test_square_grid_outside_france_uses_utm(self):
        from shapely.geometry import box

        grid = candidates_from_grid(box(-74.0, 40.6, -73.9, 40.7), 2_000, shape="square")
        assert 20 <= len(grid) <= 40 and grid.crs.to_epsg() == 4326

    def test_from_points_and_demand(self):
        demand, sites, _ = make_instance(31)
        c = candidates_from_points(sites.drop(columns="status"), status="closable", cost="cost")
        assert (c["status"] == "closable").all() and c["cost"].tolist() == sites["cost"].tolist()
        # a capacity column (canonical points schema) is taken by default
        with_capacity = candidates_from_points(sites.assign(capacity=CAPACITY))
        np.testing.assert_array_equal(with_capacity["capacity"], CAPACITY)
        assert candidates_from_points(sites.drop(columns="capacity"))["capacity"].isna().all()
        d = candidates_from_demand(demand, min_weight=50)
        assert (
            len(d) == (demand["weight"] >= 50).sum() and d["point_id"].str.startswith("cand:").all()
        )


class TestRealData:
    def test_lozere_mclp(self):
        demand = gpd.read_parquet(DATA / "communes_demand.parquet")
        demand = demand[demand["area_id"] == "48"].reset_index(drop=True)
        cands = candidates_from_demand(demand)
        sol = solve(demand, cands, "5km", model="mclp", p=3)
        cbc = solve(demand, cands, "5km", model="mclp", p=3, solver="cbc")
        assert sol.status == cbc.status == "optimal"
        assert sol.objective == pytest.approx(cbc.objective)
        assert len(sol.sites) == 3 and sol.objective >= sol.greedy_objective
        # oracle: weight within 5 km of the chosen communes, by direct haversine
        chosen = cands.set_index("point_id").loc[sol.site_ids]
        d = haversine(
            demand.geometry.y.to_numpy()[:, None],
            demand.geometry.x.to_numpy()[:, None],
            chosen.geometry.y.to_numpy()[None, :],
            chosen.geometry.x.to_numpy()[None, :],
        )
        assert sol.objective == pytest.approx(demand["weight"][(d <= 5_000).any(axis=1)].sum())
        # the largest town (Mende) is among the chosen sites' coverage
        assert demand.loc[demand["weight"].idxmax(), "demand_id"] in set(
            sol.assignment.loc[sol.assignment["covered_after"], "demand_id"]
        )


class TestCli:
    def test_optimize_command(self, tmp_path):
        from relaynet.cli.optimize import optimize

        demand = gpd.read_parquet(DATA / "communes_demand.parquet")
        demand = demand[demand["area_id"] == "48"]
        path = tmp_path / "lozere.parquet"
        demand.to_parquet(path)
        out = tmp_path / "out"
        result = CliRunner().invoke(
            optimize,
            [
                "--demand",
                str(path),
                "--points",
                "bundled",
                "--candidates",
                "communes",
                "--standard",
                "5km",
                "--model",
                "mclp",
                "--p",
                "3",
                "--area",
                "48",
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        sites = pd.read_csv(out / "proposed_sites.csv")
        assert len(sites) <= 3
        geo = json.loads((out / "proposed_sites.geojson").read_text())
        assert len(geo["features"]) == len(sites)
        kpi = pd.read_csv(out / "kpi_before_after.csv")
        assert (kpi["share_after"] >= kpi["share_before"] - 1e-12).all()
        assert "HiGHS" in (out / "solver.log").read_text()

    def test_optimize_command_capacities(self, tmp_path):
        """Lozère with 0.02 parcels/day per inhabitant, 20 parcels/day per new site and 60
        per existing point: loads respect the capacities and less is served than without."""
        from relaynet.cli.optimize import optimize

        common = ["--area", "48", "--standard", "5km", "--p", "4"]
        runner = CliRunner()
        plain = runner.invoke(optimize, [*common, "--out", str(tmp_path / "plain")])
        capped = runner.invoke(
            optimize,
            [
                *common,
                "--capacity",
                "20",
                "--existing-capacity",
                "60",
                "--demand-rate",
                "0.02",
                "--out",
                str(tmp_path / "capped"),
            ],
        )
        assert plain.exit_code == 0 and capped.exit_code == 0, capped.output
        sites = pd.read_csv(tmp_path / "capped" / "proposed_sites.csv")
        assert (sites["load"] <= sites["capacity"] + 1e-6).all() and (sites["capacity"] == 20).all()
        summary = json.loads((tmp_path / "capped" / "summary.json").read_text())
        before = json.loads((tmp_path / "plain" / "summary.json").read_text())
        assert summary["stats"]["capacitated"] and summary["status"] == "optimal"
        assert summary["objective"] < before["objective"]
        bad = runner.invoke(optimize, [*common, "--capacity", "-5", "--out", str(tmp_path / "b")])
        assert bad.exit_code == 2 and "--capacity" in bad.output

    def test_optimize_command_bad_model(self, tmp_path):
        from relaynet.cli.optimize import optimize

        result = CliRunner().invoke(optimize, ["--model", "xx", "--out", str(tmp_path)])
        assert result.exit_code != 0
