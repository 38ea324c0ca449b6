"""Location models (LSCP, MCLP, p-median, backup coverage) in one array form.

Each builder reduces the instance, then writes the mixed-integer program once as arrays
(:class:`MatrixModel`: column costs/bounds/integrality, a CSR constraint matrix, row
bounds). :mod:`relaynet.optimize.solvers` turns that into a pulp ``LpProblem`` (the
modelling layer of the normal path, solved by HiGHS or CBC) or passes it to highspy in
one call (fast path for big instances). The first ``len(sites)`` columns are always the
site variables ``x_j`` (binary: open candidate ``j``).

Reductions (all exact):

- sites with status ``"fixed"`` are open: demand they already cover leaves the model
  (its weight becomes a constant), and so does demand no free candidate can reach;
- demand points with identical candidate sets are merged (weights summed);
- candidates that reach no remaining demand are dropped;
- MCLP and LSCP drop dominated candidates: one whose covered set is a subset of another
  candidate's that costs no more (:func:`.localsearch.dominated_columns`);
- p-median keeps, for each demand point, only candidates nearer than its nearest fixed
  site (and than the cut-off penalty).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import SolverError
from . import greedy, localsearch

INF = np.inf


class InfeasibleCoverError(SolverError):
    """An LSCP cannot reach its target: some demand can be covered by no candidate.

    ``demand_ids`` names those demand points (all of them, in input order).
    """

    def __init__(self, message: str, demand_ids: list[str]):
        super().__init__(message)
        self.demand_ids = demand_ids


@dataclass
class MatrixModel:
    """A mixed-integer program as arrays; see the module docstring."""

    kind: str
    sense: int  # 1 = minimize, -1 = maximize
    cost: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sparse.csr_array
    row_lb: np.ndarray
    row_ub: np.ndarray
    offset: float
    sites: np.ndarray  # site-table index of each x column
    complete: Callable[[np.ndarray], np.ndarray]
    heuristic: Callable[[], np.ndarray]
    stats: dict = field(default_factory=dict)
    lp_improve: Callable[..., tuple[np.ndarray, dict]] | None = None
    """``lp_improve(x_lp, x_start, bound=, gap=, time_budget_s=)`` → (site 0/1 vector,
    figures): LP-guided local search (MCLP with a site count only)."""
    relaxation: Relaxation | None = None
    """The solved LP relaxation, kept by :func:`~.solvers.solve_relaxation` for
    :func:`fix_by_reduced_cost`."""

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    def objective(self, values: np.ndarray) -> float:
        """Objective of a full column vector, constant included."""
        return float(self.cost @ values + self.offset)

    def feasible(self, values: np.ndarray, tol: float = 1e-6) -> bool:
        """Whether a full column vector meets the bounds, integrality and every row (within
        ``tol``, relative to the size of each bound)."""
        x = np.asarray(values, dtype=float)
        ax = self.A @ x
        return bool(
            len(x) == self.n_cols
            and np.all(x >= self.lb - tol * (1 + np.abs(self.lb)))
            and np.all(x <= self.ub + tol * (1 + np.abs(self.ub)))
            and np.all(np.abs(x[self.integer] - np.round(x[self.integer])) <= tol)
            and np.all(ax >= self.row_lb - tol * (1 + np.abs(self.row_lb)))
            and np.all(ax <= self.row_ub + tol * (1 + np.abs(self.row_ub)))
        )


@dataclass(frozen=True)
class Relaxation:
    """An optimal LP relaxation: column values, objective (constant excluded) and reduced
    costs (HiGHS column duals, in the model's sense)."""

    values: np.ndarray
    objective: float
    reduced_cost: np.ndarray


def fix_by_reduced_cost(model: MatrixModel, start: np.ndarray) -> tuple[MatrixModel, int]:
    """Fix the binary columns that no solution better than ``start`` can change (exact).

    With an optimal LP relaxation of value ``z`` and reduced cost ``d_j``, any solution
    that moves column ``j`` off the bound it has in the LP is worth at most ``z - |d_j|``
    (LP duality). When that is below the value of ``start`` (a feasible solution), the
    column keeps its LP bound in every solution at least as good, so fixing it there
    changes neither the optimum nor any bound proven on the smaller model; ``start``
    itself satisfies the fixings. Columns are fixed only with a margin of ``1e-7`` of the
    objective for the LP's tolerances.

    Returns
    -------
    (MatrixModel, int)
        A copy with tightened column bounds (or ``model`` itself), and the number fixed.
    """
    lp = model.relaxation
    if lp is None or start is None:
        return model, 0
    incumbent = model.objective(start) - model.offset
    # maximization (sense -1): a column at its lower bound has d ≤ 0, and so on
    d = -model.sense * np.asarray(lp.reduced_cost, dtype=float)
    x = np.asarray(lp.values, dtype=float)
    binary = model.integer & (model.lb == 0) & (model.ub == 1)
    worth = -model.sense * lp.objective + np.where(x < 0.5, d, -d)
    margin = 1e-7 * max(1.0, abs(lp.objective))
    fix = binary & (worth < -model.sense * incumbent - margin)
    fix &= (np.abs(x - np.round(x)) <= 1e-9) & (np.abs(start - np.round(x)) <= 1e-9)
    if not fix.any():
        return model, 0
    lb, ub = model.lb.copy(), model.ub.copy()
    at_one = fix & (x >= 0.5)
    lb[at_one] = 1.0
    ub[fix & ~at_one] = 0.0
    return replace(model, lb=lb, ub=ub), int(fix.sum())


@dataclass(frozen=True)
class Instance:
    """Arrays shared by the builders.

    ``indptr``/``indices``/``pair_cost`` is the CSR (demand × site) structure; ``weight``
    per demand point; ``fixed``/``free`` masks and ``site_cost``/``capacity`` per site.
    """

    indptr: np.ndarray
    indices: np.ndarray
    pair_cost: np.ndarray
    weight: np.ndarray
    fixed: np.ndarray
    free: np.ndarray
    site_cost: np.ndarray
    demand_ids: np.ndarray
    area: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))

    def count(self, mask: np.ndarray) -> np.ndarray:
        n = len(self.indptr) - 1
        return np.bincount(self.rows, weights=mask[self.indices], minlength=n).astype(np.int64)


