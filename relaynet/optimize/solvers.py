"""Solve a :class:`~relaynet.optimize.models.MatrixModel` with HiGHS or CBC.

Two engines:

- ``"pulp"`` (the normal path): the arrays become a pulp ``LpProblem`` (one
  ``LpAffineExpression`` per row, built from lists), solved by ``pulp.HiGHS`` (highspy,
  in-process; warm start through ``Highs.setSolution``) or ``pulp.PULP_CBC_CMD``
  (warm start through ``-mips``).
- ``"highspy"`` (fast path for big instances): the same arrays go to ``Highs.passModel``
  in one call — no Python object per variable or constraint. Used by ``engine="auto"``
  when the model has more than :data:`AUTO_HIGHSPY_NNZ` non-zeros and HiGHS is the solver:
  at national scale the pulp layer alone costs tens of seconds and >1 GiB.

Solvers print nothing unless ``verbose``: their log goes to a temporary file and comes back
in :attr:`RawResult.log`. Time limits come as one :class:`~.deadline.Deadline`; the solver
gets the time left when it starts (after the model is built).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from ..errors import ParameterError, SolverError
from .deadline import Deadline
from .models import MatrixModel, Relaxation, fix_by_reduced_cost

log = logging.getLogger(__name__)

AUTO_HIGHSPY_NNZ = 200_000
"""``engine="auto"`` passes models with more non-zeros straight to highspy."""

BIG_MODEL_NNZ = 500_000
BIG_MODEL_OPTIONS = {"presolve": "off", "mip_lp_solver": "ipx"}
"""HiGHS options for models above ``BIG_MODEL_NNZ`` non-zeros. Measured on the national
MCLP (34 846 communes, 10 km, 944 k non-zeros): HiGHS presolve ran 155 s without removing
a row, and dual simplex had not finished the root LP after 60 s; the interior-point root
(ipx) gives the LP bound in about a minute."""

LP_IPM_NNZ = 5_000
"""LP relaxations with more non-zeros are solved by interior point (+ crossover): on the
mid-size MCLP (2 000 × 500, 10 km, 11 566 non-zeros) 0.25 s against 0.56 s for HiGHS's
default dual simplex, which stalls on the degenerate covering rows."""

REDUCED_MODEL_OPTIONS = {"presolve": "off"}
"""HiGHS options for an MCLP already shrunk by :func:`.reduction.reduce_mclp` (which does
what presolve would on it). Measured on ten 2 000 × 500, p = 50 instances (seeds 0-9 of
``scripts/bench_optimize.py``'s square): presolve off was faster on each, 2.2× in total."""

SOLVERS = ("highs", "cbc")
ENGINES = ("auto", "pulp", "highspy")


@dataclass
class RawResult:
    values: np.ndarray | None
    status: str
    objective: float
    bound: float
    gap: float
    log: str
    solver: str
    engine: str
    build_s: float
    solve_s: float


def choose_engine(model: MatrixModel, solver: str, engine: str) -> str:
    if solver not in SOLVERS:
        raise ParameterError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "highspy" and solver != "highs":
        raise ParameterError("engine='highspy' needs solver='highs'")
    if engine == "auto":
        return "highspy" if solver == "highs" and model.A.nnz > AUTO_HIGHSPY_NNZ else "pulp"
    return engine


def run(
    model: MatrixModel,
    *,
    solver: str = "highs",
    engine: str = "auto",
    deadline: Deadline,
    gap: float = 1e-4,
    start: np.ndarray | None = None,
    threads: int | None = None,
    options: dict | None = None,
    verbose: bool = False,
) -> RawResult:
    """Solve ``model`` by ``deadline``; ``start`` is a full column vector used as warm start;
    ``options`` are HiGHS options (ignored by CBC); ``verbose`` shows the solver log.
    With a start and an LP relaxation solved before (``model.relaxation``), columns that
    cannot change in a better solution are fixed first (:func:`.models.fix_by_reduced_cost`).

    When the deadline has already passed the solver is not started: the result has status
    ``"time_limit"``, no values and an unknown (NaN) bound.
    """
    engine = choose_engine(model, solver, engine)
    if model.n_cols == 0:
        return RawResult(
            np.zeros(0),
            "optimal",
            model.offset,
            model.offset,
            0.0,
            "empty model: nothing to decide\n",
            solver,
            engine,
            0.0,
            0.0,
        )
    if deadline.expired:
        return _out_of_time(deadline, solver, engine, 0.0)
    model, n_fixed = fix_by_reduced_cost(model, start)
    if engine == "highspy":
        raw = _run_highspy(model, deadline, gap, start, threads, options, verbose)
    else:
        raw = _run_pulp(model, solver, deadline, gap, start, threads, options, verbose)
    if n_fixed:
        raw.log = (
            f"{n_fixed} binary columns fixed by LP reduced costs against the start "
            f"(exact)\n{raw.log}"
        )
    return raw


def _out_of_time(deadline: Deadline, solver: str, engine: str, build_s: float) -> RawResult:
    """The result when the deadline passed before the solver could start."""
    text = f"time limit of {deadline.limit_s:g} s reached before the solver could start\n"
    nan = float("nan")
    name = f"{solver} (not started)"
    return RawResult(None, "time_limit", nan, nan, nan, text, name, engine, build_s, 0.0)


@functools.cache
def _quiet_highs_class():
    import highspy

    class QuietHighs(highspy.Highs):
        def enableCallbacks(self):
            # Highs.__init__ calls this; HiGHS prints its banner the first time a callback
            # is installed with output on, so output is off until the caller turns it on
            self.setOptionValue("output_flag", False)
            super().enableCallbacks()

    return QuietHighs


def new_highs(log_path: str, verbose: bool = False, **options):
    """A ``highspy.Highs`` instance that logs to ``log_path`` only — and to the console too
    when ``verbose`` — with the given HiGHS ``options`` set (``None`` values skipped).

    Plain ``highspy.Highs()`` prints the "Running HiGHS … Copyright" banner on the first
    instance of a process before any option can be set; this one does not.
    """
    h = _quiet_highs_class()()
    settings = {"output_flag": True, "log_to_console": bool(verbose), "log_file": log_path}
    for key, value in {**settings, **options}.items():
        if value is not None:
            h.setOptionValue(key, value)
    return h


# --------------------------------------------------------------------------- pulp


def to_pulp(model: MatrixModel) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The model as a pulp problem; columns named ``x_<j>`` (sites) then ``v_<j>``."""
    sense = pulp.LpMinimize if model.sense == 1 else pulp.LpMaximize
    prob = pulp.LpProblem(f"relaynet_{model.kind}", sense)
    k = len(model.sites)
    width = len(str(model.n_cols))
    variables = [
        prob.add_variable(
            f"{'x' if j < k else 'v'}_{j:0{width}d}",
            lowBound=float(model.lb[j]),
            upBound=float(model.ub[j]),
            # pulp resets a binary's bounds to [0, 1]: a fixed one is an integer column
            cat=pulp.LpBinary
            if model.integer[j] and model.lb[j] == 0 and model.ub[j] == 1
            else (pulp.LpInteger if model.integer[j] else pulp.LpContinuous),
        )
        for j in range(model.n_cols)
    ]
    nz = np.flatnonzero(model.cost)
    prob.setObjective(pulp.LpAffineExpression([(variables[j], float(model.cost[j])) for j in nz]))
    A = model.A
    for r in range(A.shape[0]):
        a, b = A.indptr[r], A.indptr[r + 1]
        expr = pulp.LpAffineExpression(
            [(variables[j], float(v)) for j, v in zip(A.indices[a:b], A.data[a:b])]
        )
        lo, hi = model.row_lb[r], model.row_ub[r]
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, rhs=float(hi)), f"r{r}")
            continue
        if np.isfinite(hi):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=float(hi)), f"r{r}")
        if np.isfinite(lo):
            prob.addConstraint(
                pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=float(lo)), f"r{r}_lo"
            )
    return prob, variables


class _PulpHiGHS(pulp.HiGHS):
    """pulp's in-process HiGHS: quiet (see :func:`new_highs`), with a warm start, the time
    left at the deadline when the run starts, and access to the bound and gap."""

    def __init__(self, *, deadline, log_path, verbose, start_values=None, **options):
        super().__init__(msg=False)
        self.deadline = deadline
        self.log_path = log_path
        self.verbose = verbose
        self.start_values = start_values
        self.highs_options = options

    def createAndConfigureSolver(self, lp):
        lp.solverModel = new_highs(self.log_path, self.verbose, **self.highs_options)

    def callSolver(self, lp):
        self.skipped = self.deadline.expired  # pulp's own model building took the time left
        if self.skipped:
            return
        lp.solverModel.setOptionValue("time_limit", self.deadline.left())
        if self.start_values is not None:
            values = np.zeros(lp.solverModel.getNumCol())
            for var in lp.variables():
                values[var.index] = self.start_values.get(var.name, 0.0)
            lp.solverModel.setSolution(len(values), np.arange(len(values), dtype=np.int32), values)
        lp.solverModel.run()


def cbc_path() -> str:
    """The CBC executable: ``cbc`` on the PATH, else the binary bundled with pulp (what
    ``pulp.PULP_CBC_CMD`` runs; that class is deprecated in favour of ``COIN_CMD``)."""
    import shutil

    from pulp.apis import coin_api

    found = shutil.which("cbc")
    if found:
        return found
    if os.path.exists(coin_api.pulp_cbc_path):
        return coin_api.pulp_cbc_path
    raise SolverError("CBC not found: install it (e.g. `pip install pulp[cbc]`) or use HiGHS")


def _highs_status(h) -> str:
    import highspy

    status = h.getModelStatus()
    has_solution = h.getInfo().primal_solution_status == 2
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return "infeasible"
    if status in (
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kInterrupt,
        highspy.HighsModelStatus.kIterationLimit,
        highspy.HighsModelStatus.kSolutionLimit,
    ):
        return "time_limit" if has_solution else "no_solution"
    return "error" if not has_solution else h.modelStatusToString(status).lower()


def _highs_numbers(h, model: MatrixModel, negated: bool) -> tuple[float, float, float]:
    """Objective, bound (constant added) and relative gap. pulp passes a maximization to
    HiGHS as the minimization of the negated objective (``negated``)."""
    info = h.getInfo()
    sign = -1.0 if negated else 1.0
    objective = sign * float(info.objective_function_value) + model.offset
    bound = sign * float(info.mip_dual_bound) + model.offset
    gap = float(info.mip_gap)
    if not np.isfinite(gap) or gap > 1e20:
        gap = float("inf")
    return objective, bound, gap


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _run_pulp(model, solver, deadline, gap, start, threads, options, verbose) -> RawResult:
    t0 = time.perf_counter()
    prob, variables = to_pulp(model)
    build_s = time.perf_counter() - t0
    if deadline.expired:
        return _out_of_time(deadline, solver, "pulp", build_s)
    fd, log_path = tempfile.mkstemp(prefix="relaynet_", suffix=".log")
    os.close(fd)
    try:
        if solver == "highs":
            start_values = None
            if start is not None:
                start_values = {v.name: float(s) for v, s in zip(variables, start)}
            backend = _PulpHiGHS(
                deadline=deadline,
                log_path=log_path,
                verbose=verbose,
                start_values=start_values,
                mip_rel_gap=gap,
                threads=threads,
                **(options or {}),
            )
        else:
            if start is not None:
                for var, value in zip(variables, start):
                    var.setInitialValue(
                        float(round(value)) if var.cat != "Continuous" else float(value)
                    )
            backend = pulp.COIN_CMD(
                path=cbc_path(),
                msg=False,
                timeLimit=max(deadline.left(), 1e-3),
                gapRel=gap,
                threads=threads,
                warmStart=start is not None,
                logPath=log_path,
            )
        t1 = time.perf_counter()
        try:
            prob.solve(backend)
        except pulp.PulpSolverError as exc:
            raise SolverError(f"{solver} failed: {exc}") from exc
        solve_s = time.perf_counter() - t1
        if getattr(backend, "skipped", False):
            return _out_of_time(deadline, solver, "pulp", build_s)
        text = _read(log_path)
        if verbose and solver == "cbc":  # pulp sends CBC's output to the log file only
            sys.stdout.write(text)
    finally:
        os.unlink(log_path)
    values = np.array([v.varValue if v.varValue is not None else np.nan for v in variables])
    pinned = np.isnan(values) & (model.lb == model.ub)  # pulp leaves out unused fixed columns
    values[pinned] = model.lb[pinned]
    if solver == "highs":
        status = _highs_status(prob.solverModel)
        objective, bound, rel_gap = _highs_numbers(prob.solverModel, model, model.sense == -1)
        name = "HiGHS (pulp)"
    else:
        status, objective, bound, rel_gap = _cbc_numbers(text, prob, model, values)
        name = "CBC (pulp)"
    if status in ("infeasible", "no_solution", "error") or np.isnan(values).any():
        values = None
    return RawResult(
        values, status, objective, bound, rel_gap, text, name, "pulp", build_s, solve_s
    )


def _cbc_numbers(text: str, prob, model: MatrixModel, values: np.ndarray):
    if "Result - Optimal solution found" in text:
        status = "optimal"
    elif (
        "infeasible" in text.lower()
        and "Result - " in text
        and "nfeasible" in text.split("Result - ")[-1].splitlines()[0]
    ):
        status = "infeasible"
    elif "Stopped on" in text:
        status = "time_limit" if not np.isnan(values).any() else "no_solution"
    else:
        status = {1: "optimal", -1: "infeasible", 0: "time_limit"}.get(prob.status, "error")
    objective = float(model.cost @ np.nan_to_num(values)) + model.offset
    bound = objective
    match = re.search(r"^Lower bound:\s*([-0-9.eE+]+)", text, re.M)
    if match and status != "optimal":
        raw = float(match.group(1))
        # CBC minimizes internally; for '-max' it reports the negated bound
        bound = (raw if model.sense == 1 else -raw) + model.offset
    match = re.search(r"^Gap:\s*([-0-9.eE+]+)", text, re.M)
    if status == "optimal":
        rel_gap = float(match.group(1)) if match else 0.0
    else:
        rel_gap = float(match.group(1)) if match else float("inf")
    return status, objective, bound, rel_gap


# --------------------------------------------------------------------------- highspy


def _run_highspy(model, deadline, gap, start, threads, options, verbose) -> RawResult:
    import highspy

    t0 = time.perf_counter()
    fd, log_path = tempfile.mkstemp(prefix="relaynet_", suffix=".log")
    os.close(fd)
    try:
        h = new_highs(log_path, verbose, mip_rel_gap=float(gap), threads=threads)
        if model.A.nnz > BIG_MODEL_NNZ:
            options = {**BIG_MODEL_OPTIONS, **(options or {})}
        for key, value in (options or {}).items():
            h.setOptionValue(key, value)
        status = _pass_model(h, model, model.integer)
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS rejected the model")
        if start is not None:
            h.setSolution(
                model.n_cols,
                np.arange(model.n_cols, dtype=np.int32),
                np.asarray(start, dtype=float),
            )
        build_s = time.perf_counter() - t0
        h.setOptionValue("time_limit", max(deadline.left(), 1e-3))
        t1 = time.perf_counter()
        h.run()
        solve_s = time.perf_counter() - t1
        text = _read(log_path)
    finally:
        os.unlink(log_path)
    status = _highs_status(h)
    objective, bound, rel_gap = _highs_numbers(h, model, False)
    values = None
    if status not in ("infeasible", "no_solution", "error"):
        values = np.asarray(h.getSolution().col_value, dtype=float)
    return RawResult(
        values,
        status,
        objective,
        bound,
        rel_gap,
        text,
        "HiGHS (highspy)",
        "highspy",
        build_s,
        solve_s,
    )


def solve_relaxation(
    model: MatrixModel, *, time_limit: float, threads: int | None = None, verbose: bool = False
) -> tuple[np.ndarray | None, float, str]:
    """LP relaxation of ``model`` with HiGHS (interior point + crossover above
    :data:`LP_IPM_NNZ` non-zeros, else HiGHS's choice), in at most ``time_limit`` seconds
    of HiGHS time (> 0); ``verbose`` shows the HiGHS log.

    Returns
    -------
    (numpy.ndarray or None, float, str)
        Column values, the optimal LP objective *without* the model's constant (a valid
        bound on the integer optimum; ``nan`` when HiGHS did not prove LP optimality) and
        the HiGHS log. An optimal relaxation is also kept in ``model.relaxation``: a
        later :func:`run` with a start uses it to fix columns
        (:func:`~.models.fix_by_reduced_cost`).
    """
    import highspy

    fd, log_path = tempfile.mkstemp(prefix="relaynet_lp_", suffix=".log")
    os.close(fd)
    try:
        h = new_highs(log_path, verbose, time_limit=float(time_limit), threads=threads)
        if model.A.nnz > LP_IPM_NNZ:
            h.setOptionValue("solver", "ipm")
        _pass_model(h, model, np.zeros(model.n_cols, dtype=bool))  # the relaxation
        h.run()
        text = _read(log_path)
    finally:
        os.unlink(log_path)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, float("nan"), text
    solution = h.getSolution()
    values = np.asarray(solution.col_value, dtype=float)
    objective = float(h.getInfo().objective_function_value)
    model.relaxation = Relaxation(values, objective, np.asarray(solution.col_dual, dtype=float))
    return values, objective, text


def _pass_model(h, model: MatrixModel, integer: np.ndarray):
    """Give ``model``'s arrays to the ``highspy.Highs`` instance ``h`` in one call
    (``integer`` marks the integer columns); returns HiGHS's status."""
    import highspy

    A = model.A
    inf = highspy.kHighsInf
    return h.passModel(
        int(model.n_cols),
        int(A.shape[0]),
        int(A.nnz),
        2,  # CSR rows
        int(model.sense),
        0.0,
        model.cost.astype(float),
        model.lb.astype(float),
        model.ub.astype(float),
        np.where(np.isfinite(model.row_lb), model.row_lb, -inf).astype(float),
        np.where(np.isfinite(model.row_ub), model.row_ub, inf).astype(float),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(float),
        integer.astype(np.int32),
    )
