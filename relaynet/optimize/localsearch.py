"""Exact reductions and local search for the covering models (unit or cost-aware).

- :func:`dominated_columns` — candidate dominance: a candidate whose covered set is a
  subset of another's that costs no more is never needed (exact for MCLP and LSCP).
- :func:`swap_search` — vectorized 1-swap local search for MCLP with a site count: the
  best swap partner of *every* closed candidate is found with sparse products, and many
  swaps touching disjoint groups are applied per round.
- :func:`lp_guided` — LP-relaxation rounding (top sites by LP value, greedy fill) followed
  by :func:`swap_search` and a seeded iterated local search (drop a few sites, refill,
  swap), stopped as soon as the start is within the target gap of the LP bound.

All functions work on the (group × candidate) 0/1 matrix ``G`` (CSR) and its transpose
``GT``, with group weights ``W``; results are deterministic for a fixed input.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

DOMINANCE_MAX_PAIRS = 60_000_000
"""Skip the dominance check when Σ (candidates per group)² — the size of the overlap
product — exceeds this (memory guard for very dense coverage)."""


def dominated_columns(G: sparse.csr_array, costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the columns of ``G`` that another column dominates.

    Column ``b`` dominates ``a`` when ``S_a ⊆ S_b`` (covered groups), ``cost_b ≤ cost_a``
    and ``b`` is strictly better: a strict superset, or cheaper, or the same set and cost
    with a lower index. This is a strict partial order, so every removed column has a kept
    dominator and any solution using it can swap it for that dominator without losing
    coverage or exceeding a count or budget.

    Parameters
    ----------
    G
        Binary (group × candidate) CSR matrix.
    costs
        Site cost per column.

    Returns
    -------
    numpy.ndarray
        ``True`` for the columns that can be removed.
    """
    k = G.shape[1]
    deg = np.diff(G.indptr).astype(np.int64)
    if k < 2 or int((deg * deg).sum()) > DOMINANCE_MAX_PAIRS:
        return np.zeros(k, dtype=bool)
    B = sparse.csr_array((np.ones(G.nnz), G.indices, G.indptr), shape=G.shape)
    C = (B.T.tocsr() @ B).tocsr()  # overlap |S_a ∩ S_b|
    size = np.diff(B.T.tocsr().indptr)
    a = np.repeat(np.arange(k), np.diff(C.indptr))
    b = C.indices
    subset = (np.rint(C.data).astype(np.int64) == size[a]) & (a != b) & (size[a] > 0)
    cheaper = costs[b] < costs[a] - 1e-12
    same_cost = np.abs(costs[b] - costs[a]) <= 1e-12
    better = (size[b] > size[a]) | cheaper | (same_cost & (b < a))
    dom = subset & (costs[b] <= costs[a] + 1e-12) & better
    removed = np.zeros(k, dtype=bool)
    removed[a[dom]] = True
    return removed


def coverage_value(G: sparse.csr_array, W: np.ndarray, x: np.ndarray) -> float:
    """Covered weight Σ W_g [g covered by an open column]."""
    return float(W[(G @ x) > 0.5].sum())


def fill(G: sparse.csr_array, GT: sparse.csr_array, W: np.ndarray, x: np.ndarray, p: int):
    """Greedy completion of ``x`` up to ``p`` open columns (largest uncovered weight)."""
    x = (np.asarray(x) > 0.5).astype(float)
    uncovered = (G @ x) < 0.5
    while x.sum() < min(p, G.shape[1]):
        gain = GT @ (W * uncovered)
        gain[x > 0.5] = -1.0
        j = int(np.argmax(gain))
        if gain[j] < 0:
            break
        x[j] = 1.0
        uncovered[GT.indices[GT.indptr[j] : GT.indptr[j + 1]]] = False
    return x