def _select(inst: Instance, row_mask: np.ndarray, col_mask: np.ndarray):
    """Sub-structure on the kept rows and columns: (indptr, indices, cost, row_ids, col_ids)."""
    rows = inst.rows
    keep = row_mask[rows] & col_mask[inst.indices]
    new_col = np.cumsum(col_mask) - 1
    new_row = np.cumsum(row_mask) - 1
    r = new_row[rows[keep]]
    indptr = np.zeros(int(row_mask.sum()) + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=len(indptr) - 1), out=indptr[1:])
    return (
        indptr,
        new_col[inst.indices[keep]],
        inst.pair_cost[keep],
        np.flatnonzero(row_mask),
        np.flatnonzero(col_mask),
    )


def _group(indptr: np.ndarray, indices: np.ndarray, extra: np.ndarray | None = None):
    """Merge rows with identical column sets (and ``extra`` label): (group of row, first row)."""
    idx = indices.astype(np.int32)
    keys = [idx[a:b].tobytes() for a, b in zip(indptr[:-1], indptr[1:])]
    if extra is not None:
        tags = [np.int64(e).tobytes() for e in extra]
        keys = [k + b"|" + t for k, t in zip(keys, tags)]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object))
    _, first = np.unique(codes, return_index=True)
    return codes.astype(np.int64), first


def _group_matrix(indptr, indices, first, n_cols) -> sparse.csr_array:
    """Binary (group × column) matrix from the first row of each group."""
    starts, ends = indptr[first], indptr[first + 1]
    lengths = ends - starts
    take = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
    gptr = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(lengths, out=gptr[1:])
    return sparse.csr_array(
        (np.ones(len(take)), indices[take].astype(np.int32), gptr), shape=(len(first), n_cols)
    )


def _drop_empty_columns(G: sparse.csr_array, cols: np.ndarray):
    used = np.bincount(G.indices, minlength=G.shape[1]) > 0
    remap = np.cumsum(used) - 1
    G = sparse.csr_array(
        (G.data, remap[G.indices].astype(np.int32), G.indptr), shape=(G.shape[0], int(used.sum()))
    )
    return G, cols[used]


def _limit_row(k: int, site_cost: np.ndarray, p: int | None, budget: float | None):
    """The cardinality (Σx ≤ p) or budget (Σ c x ≤ B) row over the x columns."""
    if budget is not None:
        return site_cost, float(budget)
    return np.ones(k), float(p)


def _assemble(blocks, n_rows: int, n_cols: int) -> sparse.csr_array:
    r = np.concatenate([b[0] for b in blocks]).astype(np.int64)
    c = np.concatenate([b[1] for b in blocks]).astype(np.int64)
    v = np.concatenate([b[2] for b in blocks]).astype(float)
    return sparse.coo_array((v, (r, c)), shape=(n_rows, n_cols)).tocsr()


