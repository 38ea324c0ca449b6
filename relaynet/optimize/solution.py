"""The result of an optimization: a frozen :class:`Solution`."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ..standard import Standard


@dataclass(frozen=True)
class Solution:
    """Selected sites and how good the answer is.

    Attributes
    ----------
    model
        ``"lscp"``, ``"mclp"``, ``"pmedian"`` or ``"backup"``.
    status
        ``"optimal"`` (proven within the requested MIP gap), ``"time_limit"`` (best solution
        found when the time ran out, not proven optimal), ``"no_solution"``, ``"infeasible"``.
    sites
        Newly opened sites (status ``"new"``) and kept closable sites, GeoDataFrame
        EPSG:4326: ``point_id, name, status, cost, capacity, assigned_weight, new_weight,
        n_demand, geometry``. ``assigned_weight`` is the demand weight whose nearest open site
        (within the standard) it is; ``new_weight`` the part of it that was not covered
        before (by fixed sites), so ``new_weight`` sums to the newly covered weight.
    closed
        Closable existing sites the solution closes (empty unless ``existing_mode="closable"``).
    objective
        Model objective, constant included: covered weight (MCLP), Σ w·(θ·once + (1-θ)·twice)
        (backup), number or cost of sites (LSCP), weighted distance in metres — or seconds
        for a time standard — with each demand capped at the cut-off penalty (p-median).
    bound
        Best proven bound on ``objective`` (same units); ``None`` when none was proven (e.g.
        the time limit came first).
    gap
        Relative gap proven by the solver on the reduced model (demand already covered by
        fixed sites removed); never smaller than ``|bound - objective| / |objective|``;
        ``None`` when there is no bound.
    greedy_objective
        Objective of the greedy heuristic on the same model (also the warm start).
    wall_s, time_limit_s
        Measured wall time of the whole ``solve`` call and the time limit it was given
        (seconds); see :func:`~relaynet.optimize.solve` for what the limit covers.
    assignment
        One row per demand point: ``demand_id, weight, area_id, point_id`` (nearest open
        site within the standard — with capacities, the site serving its largest share —
        NA if none), ``distance_m``, ``covered_before``, ``covered_after`` (wholly served
        within the standard) and ``share_before``, ``share_after`` (served fraction, 0–1;
        0 or 1 without capacities).

    With capacities (any finite ``capacity``) ``sites`` also has ``load`` (assigned weight ×
    demand rate) and ``utilisation`` (load / capacity), and ``assigned_weight`` is the
    weight the site serves in the solution's assignment; ``new_weight`` is its part of each
    demand point's newly served weight (a point served by several sites splits it by share),
    so the selected sites' ``new_weight`` sums to at most the gain — fixed sites freed up by
    the new ones may serve the rest.
    """

    model: str
    status: str
    sites: gpd.GeoDataFrame
    closed: gpd.GeoDataFrame
    objective: float
    bound: float | None
    gap: float | None
    greedy_objective: float
    solver: str
    engine: str
    wall_s: float
    build_s: float
    solve_s: float
    log: str
    standard: Standard
    assignment: pd.DataFrame
    uncoverable: tuple[str, ...]
    stats: dict = field(default_factory=dict)
    time_limit_s: float | None = None

    @property
    def proven_optimal(self) -> bool:
        """True when the solver proved the requested gap."""
        return self.status == "optimal"

    @property
    def site_ids(self) -> list[str]:
        """``point_id`` of the opened (and kept closable) sites."""
        return self.sites["point_id"].tolist()

    @property
    def covered_weight_before(self) -> float:
        """Demand weight served within the standard before (fixed sites only)."""
        return float((self.assignment["weight"] * self.assignment["share_before"]).sum())

    @property
    def covered_weight_after(self) -> float:
        """Demand weight served within the standard after (fixed and selected sites)."""
        return float((self.assignment["weight"] * self.assignment["share_after"]).sum())

    def kpi_table(self, by: str | None = None) -> pd.DataFrame:
        """Before/after coverage: demand weight and share within the standard.

        Parameters
        ----------
        by
            Column of :attr:`assignment` to group by (e.g. ``"area_id"``); ``None`` for one
            row over all demand.

        Returns
        -------
        DataFrame
            ``[by,] demand, weight, covered_weight_before, covered_weight_after,
            share_before, share_after, gain`` (shares in 0–1).
        """
        frame = self.assignment.assign(
            wb=self.assignment["weight"] * self.assignment["share_before"],
            wa=self.assignment["weight"] * self.assignment["share_after"],
        )
        if by is None:
            frame = frame.assign(scope="all")
            by = "scope"
        table = (
            frame.groupby(by, sort=True)
            .agg(
                demand=("demand_id", "size"),
                weight=("weight", "sum"),
                covered_weight_before=("wb", "sum"),
                covered_weight_after=("wa", "sum"),
            )
            .reset_index()
        )
        total = table["weight"].where(table["weight"] > 0, np.nan)
        table["share_before"] = table["covered_weight_before"] / total
        table["share_after"] = table["covered_weight_after"] / total
        table["gain"] = table["share_after"] - table["share_before"]
        return table

    def summary(self) -> str:
        """One paragraph for logs and the CLI, in words (numbers with spaces between
        thousands; covered weight in the demand's unit, people for the bundled data)."""

        def n(value: float) -> str:
            return f"{value:,.6g}".replace(",", " ") if abs(value) < 1e6 else _whole(value)

        proven = "proven optimal" if self.proven_optimal else "NOT proven optimal"
        bound = "bound not proven" if self.bound is None else f"bound {n(self.bound)}"
        gap = "gap unknown" if self.gap is None else f"gap {100 * self.gap:.2f} %"
        limit = "" if self.time_limit_s is None else f" (limit {self.time_limit_s:g} s)"
        gained = self.covered_weight_after - self.covered_weight_before
        return (
            f"{self.model.upper()}, {self.standard.label}: {len(self.sites)} site(s) selected, "
            f"{self.status} ({proven}); covered weight {_whole(self.covered_weight_before)} → "
            f"{_whole(self.covered_weight_after)} ({'+' if gained >= 0 else '−'}"
            f"{_whole(abs(gained))}); objective {n(self.objective)}, {bound}, {gap}, greedy "
            f"{n(self.greedy_objective)}; {self.solver} in {self.wall_s:.2f} s{limit}"
        )


def _whole(value: float) -> str:
    """``1234567.0`` → ``"1 234 567"``."""
    return f"{value:,.0f}".replace(",", " ")
