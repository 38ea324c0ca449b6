"""``solve``: from demand, candidates and a standard to a :class:`Solution`."""

from __future__ import annotations

import dataclasses
import logging
import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from ..costs import DriveEstimate, travel_costs
from ..errors import InputError, ParameterError
from ..geo import weights as demand_weights
from ..standard import Standard
from . import capacitated, models, reduction, solvers
from .candidates import combine_sites
from .coverage_matrix import SparseCoverage, sparse_coverage
from .deadline import Deadline
from .solution import Solution

log = logging.getLogger(__name__)

MODELS = ("lscp", "mclp", "pmedian", "backup")


def _standard(value, label: str) -> Standard:
    if isinstance(value, Standard):
        return value
    if isinstance(value, str):
        return Standard.parse(value)
    raise ParameterError(f"{label} must be a Standard or a text like '10km', got {value!r}")


def _check(model, p, budget, alpha, once_share, time_limit, gap) -> None:
    problems = []
    if model not in MODELS:
        problems.append(f"model must be one of {MODELS}, got {model!r}")
    if model in ("mclp", "pmedian", "backup"):
        if (p is None) == (budget is None):
            problems.append(
                f"model {model!r} needs exactly one of p (number of new sites) or "
                "budget (total site cost)"
            )
    if p is not None and not (isinstance(p, int | np.integer) and p >= 0):
        problems.append(f"p must be a whole number ≥ 0, got {p!r}")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        problems.append(f"budget must be a number ≥ 0, got {budget!r}")
    if not (0 < alpha <= 1):
        problems.append(f"alpha must be in (0, 1], got {alpha!r}")
    if not (0 <= once_share <= 1):
        problems.append(f"once_share must be in [0, 1], got {once_share!r}")
    if not (time_limit > 0):
        problems.append(f"time_limit must be > 0 seconds, got {time_limit!r}")
    if not (0 <= gap < 1):
        problems.append(f"gap must be a fraction in [0, 1), got {gap!r}")
    if problems:
        raise ParameterError("; ".join(problems))