def _covering_core(inst: Instance, row_mask: np.ndarray, extra=None, dominance=False):
    """Reduced (group × candidate) structure for the covering models.

    Rows with identical candidate sets (and ``extra`` label) merge into one weighted group;
    with ``dominance`` the dominated candidates (:func:`.localsearch.dominated_columns`)
    are removed first. Sizes after each step go to the returned ``stats``.
    """
    indptr, indices, _, row_ids, col_ids = _select(inst, row_mask, inst.free)
    stats = {"demand": len(row_ids), "candidates_in": int(inst.free.sum())}
    if dominance and len(col_ids):
        t0 = time.perf_counter()
        B = sparse.csr_array(
            (np.ones(len(indices)), indices, indptr), shape=(len(row_ids), len(col_ids))
        )
        drop = localsearch.dominated_columns(B, inst.site_cost[col_ids])
        stats["dominated"] = int(drop.sum())
        stats["dominance_s"] = time.perf_counter() - t0
        if drop.any():
            sub = Instance(indptr, indices, np.zeros(len(indices)), *([None] * 5))
            indptr, indices, _, _, kept = _select(sub, np.ones(len(row_ids), bool), ~drop)
            col_ids = col_ids[kept]
    codes, first = _group(indptr, indices, None if extra is None else extra[row_ids])
    G = _group_matrix(indptr, indices, first, len(col_ids))
    G, col_ids = _drop_empty_columns(G, col_ids)
    W = np.bincount(codes, weights=inst.weight[row_ids], minlength=len(first))
    stats.update(groups=G.shape[0], candidates=G.shape[1], core_nnz=int(G.nnz))
    return G, W, codes, row_ids, col_ids, first, stats


def build_mclp(inst: Instance, *, p=None, budget=None) -> MatrixModel:
    """Maximal covering: max Σ W_g y_g, y_g ≤ Σ_{j∈N_g} x_j, Σ x ≤ p (or Σ c x ≤ B)."""
    n_fixed = inst.count(inst.fixed)
    n_free = inst.count(inst.free)
    offset = float(inst.weight[n_fixed > 0].sum())
    G, W, codes, row_ids, cols, _, stats = _covering_core(
        inst, (n_fixed == 0) & (n_free > 0) & (inst.weight > 0), dominance=True
    )
    n_g, k = G.shape
    ones = np.ones(n_g)
    gr = np.repeat(np.arange(n_g), np.diff(G.indptr))
    limit_coef, limit = _limit_row(k, inst.site_cost[cols], p, budget)
    A = _assemble(
        [
            (np.arange(n_g), k + np.arange(n_g), ones),
            (gr, G.indices, -np.ones(G.nnz)),
            (np.full(k, n_g), np.arange(k), limit_coef),
        ],
        n_g + 1,
        k + n_g,
    )
    GT = G.T.tocsr()

    def complete(x):
        return np.r_[x, np.minimum(1.0, G @ x)]

    def heuristic():
        x = greedy.max_cover(G, GT, W, inst.site_cost[cols], p=p, budget=budget)
        if budget is None:  # swaps keep the count; with a budget they could break it
            x = localsearch.swap_search(G, GT, W, x)
        return x

    def lp_improve(x_lp, x_start, *, bound=np.inf, gap=0.0, time_budget_s=60.0):
        return localsearch.lp_guided(
            G, GT, W, x_lp, int(p), x_start, bound=bound, gap=gap, time_budget_s=time_budget_s
        )

    return MatrixModel(
        "mclp",
        -1,
        np.r_[np.zeros(k), W],
        np.zeros(k + n_g),
        np.ones(k + n_g),
        np.r_[np.ones(k, bool), np.zeros(n_g, bool)],
        A,
        np.r_[np.full(n_g, -INF), -INF],
        np.r_[np.zeros(n_g), limit],
        offset,
        cols,
        complete,
        heuristic,
        stats,
        lp_improve if budget is None and k > 0 else None,
    )


