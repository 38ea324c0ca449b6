"""Shrink a maximal covering model around a good solution before the MIP search (exact).

:func:`~.models.fix_by_reduced_cost` fixes the site columns that no solution better than
the start can change. :func:`reduce_mclp` turns those fixings into a smaller model instead
of tighter bounds: sites fixed closed leave the candidate set, sites fixed open become
fixed sites (the demand they cover joins the constant, ``p`` drops by one each), and the
model is built again — so candidate dominance, merging of demand groups with identical
candidate sets and the removal of demand no candidate reaches apply to what is left. The
LP relaxation of the smaller model is solved again (its duals differ, so more columns can
be fixed) and the loop repeats while it fixes something.

Exactness: every solution at least as good as the start satisfies the fixings, and the
start does too, so the smaller model keeps the optimum whenever it beats the start, and
the start otherwise; any bound proven on it (its LP optimum or a MIP bound, constant
included) bounds the original optimum.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .deadline import Deadline
from .models import Instance, MatrixModel, build_mclp, fix_by_reduced_cost

LP_SHARE = 0.1
"""Solve the smaller model's LP again only when the previous LP took less than this share
of the time left (on national models one LP takes a minute: the loop stops after one
rebuild)."""


MIN_SHARE = 0.1
"""Solve the LP again only when the last round fixed at least this share of the columns."""


@dataclass
class Reduced:
    """A smaller MCLP equivalent to the original one near its optimum.

    ``model``/``start`` are the smaller model and the start in its columns; ``opened``
    marks (over the site table) the sites fixed open; ``bound`` is the smallest LP bound
    proven on the way (constant included, ``nan`` if none).
    """

    model: MatrixModel
    start: np.ndarray
    opened: np.ndarray
    bound: float
    stats: dict

    def expand(self, original: MatrixModel, values: np.ndarray) -> np.ndarray:
        """A full column vector of ``original`` from one of the smaller model."""
        chosen = self.opened.copy()
        k = len(self.model.sites)
        chosen[self.model.sites[np.asarray(values[:k]) > 0.5]] = True
        return original.complete(chosen[original.sites].astype(float))


def reduce_mclp(
    model: MatrixModel,
    inst: Instance,
    start: np.ndarray,
    p: int,
    *,
    lp_solve: Callable[[MatrixModel, float], float],
    deadline: Deadline,
    gap: float = 0.0,
    lp_s: float = 0.0,
    max_rounds: int = 8,
) -> Reduced:
    """Fix columns by LP reduced costs against ``start`` and rebuild, until nothing is fixed.

    Parameters
    ----------
    model
        The MCLP with a site count built by :func:`~.models.build_mclp` from ``inst``, its
        LP relaxation solved (``model.relaxation``).
    inst, p
        The instance and site count ``model`` was built from.
    start
        A feasible full column vector of ``model`` (the best solution known).
    lp_solve
        ``lp_solve(model, time_limit_s)`` solves the LP relaxation, keeps it in
        ``model.relaxation`` and returns its optimum (constant excluded; ``nan`` if not
        solved).
    deadline
        No LP is started after it.
    gap
        Stop once ``start`` is proven within this relative gap of an LP bound.
    lp_s
        Seconds the LP of ``model`` took (the next LP is expected to take no longer).
    max_rounds
        At most this many rebuilds.

    Returns
    -------
    Reduced
    """
    t0 = time.perf_counter()
    chosen = np.zeros(len(inst.free), dtype=bool)
    chosen[model.sites[np.asarray(start[: len(model.sites)]) > 0.5]] = True
    value = model.objective(start)
    opened = np.zeros(len(inst.free), dtype=bool)
    lp = model.relaxation
    bound = np.inf if lp is None else lp.objective + model.offset
    fixed_total = rounds = 0
    current, current_start = model, start
    for rounds in range(1, max_rounds + 1):
        smaller, n_fixed = fix_by_reduced_cost(current, current_start)
        if not n_fixed:
            rounds -= 1
            break
        fixed_total += n_fixed
        k = len(current.sites)
        to_zero = current.sites[smaller.ub[:k] < 0.5]
        to_one = current.sites[smaller.lb[:k] > 0.5]
        free, fixed = inst.free.copy(), inst.fixed.copy()
        free[to_zero] = free[to_one] = False
        fixed[to_one] = True
        inst = dataclasses.replace(inst, free=free, fixed=fixed)
        opened[to_one] = True
        p -= len(to_one)
        current = build_mclp(inst, p=p)
        current_start = current.complete(chosen[current.sites].astype(float))
        if current.n_cols == 0 or bound - value <= gap * max(abs(value), 1e-12):
            break
        if n_fixed < MIN_SHARE * k:  # diminishing returns: a new LP costs more than it saves
            break
        if deadline.left() * LP_SHARE < lp_s or deadline.expired:
            break
        t1 = time.perf_counter()
        lp_value = lp_solve(current, deadline.left())
        lp_s = time.perf_counter() - t1
        if not np.isfinite(lp_value):
            break
        bound = min(bound, lp_value + current.offset)
        if bound - value <= gap * max(abs(value), 1e-12):
            break
    stats = {
        "reduce_rounds": rounds,
        "reduce_fixed": fixed_total,
        "reduce_opened": int(opened.sum()),
        "reduce_s": time.perf_counter() - t0,
        "reduced_nnz": int(current.A.nnz),
    }
    return Reduced(current, current_start, opened, float(bound), stats)
