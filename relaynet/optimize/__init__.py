"""Where to open new points: candidates, sparse coverage, LSCP / MCLP / p-median / backup.

>>> from relaynet.optimize import candidates_from_demand, solve
>>> sol = solve(demand, candidates_from_demand(demand), "10km", model="mclp", p=50,
...             existing=points)                                          # doctest: +SKIP

Models are written once as arrays (:mod:`.models`), built in pulp and solved by HiGHS
(CBC as fallback, ``solver="cbc"``); big instances go straight to highspy
(:mod:`.solvers`). No dense demand × candidate matrix is ever built.
"""

from __future__ import annotations

from .candidates import (
    CANDIDATE_COLUMNS,
    candidates_from_demand,
    candidates_from_grid,
    candidates_from_points,
    combine_sites,
)
from .core import MODELS, solve
from .coverage_matrix import SparseCoverage, sparse_coverage
from .models import InfeasibleCoverError
from .solution import Solution

__all__ = [
    "CANDIDATE_COLUMNS",
    "MODELS",
    "InfeasibleCoverError",
    "Solution",
    "SparseCoverage",
    "candidates_from_demand",
    "candidates_from_grid",
    "candidates_from_points",
    "combine_sites",
    "solve",
    "sparse_coverage",
]
