"""Capacitated MCLP, LSCP and p-median: sites that can serve only so much demand.

A site's ``capacity`` (parcels/day, or any unit) bounds its load, ``demand_rate × weight
assigned to it`` (``demand_rate`` = parcels/day per unit of demand weight; NaN capacity =
unlimited). Demand is *splittable*: a commune's weight may be served by several open sites
within the standard. Fixed (existing) sites enter the model as columns fixed open, so demand
within reach of a full existing site is not counted as served.

Columns: ``x_j`` per site (fixed ones with bounds 1–1), ``y_gj`` per (demand group, site)
pair within the standard, and for p-median ``u_g`` (unserved share). Rows::

    assign    Σ_j y_gj (+ u_g)  ≤ 1      (= 1 for p-median, and for LSCP with α = 1)
    link      y_gj − x_j        ≤ 0
    capacity  Σ_g W_g y_gj − K_j x_j ≤ 0  (K_j = capacity / demand_rate, finite only)
    limit     Σ x_j ≤ p  or  Σ c_j x_j ≤ budget       (MCLP, p-median; new/closable sites)
    share     Σ_{g∈a} W_g Σ_j y_gj ≥ α W_a            (LSCP α < 1, per area a)

Objectives: MCLP max Σ W_g y_gj (served weight); LSCP min Σ c_j x_j; p-median
min Σ W_g d_gj y_gj + penalty Σ W_g u_g (metres, or seconds for a time cut-off).
Demand points with identical site sets (and area) are merged for MCLP and LSCP — exact,
because demand is splittable; p-median keeps one group per demand point.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..errors import SolverError
from .models import (
    INF,
    InfeasibleCoverError,
    Instance,
    MatrixModel,
    _assemble,
    _group,
    _group_matrix,
    _limit_row,
    _select,
)


@dataclass
class Allocation:
    """Who serves whom in a solved capacitated model.

    ``share`` per demand point (0–1, served fraction of its weight), ``site_weight`` per
    site-table row (demand weight served), ``main_site`` per demand point (site-table index
    serving the largest share, −1 if none) and ``pairs`` — (demand row, site-table index,
    served fraction) arrays for every positive assignment.
    """

    share: np.ndarray
    site_weight: np.ndarray
    main_site: np.ndarray
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class CapacitatedModel(MatrixModel):
    """A :class:`MatrixModel` whose x columns include the fixed sites (bounds 1–1)."""

    row_group: np.ndarray | None = None  # group of every demand row, −1 when not modelled
    pair_group: np.ndarray | None = None  # group of every y column
    pair_site: np.ndarray | None = None  # x column of every y column
    group_weight: np.ndarray | None = None  # W_g
    capacity_w: np.ndarray | None = None  # capacity per site-table row, weight units
    n_sites: int = 0  # rows of the site table

    def allocation(self, values: np.ndarray) -> Allocation:
        """Shares and loads of a full column vector (from the solver or :meth:`complete`)."""
        k = len(self.sites)
        y = np.clip(values[k : k + len(self.pair_group)], 0.0, 1.0)
        n_groups = int(self.pair_group.max()) + 1 if len(self.pair_group) else 0
        g_share = np.minimum(1.0, np.bincount(self.pair_group, weights=y, minlength=n_groups))
        n = len(self.row_group)
        modelled = self.row_group >= 0
        share = np.zeros(n)
        share[modelled] = g_share[self.row_group[modelled]]
        # largest assignment of every group (ties: lowest site-table index)
        site = self.sites[self.pair_site]
        order = np.lexsort((site, -y, self.pair_group))
        first = order[np.r_[True, self.pair_group[order][1:] != self.pair_group[order][:-1]]]
        g_main = np.full(n_groups, -1, dtype=np.int64)
        positive = y[first] > 1e-9
        g_main[self.pair_group[first][positive]] = site[first][positive]
        main = np.full(n, -1, dtype=np.int64)
        main[modelled] = g_main[self.row_group[modelled]]
        # row-level pairs: every demand row of a group takes the group's fractions
        rows = np.flatnonzero(modelled)
        by_group = np.argsort(self.row_group[rows], kind="stable")
        rows = rows[by_group]
        active = np.flatnonzero(y > 1e-9)
        active = active[np.argsort(self.pair_group[active], kind="stable")]
        g_of_active = self.pair_group[active]
        starts = np.searchsorted(g_of_active, self.row_group[rows], side="left")
        ends = np.searchsorted(g_of_active, self.row_group[rows], side="right")
        counts = ends - starts
        pair_rows = np.repeat(rows, counts)
        offsets = np.repeat(starts - np.cumsum(np.r_[0, counts[:-1]]), counts)
        take = active[offsets + np.arange(counts.sum())]
        pair_sites, pair_frac = site[take], y[take]
        site_weight = np.bincount(
            site, weights=self.group_weight[self.pair_group] * y, minlength=self.n_sites
        )
        return Allocation(share, site_weight, main, (pair_rows, pair_sites, pair_frac))


def _capacity_rows(k, cap_w, W, pair_group, pair_col, y0):
    """Capacity rows for the capacitated columns: Σ W_g y_gj − K_j x_j ≤ 0."""
    limited = np.flatnonzero(np.isfinite(cap_w))
    row_of = np.full(k, -1)
    row_of[limited] = np.arange(len(limited))
    on = row_of[pair_col] >= 0
    blocks = [
        (row_of[pair_col[on]], y0 + np.flatnonzero(on), W[pair_group[on]]),
        (np.arange(len(limited)), limited, -cap_w[limited]),
    ]
    return blocks, len(limited)


def greedy_open(GT, W, cap_w, is_fixed, costs, *, p=None, budget=None, need=None):
    """Capacity-aware greedy: open the site serving the most still-unserved weight.

    Fixed columns are opened first; each opened site takes unserved weight of the groups
    it reaches, in group order, up to its capacity (``cap_w``, weight units). ``need(unserved,
    x)`` returns the group weights that still count (LSCP: groups of areas below target) or
    ``None`` when the target is met. Stops at ``p`` sites, the budget, or no gain.

    Returns ``(x, unserved)``: the 0/1 vector over the x columns and the weight of every
    group the greedy assignment leaves unserved.
    """
    k = GT.shape[0]
    unserved = W.astype(float).copy()
    left = cap_w.astype(float).copy()
    x = np.zeros(k)

    def take(j):
        groups = GT.indices[GT.indptr[j] : GT.indptr[j + 1]]
        want = unserved[groups]
        before = np.cumsum(want) - want
        got = np.clip(left[j] - before, 0.0, want)
        unserved[groups] -= got
        left[j] -= got.sum()

    for j in np.flatnonzero(is_fixed):
        x[j] = 1.0
        take(j)
    spent = 0.0
    while True:
        counted = unserved if need is None else need(unserved, x)
        if counted is None:
            break
        gain = np.minimum(GT @ counted, left)
        gain[x > 0.5] = -1.0
        if budget is not None:
            gain[costs > budget - spent + 1e-9] = -1.0
            score = gain / np.maximum(costs, 1e-12)
        else:
            if p is not None and x[~is_fixed].sum() >= p:
                break
            score = gain
        j = int(np.argmax(score))
        if gain[j] <= 1e-12 * max(1.0, W.sum()):
            break
        x[j] = 1.0
        spent += costs[j]
        take(j)
    return x, unserved


def build(
    kind: str,
    inst: Instance,
    capacity_w: np.ndarray,
    *,
    p=None,
    budget=None,
    alpha: float = 1.0,
    penalty: float | None = None,
    lp_solve=None,
) -> CapacitatedModel:
    """The capacitated ``kind`` (``"mclp"``, ``"lscp"``, ``"pmedian"``) model of ``inst``.

    ``capacity_w`` is each site's capacity in demand-weight units (capacity / demand_rate,
    ``inf`` = unlimited); ``lp_solve(model) -> values or None`` solves a linear program
    (used to complete a site choice with its best assignment).
    """
    n = len(inst.weight)
    usable = inst.fixed | inst.free
    reach = inst.count(usable)
    rows_in = (inst.weight > 0) & (reach > 0)
    area = inst.area if inst.area is not None else np.zeros(n, dtype=np.int64)
    if kind == "lscp":
        _check_lscp_reach(inst, area, reach, alpha)
    indptr, indices, pair_cost, row_ids, cols = _select(inst, rows_in, usable)
    reached = np.bincount(indices, minlength=len(cols)) > 0  # drop sites reaching no demand
    if not reached.all():
        sub = Instance(indptr, indices, pair_cost, *([None] * 5))
        indptr, indices, pair_cost, _, kept = _select(sub, np.ones(len(row_ids), bool), reached)
        cols = cols[kept]
    if kind == "pmedian":
        codes = np.arange(len(row_ids))
        first = codes
        G = sparse.csr_array(
            (pair_cost.astype(float), indices.astype(np.int32), indptr),
            shape=(len(row_ids), len(cols)),
        )
    else:
        codes, first = _group(indptr, indices, area[row_ids])
        G = _group_matrix(indptr, indices, first, len(cols))
    W = np.bincount(codes, weights=inst.weight[row_ids], minlength=len(first))
    n_g, k = G.shape
    pair_group = np.repeat(np.arange(n_g), np.diff(G.indptr))
    pair_col = G.indices.astype(np.int64)
    n_y = len(pair_col)
    y0 = k
    is_fixed = inst.fixed[cols]
    cap = capacity_w[cols]
    costs = inst.site_cost[cols]

    blocks = [
        (pair_group, y0 + np.arange(n_y), np.ones(n_y)),  # assign
        (n_g + np.arange(n_y), y0 + np.arange(n_y), np.ones(n_y)),  # link
        (n_g + np.arange(n_y), pair_col, -np.ones(n_y)),
    ]
    n_rows = n_g + n_y
    row_lb = [np.full(n_g, -INF), np.full(n_y, -INF)]
    row_ub = [np.ones(n_g), np.zeros(n_y)]
    cap_blocks, n_cap = _capacity_rows(k, cap, W, pair_group, pair_col, y0)
    blocks += [(r + n_rows, c, v) for r, c, v in cap_blocks]
    n_rows += n_cap
    row_lb.append(np.full(n_cap, -INF))
    row_ub.append(np.zeros(n_cap))
    n_cols = k + n_y
    cost = np.zeros(n_cols)
    need = None

    if kind in ("mclp", "pmedian"):
        limit_coef, limit = _limit_row(k, costs, p, budget)
        free_cols = np.flatnonzero(~is_fixed)
        blocks.append((np.full(len(free_cols), n_rows), free_cols, limit_coef[free_cols]))
        n_rows += 1
        row_lb.append(np.array([-INF]))
        row_ub.append(np.array([limit]))
    if kind == "mclp":
        sense = -1
        cost[y0:] = W[pair_group]
    elif kind == "pmedian":
        sense = 1
        cost[y0:] = W[pair_group] * G.data
        blocks.append((np.arange(n_g), n_cols + np.arange(n_g), np.ones(n_g)))
        cost = np.r_[cost, float(penalty) * W]
        n_cols += n_g
        row_lb[0] = np.ones(n_g)
    else:  # lscp
        sense = 1
        cost[:k] = np.where(is_fixed, 0.0, costs)
        g_area = area[row_ids][first]
        if alpha >= 1.0:
            row_lb[0] = np.ones(n_g)

            def need(unserved, x):
                return unserved if unserved.sum() > 1e-9 * max(1.0, W.sum()) else None

        else:
            areas, area_row = np.unique(g_area, return_inverse=True)
            total = np.bincount(area, weights=inst.weight)[areas]
            target = alpha * total * (1 - 1e-9)
            blocks.append((n_rows + area_row, y0 + np.arange(n_y), W[pair_group]))
            n_rows += len(areas)
            row_lb.append(target)
            row_ub.append(np.full(len(areas), INF))

            def need(unserved, x):
                served = np.bincount(area_row, weights=W - unserved, minlength=len(areas))
                short = served < target
                return unserved * short[area_row] if short.any() else None

    integer = np.zeros(n_cols, dtype=bool)
    integer[:k] = True
    lb = np.zeros(n_cols)
    ub = np.ones(n_cols)
    lb[:k][is_fixed] = 1.0
    A = _assemble(blocks, n_rows, n_cols)
    GT = sparse.csr_array(
        (np.ones(n_y), pair_col.astype(np.int32), G.indptr), shape=(n_g, k)
    ).T.tocsr()
    row_group = np.full(n, -1, dtype=np.int64)
    row_group[row_ids] = codes

    offset = 0.0
    if kind == "pmedian":  # demand no site can reach pays the penalty whatever is chosen
        offset = float(penalty) * float(inst.weight[(inst.weight > 0) & (reach == 0)].sum())
    model = CapacitatedModel(
        kind,
        sense,
        cost,
        lb,
        ub,
        integer,
        A,
        np.concatenate(row_lb),
        np.concatenate(row_ub),
        offset,
        cols,
        complete=None,
        heuristic=None,
        stats={
            "demand": len(row_ids),
            "groups": n_g,
            "candidates": int((~is_fixed).sum()),
            "fixed_in_model": int(is_fixed.sum()),
            "capacitated_sites": n_cap,
        },
        row_group=row_group,
        pair_group=pair_group,
        pair_site=pair_col,
        group_weight=W,
        capacity_w=capacity_w,
        n_sites=len(inst.site_cost),
    )

    def complete(x):
        """``x`` with its best assignment (an LP with the sites fixed)."""
        x = np.asarray(x, dtype=float)[:k]
        fixed_model = dataclasses.replace(
            model, lb=np.r_[x, lb[k:]], ub=np.r_[x, ub[k:]], integer=np.zeros(n_cols, bool)
        )
        values = lp_solve(fixed_model)
        if values is None:
            raise SolverError(f"capacitated {kind}: the greedy sites admit no feasible assignment")
        return np.r_[x, values[k:]]

    def heuristic():
        x, unserved = greedy_open(GT, W, cap, is_fixed, costs, p=p, budget=budget, need=need)
        if need is not None and need(unserved, x) is not None:
            x = np.ones(k)  # greedy could not meet the target: start from every site open
        return x

    model.complete = complete
    model.heuristic = heuristic
    return model


def _check_lscp_reach(inst, area, reach, alpha):
    """Raise :class:`InfeasibleCoverError` when no site at all can reach the target."""
    need = inst.weight > 0
    stuck = need & (reach == 0)
    if alpha >= 1.0:
        if stuck.any():
            ids = inst.demand_ids[stuck].tolist()
            raise InfeasibleCoverError(
                f"LSCP infeasible: {len(ids)} demand point(s) have no site within the "
                f"standard: {ids[:20]}{' …' if len(ids) > 20 else ''}",
                ids,
            )
        return
    n_areas = int(area.max()) + 1 if len(area) else 0
    total = np.bincount(area, weights=inst.weight, minlength=n_areas)
    reachable = np.bincount(area, weights=inst.weight * (reach > 0), minlength=n_areas)
    short = reachable < alpha * total * (1 - 1e-9) - 1e-9
    if short.any():
        ids = inst.demand_ids[short[area] & stuck].tolist()
        raise InfeasibleCoverError(
            f"LSCP infeasible: {int(short.sum())} area(s) cannot reach {alpha:.0%} coverage; "
            f"uncoverable demand points: {ids[:20]}{' …' if len(ids) > 20 else ''}",
            ids,
        )
