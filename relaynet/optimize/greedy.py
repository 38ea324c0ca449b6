"""Greedy heuristics on the reduced models: a quick answer, a warm start and a yardstick.

Each step opens the candidate with the largest gain (per unit cost under a budget); ties go
to the lowest column, so results are deterministic. Gains are recomputed for all columns
at once with one sparse product per step (O(pairs) per step, no dense matrix).
Every function returns the 0/1 vector over the model's site columns.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def _pick(
    gains: np.ndarray,
    costs: np.ndarray,
    chosen: np.ndarray,
    budget_left: float | None,
    per_cost: bool,
) -> int:
    """Column with the best gain (or gain per cost); -1 when nothing helps."""
    score = gains.astype(float).copy()
    if per_cost:
        score = score / np.maximum(costs, 1e-12)
    score[chosen | (gains <= 1e-12)] = -np.inf
    if budget_left is not None:
        score[costs > budget_left + 1e-9] = -np.inf
    if not len(score):
        return -1
    j = int(np.argmax(score))
    return j if np.isfinite(score[j]) else -1


def _run(gain_fn, update_fn, k: int, costs: np.ndarray, p, budget) -> np.ndarray:
    chosen = np.zeros(k, dtype=bool)
    left = None if budget is None else float(budget)
    limit = k if p is None else min(int(p), k)
    while chosen.sum() < limit:
        j = _pick(gain_fn(), costs, chosen, left, per_cost=budget is not None)
        if j < 0:
            break
        chosen[j] = True
        if left is not None:
            left -= costs[j]
        update_fn(j)
    return chosen.astype(float)


def max_cover(
    G: sparse.csr_array,
    GT: sparse.csr_array,
    W: np.ndarray,
    costs: np.ndarray,
    *,
    p=None,
    budget=None,
) -> np.ndarray:
    """Greedy maximal covering: open the candidate covering the most uncovered weight."""
    uncovered = np.ones(G.shape[0], dtype=bool)

    def gains():
        return GT @ (W * uncovered)

    def update(j):
        uncovered[GT.indices[GT.indptr[j] : GT.indptr[j + 1]]] = False

    return _run(gains, update, G.shape[1], costs, p, budget)


def backup(G, GT, W, level0, theta, costs, *, p=None, budget=None) -> np.ndarray:
    """Greedy backup coverage: gain = θ·W for a first cover, (1-θ)·W for a second one."""
    level = level0.astype(float).copy()

    def gains():
        return GT @ (W * (theta * (level == 0) + (1 - theta) * (level == 1)))

    def update(j):
        level[GT.indices[GT.indptr[j] : GT.indptr[j + 1]]] += 1

    return _run(gains, update, G.shape[1], costs, p, budget)


def set_cover(G, GT, W, costs, area_row, target) -> np.ndarray:
    """Greedy set cover (Chvátal): cheapest cost per newly covered group until done.

    With ``area_row``/``target`` (share targets per area), gains count weight only in areas
    still short of their target, until every area meets it.
    """
    k = G.shape[1]
    uncovered = np.ones(G.shape[0], dtype=bool)
    covered_w = None if target is None else np.zeros(len(target))

    def gains():
        if covered_w is None:
            return GT @ uncovered.astype(float)
        short = (covered_w < target * (1 - 1e-9))[area_row]
        return GT @ (W * (uncovered & short))

    def update(j):
        groups = GT.indices[GT.indptr[j] : GT.indptr[j + 1]]
        new = groups[uncovered[groups]]
        uncovered[new] = False
        if covered_w is not None:
            np.add.at(covered_w, area_row[new], W[new])

    chosen = np.zeros(k, dtype=bool)
    while True:
        if covered_w is None and not uncovered.any():
            break
        if covered_w is not None and (covered_w >= target * (1 - 1e-9)).all():
            break
        j = _pick(gains(), costs, chosen, None, per_cost=True)
        if j < 0:
            break
        chosen[j] = True
        update(j)
    return chosen.astype(float)


def pmedian(prow, pcol, pc, w, f, k, costs, *, p=None, budget=None) -> np.ndarray:
    """Greedy p-median (add heuristic): open the candidate that lowers the weighted cost most.

    ``prow, pcol, pc`` are the (demand, candidate, cost) pairs; ``f`` the current cost of
    each demand point (nearest fixed site or penalty).
    """
    current = f.astype(float).copy()
    order = np.argsort(pcol, kind="stable")
    starts = np.searchsorted(pcol[order], np.arange(k + 1))

    def gains():
        saving = w[prow] * np.maximum(0.0, current[prow] - pc)
        return np.bincount(pcol, weights=saving, minlength=k)

    def update(j):
        at = order[starts[j] : starts[j + 1]]
        np.minimum.at(current, prow[at], pc[at])

    return _run(gains, update, k, costs, p, budget)