def swap_search(
    G: sparse.csr_array,
    GT: sparse.csr_array,
    W: np.ndarray,
    x: np.ndarray,
    *,
    max_rounds: int = 200,
    time_budget_s: float = 30.0,
) -> np.ndarray:
    """1-swap local search for maximal covering (same number of open columns).

    Each round computes, for every closed column ``j``, the best open column ``i`` to close
    in exchange: ``Δ = gain_j − loss_i + Σ W_g`` over groups of ``j`` covered only by
    ``i`` (a sparse product keyed on the unique owner of once-covered groups). Improving
    swaps are applied best first, skipping any that touches a group already changed this
    round (their Δ stay exact). Stops at a local optimum, after ``max_rounds`` rounds, or
    after ``time_budget_s`` seconds (a guard only; results are deterministic when the
    round limit or local optimum is reached first).
    """
    x = (np.asarray(x) > 0.5).astype(float)
    n, k = G.shape
    gr = np.repeat(np.arange(n), np.diff(G.indptr))
    index = np.arange(k, dtype=float)
    deadline = time.perf_counter() + time_budget_s
    for _ in range(max_rounds):
        if time.perf_counter() > deadline or not 0 < x.sum() < k:
            break
        count = G @ x
        owner = np.rint(G @ (x * index)).astype(np.int64)
        once = count == 1
        gain = GT @ (W * (count == 0))
        loss = GT @ (W * once)
        is_open = x > 0.5
        loss_open = np.where(is_open, loss, np.inf)
        i_min = int(np.argmin(loss_open))
        m = once[gr] & ~is_open[G.indices]
        key = G.indices[m].astype(np.int64) * k + owner[gr[m]]
        keys, inverse = np.unique(key, return_inverse=True)
        bonus = np.bincount(inverse, weights=W[gr[m]])
        pj, pi = keys // k, keys % k
        pair_value = bonus - loss[pi]
        partner = np.full(k, i_min)
        best = np.full(k, -loss_open[i_min])
        if len(keys):
            order = np.lexsort((pi, -pair_value, pj))
            first = order[np.r_[True, pj[order][1:] != pj[order][:-1]]]
            better = pair_value[first] > best[pj[first]]
            partner[pj[first][better]] = pi[first][better]
            best[pj[first][better]] = pair_value[first][better]
        delta = gain + best
        delta[is_open] = -np.inf
        tol = 1e-9 * max(1.0, float(W.sum()))
        cand = np.flatnonzero(delta > tol)
        if not len(cand):
            break
        cand = cand[np.argsort(-delta[cand], kind="stable")]
        touched = np.zeros(n, dtype=bool)
        used = np.zeros(k, dtype=bool)
        for j in cand:
            i = partner[j]
            if used[i] or used[j]:
                continue
            groups = np.r_[
                GT.indices[GT.indptr[j] : GT.indptr[j + 1]],
                GT.indices[GT.indptr[i] : GT.indptr[i + 1]],
            ]
            if touched[groups].any():
                continue
            touched[groups] = True
            used[i] = used[j] = True
            x[j], x[i] = 1.0, 0.0
    return x


def lp_guided(
    G: sparse.csr_array,
    GT: sparse.csr_array,
    W: np.ndarray,
    x_lp: np.ndarray,
    p: int,
    x_start: np.ndarray,
    *,
    bound: float = np.inf,
    gap: float = 0.0,
    rounds: int = 300,
    stall: int = 60,
    seed: int = 0,
    time_budget_s: float = 60.0,
) -> tuple[np.ndarray, dict]:
    """Improve ``x_start`` with LP rounding and iterated 1-swap local search.

    Roundings keep the top 60–90 % of ``p`` columns by LP value and fill greedily; each is
    swap-searched and the best (never worse than ``x_start``) seeds an iterated local
    search: close ``max(2, p/20)`` random open columns (seeded), refill greedily, swap,
    keep if better. Stops after ``rounds`` perturbations, or ``stall`` in a row without
    improvement (the MIP solver, warm-started, does better from there), ``time_budget_s``
    seconds (the whole search, swap searches included; a round under way finishes), or
    once ``(bound − value) / value ≤ gap``.

    Returns
    -------
    (numpy.ndarray, dict)
        The 0/1 column vector and figures (``rounding_value``, ``ils_rounds``).
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    best = (np.asarray(x_start) > 0.5).astype(float)
    best_v = coverage_value(G, W, best)
    deadline = t0 + time_budget_s

    def left() -> float:
        return max(0.0, deadline - time.perf_counter())

    def done(v: float) -> bool:
        return v > 0 and (bound - v) / v <= gap or left() <= 0

    order = np.argsort(-np.asarray(x_lp), kind="stable")
    for share in (0.9, 0.8, 0.7, 0.6):
        if done(best_v):
            break
        x = np.zeros(G.shape[1])
        x[order[: int(share * p)]] = 1.0
        x = swap_search(G, GT, W, fill(G, GT, W, x, p), time_budget_s=left())
        v = coverage_value(G, W, x)
        if v > best_v:
            best, best_v = x, v
    rounding_value = best_v
    n_drop = max(2, p // 20)
    done_rounds = last_better = 0
    for done_rounds in range(1, rounds + 1):
        if done(best_v) or done_rounds - last_better > stall:
            done_rounds -= 1
            break
        x = best.copy()
        open_cols = np.flatnonzero(x > 0.5)
        if len(open_cols) <= n_drop:
            break
        x[rng.choice(open_cols, n_drop, replace=False)] = 0.0
        x = swap_search(G, GT, W, fill(G, GT, W, x, p), time_budget_s=left())
        v = coverage_value(G, W, x)
        if v > best_v:
            best, best_v, last_better = x, v, done_rounds
    return best, {
        "rounding_value": rounding_value,
        "ils_rounds": done_rounds,
        "local_search_s": time.perf_counter() - t0,
    }