def _capacities(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Site capacities (NaN = unlimited); negative or non-numeric ones are input errors."""
    raw = sites["capacity"]
    capacity = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    for bad, what in (
        (np.isnan(capacity) & raw.notna().to_numpy(), "non-numeric"),
        (capacity < 0, "negative"),
    ):
        if bad.any():
            ids = sites.loc[bad, "point_id"].tolist()
            raise InputError(f"sites: {what} capacity on {ids[:5]}")
    return capacity


def _nearest_service(cov: SparseCoverage, fixed, is_open, weight):
    """Uncapacitated service: every demand point goes whole to its nearest open site.

    Returns ``(main site, distance m, share before, share after, site weight, new weight)``.
    """
    before = (cov.count_open(fixed) > 0).astype(float)
    after = (cov.count_open(is_open) > 0).astype(float)
    best, best_d = _nearest_open(cov, is_open)
    has = best >= 0
    m = cov.shape[1]
    assigned = np.bincount(best[has], weights=weight[has], minlength=m)
    newly = has & (before == 0)
    new_w = np.bincount(best[newly], weights=weight[newly], minlength=m)
    return best, best_d, before, after, assigned, new_w


def _capacitated_service(mm, values, inst, cov: SparseCoverage, is_open, lp_solve):
    """Capacitated service from the solution's assignment; "before" is the most weight the
    fixed sites can serve within their capacities (an LP).

    Returns ``(main site, distance m, share before, share after, site weight, new weight)``
    where a site's new weight is its share of each demand point's newly served weight.
    """
    n, m = cov.shape
    after = mm.allocation(np.zeros(mm.n_cols) if values is None else values)
    before = np.zeros(n)
    if inst.fixed.any():
        only_fixed = dataclasses.replace(inst, free=np.zeros_like(inst.free))
        bm = capacitated.build("mclp", only_fixed, mm.capacity_w, p=0, lp_solve=lp_solve)
        if bm.n_cols:
            b_values = lp_solve(bm)
            if b_values is not None:
                before = bm.allocation(b_values).share
    rows, sites, frac = after.pairs
    gained = np.maximum(0.0, after.share - before) * inst.weight
    part = frac / np.maximum(after.share[rows], 1e-12)
    new_w = np.bincount(sites, weights=gained[rows] * part, minlength=m)
    best = after.main_site.copy()
    share_after = after.share.copy()
    # weightless points load no site: served when an open site is within reach
    free_ride = (inst.weight == 0) & (best < 0)
    if free_ride.any():
        nearest, _ = _nearest_open(cov, is_open)
        best[free_ride] = nearest[free_ride]
        share_after[free_ride] = (nearest[free_ride] >= 0).astype(float)
        before[free_ride] = (cov.count_open(inst.fixed) > 0)[free_ride].astype(float)
    best_d = np.full(n, np.nan)
    has = best >= 0
    best_d[has] = np.asarray(cov.matrix[np.flatnonzero(has), best[has]]).ravel()
    return best, best_d, before, share_after, after.site_weight, new_w


def _known(value: float) -> float | None:
    """``value`` as a float, or ``None`` when it is not known (NaN or ±inf)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _rel_gap(objective: float, bound: float) -> float:
    """Relative gap ``|bound - objective| / |objective|``."""
    return abs(bound - objective) / max(abs(objective), 1e-12)


def _nearest_open(cov: SparseCoverage, is_open: np.ndarray):
    """Nearest open site of every demand point within the structure: (site index or -1, m)."""
    n = cov.shape[0]
    rows, cols, dist = cov.rows, cov.matrix.indices, cov.matrix.data
    keep = is_open[cols]
    rows, cols, dist = rows[keep], cols[keep], dist[keep]
    order = np.lexsort((cols, dist, rows))
    best = np.full(n, -1, dtype=np.int64)
    best_d = np.full(n, np.nan)
    if len(order):
        first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
        best[rows[first]] = cols[first]
        best_d[rows[first]] = dist[first]
    return best, best_d


def _lp_guided(mm: models.MatrixModel, x_greedy, start, deadline: Deadline, gap, threads, verbose):
    """LP relaxation → rounding + iterated local search (MCLP with a count, big models).

    The LP gets half the time left, the local search half of what is left after it; the
    MIP solver the rest.

    Returns ``(raw, start, stats)``: ``raw`` is a finished :class:`~.solvers.RawResult`
    when the local-search solution is already within ``gap`` of the LP bound (the LP
    optimum bounds the integer one, so the gap is proven), else ``None`` and the improved
    ``start`` goes to the MIP solver.
    """
    t0 = time.perf_counter()
    values, lp_value, lp_log = solvers.solve_relaxation(
        mm, time_limit=0.5 * deadline.left(), threads=threads, verbose=verbose
    )
    lp_s = time.perf_counter() - t0
    stats = {"lp_s": lp_s, "lp_bound": lp_value + mm.offset}
    if values is None:
        log.info("LP relaxation not solved in time; going straight to the MIP")
        return None, start, stats
    k = len(mm.sites)
    budget_s = 0.5 * deadline.left()
    x, ls = mm.lp_improve(values[:k], x_greedy, bound=lp_value, gap=gap, time_budget_s=budget_s)
    start = mm.complete(x)
    value = mm.objective(start) - mm.offset
    rel_gap = max(0.0, lp_value - value) / max(abs(value), 1e-12) if mm.sense == -1 else np.inf
    stats.update(ls, lp_s=lp_s, lp_gap=rel_gap, lp_guided_s=time.perf_counter() - t0)
    if rel_gap > gap:
        return None, start, stats
    text = (
        f"{lp_log}\nLP bound {lp_value:.6g} (without constant {mm.offset:.6g}); "
        f"LP rounding + iterated 1-swap search: {value:.6g}; gap {rel_gap:.4%} ≤ {gap:.4%}, "
        "MIP search not needed\n"
    )
    raw = solvers.RawResult(
        start,
        "optimal",
        value + mm.offset,
        lp_value + mm.offset,
        rel_gap,
        text,
        "HiGHS LP bound + local search",
        "highspy",
        0.0,
        time.perf_counter() - t0,
    )
    return raw, start, stats


def solve(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    standard: Standard | str,
    *,
    model: str = "mclp",
    existing: gpd.GeoDataFrame | None = None,
    existing_mode: str = "fixed",
    p: int | None = None,
    budget: float | None = None,
    alpha: float = 1.0,
    alpha_by: str | None = None,
    once_share: float = 0.5,
    cutoff: Standard | str | None = None,
    penalty: float | None = None,
    network=None,
    costs=None,
    costs_unit: str | None = None,
    drive_estimate: DriveEstimate | None = None,
    solver: str = "highs",
    engine: str = "auto",
    time_limit: float = 120.0,
    gap: float = 1e-4,
    warm_start: bool = True,
    threads: int | None = None,
    demand_rate: float = 1.0,
    verbose: bool = False,
) -> Solution:
    """Choose new sites for a relay network.

    Parameters
    ----------
    demand
        Demand points (canonical demand schema: ``demand_id``, ``weight`` ≥ 0, optional
        ``area_id``), EPSG:4326.
    candidates
        Candidate sites from :mod:`relaynet.optimize.candidates` (or any point
        GeoDataFrame; then every row is a ``"new"`` candidate with cost 1).
    standard
        Service standard (``Standard`` or text such as ``"10km"``, ``"20min"``,
        ``"5km road"``) defining coverage, decided exactly as
        :func:`relaynet.coverage.assess` decides it with the same travel cost source.
    model
        ``"lscp"`` — fewest (cheapest) new sites covering all demand, or a share ``alpha``
        of the demand weight (of every ``alpha_by`` group); ``"mclp"`` — at most ``p`` new
        sites (or cost ≤ ``budget``) maximizing covered weight; ``"pmedian"`` — at most
        ``p`` sites minimizing weighted distance (metres; seconds for a time-only
        ``cutoff``), each demand point's distance capped at ``penalty``; ``"backup"`` —
        maximize Σ weight·(θ·covered once + (1-θ)·covered twice), θ = ``once_share``.
    existing
        Existing points (GeoDataFrame); ``existing_mode="fixed"`` keeps them open and only
        new sites are chosen, ``"closable"`` lets the model close them (they then count in
        ``p``/``budget`` like candidates).
    p, budget
        At most ``p`` new sites, or total site ``cost`` ≤ ``budget`` (exactly one, not for
        LSCP).
    cutoff, penalty
        p-median only: candidate lists are limited to the ``cutoff`` standard (default: the
        service standard) and a demand point with no open site within it counts
        ``penalty`` (default: the cut-off in metres or seconds).
    network, costs, costs_unit, drive_estimate
        The travel cost source, as for :func:`relaynet.coverage.assess`: a
        :class:`relaynet.network.RoadNetwork`; or your own costs (table ``demand_id,
        point_id, cost`` with ``point_id`` naming existing points and candidates — e.g.
        ``cand:<demand_id>`` for :func:`candidates_from_demand` — or a sparse matrix
        demand × sites, sites being existing points first then candidates) in
        ``costs_unit`` ``"m"`` or ``"s"``, pairs absent = not within reach; else road
        distance and drive time estimated from the straight line with ``drive_estimate``
        (see :mod:`relaynet.costs`).
    solver, engine
        ``"highs"`` (default) or ``"cbc"``; engine ``"pulp"``, ``"highspy"`` (direct
        arrays, HiGHS only) or ``"auto"`` (highspy above 200 000 model non-zeros, and for
        the MIP after the LP-guided reduction below).
    time_limit, gap
        Time limit (seconds) for the whole call, and relative MIP gap target (0.005 =
        0.5 %; the default 1e-4 is HiGHS's own, so small and regional models come back
        optimal). The limit counts from the call. Not interruptible, run to completion:
        building the coverage and the model, the greedy heuristic (its answer is the one
        returned when time runs out), the pulp layer's model building, and with capacities
        the LPs assigning demand to sites. The LP-guided local search and the MIP solver get
        what is left; a solver is not started once the limit has passed. Solvers check
        their limit between their own steps: HiGHS ends ~0.1 s late on regional models and
        ~1–2 s on national ones (setting up a 3 M non-zero MIP); CBC can be seconds late.
        ``Solution.wall_s`` is the measured time, ``Solution.time_limit_s`` the limit.
    warm_start
        Give the greedy solution to the solver as a start. MCLP with a site count and
        HiGHS, at any size: first the LP relaxation (its value bounds the optimum), LP
        rounding + local search from the greedy answer (returned when within ``gap`` of
        that bound); otherwise the model is shrunk around that answer (columns fixed by LP
        reduced costs, fixed-open sites folded into the constant, reductions and LP run
        again: :func:`~relaynet.optimize.reduction.reduce_mclp`, exact) and the MIP search
        starts from it on the smaller model, HiGHS presolve off.
    verbose
        Show the solver log on the console (it is always in ``Solution.log``).
    demand_rate
        Site load per unit of demand weight (e.g. parcels/day per inhabitant), used when
        any site has a finite ``capacity`` (same unit as the load, e.g. parcels/day). Then
        MCLP, LSCP and p-median become capacitated models with splittable demand (see
        :mod:`relaynet.optimize.capacitated`; fixed sites' capacities count too); backup
        coverage does not take capacities.

    Returns
    -------
    Solution

    Raises
    ------
    relaynet.optimize.InfeasibleCoverError
        (a :class:`~relaynet.errors.SolverError`) when an LSCP target cannot be met; its
        ``demand_ids`` lists the demand points that no candidate can cover.
    """
    t_start = time.perf_counter()
    standard = _standard(standard, "standard")
    _check(model, p, budget, alpha, once_share, time_limit, gap)
    deadline = Deadline.after(time_limit)
    threads = None if threads is None else int(threads)
    if not isinstance(demand, gpd.GeoDataFrame):
        raise InputError(f"demand: expected a GeoDataFrame, got {type(demand).__name__}")
    weight = demand_weights(demand)
    source = travel_costs(network, costs, costs_unit, drive_estimate)
    sites = combine_sites(candidates, existing, existing_mode=existing_mode)
    fixed = (sites["status"] == "fixed").to_numpy()
    free = ~fixed
    site_cost = sites["cost"].to_numpy(dtype=float)
    capacity = _capacities(sites)
    is_capacitated = bool(np.isfinite(capacity).any())
    if is_capacitated:
        if not (math.isfinite(demand_rate) and demand_rate > 0):
            raise ParameterError(f"demand_rate must be a number > 0, got {demand_rate!r}")
        if model == "backup":
            raise ParameterError(
                "backup coverage does not take site capacities; drop the capacity column"
            )
        if model == "pmedian" and cutoff is not None and _standard(cutoff, "cutoff") != standard:
            raise ParameterError("capacitated p-median: the cut-off must be the standard")

    cov = sparse_coverage(demand, sites, standard, costs=source)
    model_cov = cov
    if model == "pmedian":
        cut = standard if cutoff is None else _standard(cutoff, "cutoff")
        if cut != standard:
            model_cov = sparse_coverage(demand, sites, cut, costs=source)
        if penalty is None:
            penalty = cut.distance_m if cut.distance_m is not None else cut.drive_s
    area = None
    if alpha_by is not None:
        if alpha_by not in demand:
            raise InputError(f"demand: no column {alpha_by!r} for alpha_by")
        area = pd.factorize(demand[alpha_by].astype(str))[0].astype(np.int64)
    inst = models.Instance(
        model_cov.matrix.indptr,
        model_cov.matrix.indices,
        model_cov.cost(),
        weight,
        fixed,
        free,
        site_cost,
        cov.demand_ids,
        area,
    )
    if is_capacitated:

        def lp_solve(m):
            return solvers.solve_relaxation(
                m, time_limit=time_limit, threads=threads, verbose=verbose
            )[0]

        mm = capacitated.build(
            model,
            inst,
            capacity / demand_rate,
            p=p,
            budget=budget,
            alpha=alpha,
            penalty=None if penalty is None else float(penalty),
            lp_solve=lp_solve,
        )
    elif model == "mclp":
        mm = models.build_mclp(inst, p=p, budget=budget)
    elif model == "backup":
        mm = models.build_backup(inst, p=p, budget=budget, once_share=once_share)
    elif model == "lscp":
        mm = models.build_lscp(inst, alpha=alpha)
    else:
        mm = models.build_pmedian(inst, p=p, budget=budget, penalty=float(penalty))

    t0 = time.perf_counter()
    x_greedy = mm.heuristic()
    start = mm.complete(x_greedy)
    greedy_objective = mm.objective(start)
    greedy_s = time.perf_counter() - t0
    raw, lp_stats = None, {}
    if (
        warm_start
        and mm.lp_improve is not None
        and solver == "highs"
        and solvers.choose_engine(mm, solver, engine)  # any engine: arguments checked first
    ):
        if not deadline.expired:
            raw, start, lp_stats = _lp_guided(mm, x_greedy, start, deadline, gap, threads, verbose)
    reduced = None
    if (
        raw is None
        and mm.lp_improve is not None
        and mm.relaxation is not None
        and not is_capacitated
        and not deadline.expired
    ):
        reduced = reduction.reduce_mclp(
            mm,
            inst,
            start,
            int(p),
            lp_solve=lambda m, limit: solvers.solve_relaxation(
                m, time_limit=limit, threads=threads, verbose=verbose
            )[1],
            deadline=deadline,
            gap=gap,
            lp_s=lp_stats["lp_s"],
        )
        lp_stats.update(reduced.stats)
    if raw is None:
        raw = solvers.run(
            mm if reduced is None else reduced.model,
            solver=solver,
            # the LP-guided path already talks to highspy directly: so does its MIP
            engine="highspy" if reduced is not None and engine == "auto" else engine,
            deadline=deadline,
            gap=gap,
            start=(start if reduced is None else reduced.start) if warm_start else None,
            threads=threads,
            options=None if reduced is None else solvers.REDUCED_MODEL_OPTIONS,
            verbose=verbose,
        )
        if reduced is not None:
            raw.log = (
                f"model reduced around the start (exact): {reduced.stats['reduce_fixed']} "
                f"columns fixed by LP reduced costs in {reduced.stats['reduce_rounds']} "
                f"round(s), {reduced.stats['reduce_opened']} sites fixed open, "
                f"{mm.A.nnz} → {reduced.model.A.nnz} non-zeros\n{raw.log}"
            )
            if raw.values is not None:
                raw.values = reduced.expand(mm, raw.values)
    values, objective, fallback = raw.values, raw.objective, False
    status, bound, rel_gap = raw.status, raw.bound, raw.gap
    if values is None and raw.status != "infeasible":
        values, objective, fallback = start, mm.objective(start), True
        if status in ("time_limit", "no_solution"):
            # the heuristic start is the best answer found when time ran out, if feasible
            status = "time_limit" if mm.feasible(start) else "no_solution"
        elif status == "optimal":  # a solver claiming optimality without values: not proven
            status, bound = "no_solution", np.nan
        if not math.isfinite(bound):  # the LP optimum bounds the integer one too
            bound = lp_stats.get("lp_bound", np.nan)
        rel_gap = np.nan
        log.log(
            logging.INFO if status == "time_limit" else logging.WARNING,
            "%s returned no solution (%s); reporting the heuristic one",
            raw.solver,
            raw.status,
        )
    if math.isfinite(bound):  # a solver's rounded gap (CBC prints 2 decimals) is no smaller
        rel_gap = max(_rel_gap(objective, bound), rel_gap if math.isfinite(rel_gap) else 0.0)
    x = np.zeros(len(mm.sites)) if values is None else values[: len(mm.sites)]
    chosen = np.zeros(len(sites), dtype=bool)
    chosen[mm.sites[x > 0.5]] = True
    chosen &= ~fixed
    is_open = fixed | chosen

    if is_capacitated:
        served = _capacitated_service(mm, values, inst, cov, is_open, lp_solve)
    else:
        served = _nearest_service(cov, fixed, is_open, weight)
    best, best_d, share_before, share_after, assigned, new_w = served
    has = best >= 0
    n_dem = np.bincount(best[has], minlength=len(sites))

    selected = sites.loc[chosen].copy()
    selected["assigned_weight"] = assigned[chosen]
    selected["new_weight"] = new_w[chosen]
    selected["n_demand"] = n_dem[chosen]
    if is_capacitated:
        selected["load"] = assigned[chosen] * demand_rate
        selected["utilisation"] = selected["load"] / selected["capacity"]
    selected = selected.sort_values(["new_weight", "point_id"], ascending=[False, True])
    closed = sites.loc[(sites["status"] == "closable").to_numpy() & ~chosen].copy()
    assignment = pd.DataFrame(
        {
            "demand_id": cov.demand_ids,
            "weight": weight,
            "area_id": (
                demand["area_id"].astype(str).to_numpy()
                if "area_id" in demand
                else np.full(len(weight), "", dtype=object)
            ),
            "point_id": pd.array(
                np.where(has, cov.site_ids[np.maximum(best, 0)], None), dtype="string"
            ),
            "distance_m": best_d,
            "covered_before": share_before >= 1 - 1e-9,
            "covered_after": share_after >= 1 - 1e-9,
            "share_before": share_before,
            "share_after": share_after,
        }
    )
    uncoverable = tuple(
        cov.demand_ids[(cov.count_open(np.ones(len(sites), bool)) == 0) & (weight > 0)]
    )
    stats = dict(
        mm.stats,
        pairs=cov.nnz,
        rows=int(mm.A.shape[0]),
        cols=mm.n_cols,
        nnz=int(mm.A.nnz),
        greedy_s=greedy_s,
        fallback_greedy=fallback,
        capacitated=is_capacitated,
        **lp_stats,
    )
    wall = time.perf_counter() - t_start
    solution = Solution(
        model=model,
        status=status,
        sites=selected.reset_index(drop=True),
        closed=closed.reset_index(drop=True),
        objective=float(objective),
        bound=_known(bound),
        gap=_known(rel_gap),
        greedy_objective=float(greedy_objective),
        solver=raw.solver,
        engine=raw.engine,
        wall_s=wall,
        time_limit_s=float(time_limit),
        build_s=raw.build_s,
        solve_s=raw.solve_s,
        log=raw.log,
        standard=standard,
        assignment=assignment,
        uncoverable=uncoverable,
        stats=stats,
    )
    log.info(solution.summary())
    return solution
