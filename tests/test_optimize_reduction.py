"""The MCLP reduction around a start (relaynet.optimize.reduction) keeps the optimum:
brute force on small models, and the plain formulation solved by HiGHS on the benchmark's
2 000 × 500 instance."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pytest
from scipy import sparse

from relaynet.optimize import candidates_from_demand, models, reduction, solve, solvers
from relaynet.optimize.deadline import Deadline

R = 6_371_008.8


def coverage_oracle(demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, radius_m: float):
    """Dense demand × site coverage from an independent haversine (metres)."""
    p1 = np.radians(demand.geometry.y.to_numpy())[:, None]
    p2 = np.radians(sites.geometry.y.to_numpy())[None, :]
    dl = np.radians(sites.geometry.x.to_numpy()[None, :] - demand.geometry.x.to_numpy()[:, None])
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(a)) <= radius_m


def brute_force(cover: np.ndarray, w: np.ndarray, p: int) -> float:
    return max(
        w[cover[:, list(s)].any(axis=1)].sum() if s else 0.0
        for size in range(p + 1)
        for s in itertools.combinations(range(cover.shape[1]), size)
    )


def random_instance(seed: int, n: int = 40, m: int = 12, density: float = 0.2):
    rng = np.random.default_rng(seed)
    cover = rng.uniform(size=(n, m)) < density
    cols = np.nonzero(cover)[1]
    inst = models.Instance(
        np.r_[0, np.cumsum(cover.sum(axis=1))],
        cols,
        np.zeros(len(cols)),
        rng.integers(1, 50, n).astype(float),
        np.zeros(m, bool),
        np.ones(m, bool),
        np.ones(m),
        np.array([f"d{i}" for i in range(n)]),
    )
    return cover, inst


def lp_solve(model, limit):
    return solvers.solve_relaxation(model, time_limit=limit)[1]


class TestReduceMclp:
    def test_keeps_the_optimum_from_any_start(self):
        # models with an integrality gap, reduced around good and bad starts: the smaller
        # model's optimum (or the start, when nothing beats it) is the brute-force optimum,
        # its bound is valid, and its solutions map back with the same objective
        p, checked, fixed = 3, 0, 0
        for seed in range(60):
            cover, inst = random_instance(seed)
            best = brute_force(cover, inst.weight, p)
            mm = models.build_mclp(inst, p=p)
            solvers.solve_relaxation(mm, time_limit=10)
            if mm.relaxation.objective + mm.offset <= best + 1e-6:
                continue
            checked += 1
            k = len(mm.sites)
            for chosen in itertools.islice(itertools.combinations(range(k), p), 0, None, 7):
                x = np.zeros(k)
                x[list(chosen)] = 1.0
                start = mm.complete(x)
                red = reduction.reduce_mclp(
                    mm, inst, start, p, lp_solve=lp_solve, deadline=Deadline.after(60)
                )
                fixed += red.stats["reduce_fixed"]
                small = red.model
                assert red.bound >= best - 1e-6
                assert small.objective(red.start) == pytest.approx(mm.objective(start))
                ks = len(small.sites)
                assert int(red.start[:ks].sum()) + int(red.opened.sum()) <= p
                values = []
                for size in range(p - int(red.opened.sum()) + 1):
                    for s in itertools.combinations(range(ks), size):
                        xs = np.zeros(ks)
                        xs[list(s)] = 1.0
                        full = small.complete(xs)
                        value = small.objective(full)
                        back = red.expand(mm, full)
                        assert mm.feasible(back)
                        assert mm.objective(back) == pytest.approx(value)
                        values.append(value)
                assert max(max(values), mm.objective(start)) == pytest.approx(best)
            if checked == 8:
                break
        assert checked == 8 and fixed > 0  # the test exercises the reduction

    @pytest.mark.parametrize("seed", [0, 1, 10, 11, 17])
    def test_solve_matches_brute_force(self, seed):
        # random coverage (costs given as a matrix) whose LP bound leaves a gap: the MIP
        # runs on the reduced model; each engine, and the answer equals brute force
        cover, inst = random_instance(seed)
        n, m = cover.shape
        demand = gpd.GeoDataFrame(
            {"demand_id": inst.demand_ids, "weight": inst.weight},
            geometry=gpd.points_from_xy(np.full(n, 3.5), np.full(n, 44.5)),
            crs=4326,
        )
        sites = gpd.GeoDataFrame(
            {"point_id": [f"s{j}" for j in range(m)]},
            geometry=gpd.points_from_xy(np.full(m, 3.5), np.full(m, 44.5)),
            crs=4326,
        )
        best = brute_force(cover, inst.weight, 3)
        for engine in ("auto", "pulp", "highspy"):
            sol = solve(
                demand,
                sites,
                "5km",
                model="mclp",
                p=3,
                gap=0.0,
                engine=engine,
                costs=sparse.csr_array(cover * 1000.0),
                costs_unit="m",
            )
            assert sol.stats["reduce_fixed"] > 0  # the reduced path
            assert sol.status == "optimal"
            assert sol.objective == pytest.approx(best)
            assert sol.covered_weight_after == pytest.approx(best)
            assert sol.bound >= best - 1e-6 and len(sol.sites) <= 3


def test_pulp_layer_keeps_columns_fixed_by_reduced_costs():
    # pulp resets a binary variable's bounds to [0, 1]: fixed ones must reach the solver
    _, inst = random_instance(0)
    mm = models.build_mclp(inst, p=3)
    lb, ub = mm.lb.copy(), mm.ub.copy()
    lb[0], ub[1] = 1.0, 0.0
    _, variables = solvers.to_pulp(dataclasses.replace(mm, lb=lb, ub=ub))
    assert (variables[0].lowBound, variables[0].upBound) == (1, 1)
    assert (variables[1].lowBound, variables[1].upBound) == (0, 0)
    assert (variables[2].lowBound, variables[2].upBound, variables[2].cat) == (0, 1, "Integer")


def square_instance(n: int = 2000, m: int = 500, side_km: float = 150.0, seed: int = 0):
    """The MCLP instance of ``scripts/bench_optimize.py`` (same generator and seeds)."""
    rng = np.random.default_rng(seed)
    lat = 45.0 + rng.uniform(0, side_km / 111.2, n)
    lon = 2.0 + rng.uniform(0, side_km / 78.6, n)
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "weight": np.round(rng.lognormal(5.8, 1.3, n))},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    pick = np.sort(np.random.default_rng(seed + 1).choice(n, m, replace=False))
    return demand, candidates_from_demand(demand.iloc[pick])


def plain_mclp_optimum(cover: np.ndarray, w: np.ndarray, p: int) -> float:
    """The textbook MCLP (binary x per candidate, binary y per demand point, y_i ≤ Σ x_j,
    Σ x ≤ p, no reduction), solved by HiGHS to a zero gap."""
    import highspy

    n, m = cover.shape
    A = sparse.vstack(
        [
            sparse.hstack([-sparse.csr_array(cover.astype(float)), sparse.eye_array(n)]),
            sparse.hstack([sparse.csr_array(np.ones((1, m))), sparse.csr_array((1, n))]),
        ]
    ).tocsr()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    h.passModel(
        m + n,
        n + 1,
        A.nnz,
        2,
        -1,
        0.0,
        np.r_[np.zeros(m), w],
        np.zeros(m + n),
        np.ones(m + n),
        np.full(n + 1, -inf),
        np.r_[np.zeros(n), float(p)],
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(float),
        np.ones(m + n, dtype=np.int32),
    )
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def test_benchmark_instance_optimum_equals_the_plain_formulation():
    # the 2 000 × 500, p = 50, 10 km benchmark: relaynet's answer at the default gap (1e-4,
    # through LP bound, local search, reduction and MIP) is the optimum HiGHS proves on the
    # plain formulation, and so is its answer at a zero gap
    demand, cands = square_instance()
    optimum = plain_mclp_optimum(
        coverage_oracle(demand, cands, 10_000.0), demand["weight"].to_numpy(float), 50
    )
    sol = solve(demand, cands, "10km", model="mclp", p=50)
    assert sol.status == "optimal" and sol.gap <= 1e-4
    assert "reduce_rounds" in sol.stats  # the path the benchmark measures
    assert sol.objective == pytest.approx(optimum, rel=1e-12)
    assert sol.bound >= optimum - 1e-6
    exact = solve(demand, cands, "10km", model="mclp", p=50, gap=0.0)
    assert exact.objective == pytest.approx(optimum, rel=1e-12)
    assert exact.bound == pytest.approx(optimum, rel=1e-9)