def build_backup(inst: Instance, *, p=None, budget=None, once_share=0.5) -> MatrixModel:
    """Backup coverage (Hogan & ReVelle): max Σ W (θ·once + (1-θ)·twice).

    ``y1 + y2 ≤ k + Σ x`` (k = fixed sites already covering), ``y2 ≤ y1``; θ = ``once_share``.
    """
    theta = float(once_share)
    n_fixed = inst.count(inst.fixed)
    n_free = inst.count(inst.free)
    level = np.minimum(n_fixed, 2)
    in_model = (level < 2) & (n_free > 0) & (inst.weight > 0)
    const = np.where(level >= 2, 1.0, np.where(level == 1, theta, 0.0))
    offset = float((inst.weight * const)[~in_model].sum())
    G, W, codes, row_ids, cols, first, stats = _covering_core(inst, in_model, extra=level)
    kg = level[row_ids][first].astype(float)
    n_g, k = G.shape
    gr = np.repeat(np.arange(n_g), np.diff(G.indptr))
    g = np.arange(n_g)
    limit_coef, limit = _limit_row(k, inst.site_cost[cols], p, budget)
    A = _assemble(
        [
            (g, k + g, np.ones(n_g)),
            (g, k + n_g + g, np.ones(n_g)),
            (gr, G.indices, -np.ones(G.nnz)),
            (n_g + g, k + n_g + g, np.ones(n_g)),
            (n_g + g, k + g, -np.ones(n_g)),
            (np.full(k, 2 * n_g), np.arange(k), limit_coef),
        ],
        2 * n_g + 1,
        k + 2 * n_g,
    )
    integral_y = theta < 0.5  # below 1/2 the LP could split a single cover in halves
    GT = G.T.tocsr()

    def complete(x):
        s = kg + G @ x
        y1 = np.minimum(1.0, s)
        return np.r_[x, y1, np.clip(s - y1, 0.0, 1.0)]

    def heuristic():
        return greedy.backup(G, GT, W, kg, theta, inst.site_cost[cols], p=p, budget=budget)

    return MatrixModel(
        "backup",
        -1,
        np.r_[np.zeros(k), theta * W, (1 - theta) * W],
        np.zeros(k + 2 * n_g),
        np.ones(k + 2 * n_g),
        np.r_[np.ones(k, bool), np.full(2 * n_g, integral_y)],
        A,
        np.full(2 * n_g + 1, -INF),
        np.r_[kg, np.zeros(n_g), limit],
        offset,
        cols,
        complete,
        heuristic,
        stats,
    )


def build_lscp(inst: Instance, *, alpha: float = 1.0) -> MatrixModel:
    """Set covering: min Σ c_j x_j so that every demand point (or a share ``alpha`` of the
    demand weight of every area in ``inst.area``) is covered.

    Raises
    ------
    InfeasibleCoverError
        Naming the demand points no candidate or fixed site can cover (α = 1), or those of
        the areas whose coverable weight is below the target.
    """
    n_fixed = inst.count(inst.fixed)
    n_free = inst.count(inst.free)
    need = (n_fixed == 0) & (inst.weight > 0)
    if alpha >= 1.0:
        stuck = need & (n_free == 0)
        if stuck.any():
            ids = inst.demand_ids[stuck].tolist()
            raise InfeasibleCoverError(
                f"LSCP infeasible: {len(ids)} demand point(s) have no candidate within the "
                f"standard: {ids[:20]}{' …' if len(ids) > 20 else ''}",
                ids,
            )
        G, W, codes, row_ids, cols, _, stats = _covering_core(
            inst, need & (n_free > 0), dominance=True
        )
        n_g, k = G.shape
        costs = inst.site_cost[cols]
        GT = G.T.tocsr()

        def complete(x):
            return np.asarray(x, dtype=float)

        def heuristic():
            return greedy.set_cover(G, GT, W, costs, None, None)

        return MatrixModel(
            "lscp",
            1,
            costs.astype(float),
            np.zeros(k),
            np.ones(k),
            np.ones(k, bool),
            G.astype(float),
            np.ones(n_g),
            np.full(n_g, INF),
            0.0,
            cols,
            complete,
            heuristic,
            stats,
        )

    area = inst.area if inst.area is not None else np.zeros(len(inst.weight), dtype=np.int64)
    n_areas = int(area.max()) + 1 if len(area) else 0
    total = np.bincount(area, weights=inst.weight, minlength=n_areas)
    done = np.bincount(area, weights=inst.weight * (n_fixed > 0), minlength=n_areas)
    reach = np.bincount(
        area, weights=inst.weight * ((n_fixed > 0) | (n_free > 0)), minlength=n_areas
    )
    target = alpha * total - done
    short = reach < alpha * total * (1 - 1e-9) - 1e-9
    if short.any():
        stuck = short[area] & need & (n_free == 0)
        ids = inst.demand_ids[stuck].tolist()
        raise InfeasibleCoverError(
            f"LSCP infeasible: {int(short.sum())} area(s) cannot reach {alpha:.0%} coverage; "
            f"uncoverable demand points: {ids[:20]}{' …' if len(ids) > 20 else ''}",
            ids,
        )
    G, W, codes, row_ids, cols, first, stats = _covering_core(
        inst, need & (n_free > 0) & (target[area] > 1e-9), extra=area, dominance=True
    )
    n_g, k = G.shape
    g_area = area[row_ids][first]
    areas = np.unique(g_area)
    area_row = np.searchsorted(areas, g_area)
    gr = np.repeat(np.arange(n_g), np.diff(G.indptr))
    A = _assemble(
        [
            (np.arange(n_g), k + np.arange(n_g), np.ones(n_g)),
            (gr, G.indices, -np.ones(G.nnz)),
            (n_g + area_row, k + np.arange(n_g), W),
        ],
        n_g + len(areas),
        k + n_g,
    )
    costs = inst.site_cost[cols]
    GT = G.T.tocsr()

    def complete(x):
        return np.r_[x, np.minimum(1.0, G @ x)]

    def heuristic():
        return greedy.set_cover(G, GT, W, costs, area_row, target[areas])

    return MatrixModel(
        "lscp",
        1,
        np.r_[costs, np.zeros(n_g)],
        np.zeros(k + n_g),
        np.ones(k + n_g),
        np.r_[np.ones(k, bool), np.zeros(n_g, bool)],
        A,
        np.r_[np.full(n_g, -INF), target[areas] * (1 - 1e-9)],
        np.r_[np.zeros(n_g), np.full(len(areas), INF)],
        0.0,
        cols,
        complete,
        heuristic,
        dict(stats, areas=len(areas)),
    )


def build_pmedian(inst: Instance, *, p=None, budget=None, penalty: float) -> MatrixModel:
    """p-median on sparse candidate lists: min Σ_i w_i min(penalty, cost to nearest open).

    ``z_ij`` (assignment, continuous) exists only for pairs within the cut-off that beat
    the demand point's nearest fixed site; the objective is written with the unassigned
    share eliminated: ``Σ w_i f_i + Σ w_i (c_ij − f_i) z_ij`` with ``f_i`` the capped cost
    of the nearest fixed site, ``Σ_j z_ij ≤ 1``, ``z_ij ≤ x_j``.
    """
    rows = inst.rows
    f = np.full(len(inst.weight), float(penalty))
    fixed_pairs = inst.fixed[inst.indices]
    np.minimum.at(f, rows[fixed_pairs], inst.pair_cost[fixed_pairs])
    offset = float(inst.weight @ f)
    keep = inst.free[inst.indices] & (inst.pair_cost < f[rows]) & (inst.weight[rows] > 0)
    prow, pcol, pc = rows[keep], inst.indices[keep], inst.pair_cost[keep]
    cols, pcol = np.unique(pcol, return_inverse=True)
    rows_used, prow = np.unique(prow, return_inverse=True)
    k, n_r, n_p = len(cols), len(rows_used), len(pc)
    w, fr = inst.weight[rows_used], f[rows_used]
    zc = w[prow] * (pc - fr[prow])
    limit_coef, limit = _limit_row(k, inst.site_cost[cols], p, budget)
    pairs = np.arange(n_p)
    A = _assemble(
        [
            (prow, k + pairs, np.ones(n_p)),
            (n_r + pairs, k + pairs, np.ones(n_p)),
            (n_r + pairs, pcol, -np.ones(n_p)),
            (np.full(k, n_r + n_p), np.arange(k), limit_coef),
        ],
        n_r + n_p + 1,
        k + n_p,
    )
    order = np.lexsort((pc, prow))

    def complete(x):
        z = np.zeros(n_p)
        open_pairs = order[x[pcol[order]] > 0.5]
        if len(open_pairs):
            _, first = np.unique(prow[open_pairs], return_index=True)
            z[open_pairs[first]] = 1.0
        return np.r_[x, z]

    def heuristic():
        return greedy.pmedian(prow, pcol, pc, w, fr, k, inst.site_cost[cols], p=p, budget=budget)

    return MatrixModel(
        "pmedian",
        1,
        np.r_[np.zeros(k), zc],
        np.zeros(k + n_p),
        np.ones(k + n_p),
        np.r_[np.ones(k, bool), np.zeros(n_p, bool)],
        A,
        np.full(n_r + n_p + 1, -INF),
        np.r_[np.ones(n_r), np.zeros(n_p), limit],
        offset,
        cols,
        complete,
        heuristic,
        {"demand": n_r, "groups": n_r, "candidates": k, "pairs": n_p},
    )
