"""The :class:`Comparison` result: its tables, deltas (scenario minus baseline), winners
and losers by area, and its ``kpis.json`` document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ...scenarios import Scenario
from ...standard import Standard

BASE = "base"
"""Label of the base eligibility (no time window) in the ``window`` columns."""

STATES = ("gained", "lost", "unchanged")
"""Per-place states of a scenario against the baseline."""

DELTA_KPIS = (
    "n_places",
    "weight",
    "covered_weight",
    "uncovered_weight",
    "share_covered",
    "mean_distance_m",
    "p50_distance_m",
    "p90_distance_m",
    "mean_drive_s",
    "p90_drive_s",
    "fragile_weight",
    "backup_weight",
    "backup_share",
    "unreached_weight",
)
"""KPI columns that get a ``delta_`` column (scenario minus baseline)."""

BURDEN_COLUMNS = ("person_km_per_year", "car_km_per_year", "co2_t_per_year", "road_km_per_trip")
"""Travel-burden columns compared by :func:`compare_burden`."""

COMPARE_SCHEMA = "relaynet.compare/1"
"""Identifier of the comparison ``kpis.json`` layout."""


def compare_burden(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Difference ``after - before`` of two :func:`~relaynet.coverage.travel_burden` tables
    (same groups): ``delta_person_km_per_year``, ``delta_car_km_per_year``,
    ``delta_co2_t_per_year``, ``delta_road_km_per_trip`` (km, one way)."""
    columns = list(BURDEN_COLUMNS)
    return pd.DataFrame(
        {
            f"delta_{c}": _delta(before[c].to_numpy(float), after[c].to_numpy(float))
            for c in columns
        },
        index=after.index,
    )


def _delta(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after - before``, exactly 0 where both are equal (``inf`` and NaN included)."""
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    same = (before == after) | (np.isnan(before) & np.isnan(after))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, after - before)


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare` (frozen; tables are pandas objects — do not mutate them).

    Every table has a ``scenario`` column (the baseline's rows included, their deltas 0)
    and, for each KPI of :data:`DELTA_KPIS` it holds, a ``delta_<kpi>`` column: scenario
    minus baseline (shares in 0–1, distances in metres, times in seconds).

    Attributes
    ----------
    scenarios
        The scenarios, baseline first.
    standard, by, threshold, engine
        Parameters of the runs (``by`` is the demand column of the per-area table).
    runs
        Scenario name → the pipeline run (:class:`~relaynet.report.pipeline.CoverageRun`
        on the local engine; a namespace with ``assessment`` and ``compliance`` on dask).
    kpis
        One row per scenario: overall KPIs, areas passing the threshold, deltas.
    by_area
        One row per scenario and area: KPIs, ``passes``, ``gained_places``,
        ``gained_weight``, ``lost_places``, ``lost_weight`` (base eligibility), deltas.
    by_density
        One row per scenario and density class.
    windows
        One row per scenario, time window and group (``all`` and density classes).
    networks
        One row per scenario and network (each network alone and its marginal share).
    burden
        One row per scenario and window (``base`` first): person-km, car-km, CO2 a year
        and the mean trip (see :mod:`relaynet.coverage.burden`), and their deltas.
    changes
        One row per place and non-baseline scenario (local engine; ``None`` on dask):
        ``scenario``, the place's ids, area, ``density_class``, ``weight``, ``state``,
        ``covered_before``, ``covered_after``, ``distance_before_m``,
        ``distance_after_m``, ``delta_distance_m``, ``point_before``, ``point_after``,
        then ``state_<window>`` for each time window.
    inputs, rejected
        Input records (demand, then each scenario's points) and rejected demand rows.
    timings
        Seconds per scenario run.
    """

    scenarios: tuple[Scenario, ...]
    standard: Standard
    by: str
    threshold: float
    engine: str
    runs: Mapping[str, Any]
    kpis: pd.DataFrame
    by_area: pd.DataFrame
    by_density: pd.DataFrame
    windows: pd.DataFrame
    networks: pd.DataFrame
    burden: pd.DataFrame
    changes: pd.DataFrame | None
    inputs: list[dict] = field(default_factory=list)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def baseline(self) -> Scenario:
        """The first scenario."""
        return self.scenarios[0]

    @property
    def names(self) -> list[str]:
        """Scenario names, baseline first."""
        return [s.name for s in self.scenarios]

    @property
    def window_names(self) -> list[str]:
        """Time windows assessed (may be empty)."""
        return list(dict.fromkeys(self.windows["window"].astype(str))) if len(self.windows) else []

    def movers(self, window: str | None = None) -> pd.DataFrame:
        """Winners and losers by area: places and people gaining or losing coverage.

        Parameters
        ----------
        window
            A time window of the comparison (default: the base eligibility).

        Returns
        -------
        DataFrame, one row per non-baseline scenario and area with any change:
        ``scenario``, the area column (and ``area_name`` when known), ``gained_places``,
        ``gained_weight``, ``lost_places``, ``lost_weight``, ``net_weight``; largest
        loss first.
        """
        if self.changes is None:
            raise ParameterError("movers: per-place changes need the local engine")
        column = "state" if window in (None, BASE) else f"state_{window}"
        if column not in self.changes.columns:
            raise ParameterError(f"window={window!r}: expected one of {self.window_names}")
        return _movers(self.changes, column, self.by)

    def summary(self) -> str:
        """A few lines: per scenario, covered people and share, gains, losses, areas passing."""
        lines = [f"Standard {self.standard.label}; baseline {self.baseline.name!r}"]
        for row in self.kpis.to_dict("records"):
            text = (
                f"{row['scenario']}: {row['share_covered']:.2%} covered "
                f"({row['covered_weight']:,.0f} people), "
                f"{row['areas_passing']} of {row['areas']} areas pass"
            )
            if row["scenario"] != self.baseline.name:
                text += f"; Δ covered {row['delta_covered_weight']:+,.0f}"
                if np.isfinite(row.get("gained_weight", np.nan)):
                    text += f" (gained {row['gained_weight']:,.0f}, lost {row['lost_weight']:,.0f})"
            lines.append(text)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The comparison ``kpis.json`` (:data:`COMPARE_SCHEMA`): parameters, then per
        scenario its description, its full ``kpis.json`` document
        (:func:`relaynet.report.outputs.kpis_document`), its deltas and changes."""
        from ..kpis import kpi_dict

        scenarios = []
        for scenario in self.scenarios:
            name = scenario.name
            run = self.runs[name]
            row = self.kpis[self.kpis["scenario"] == name].iloc[0]
            deltas = {c: row[c] for c in self.kpis.columns if c.startswith("delta_")}
            burden = self.burden[self.burden["scenario"] == name]
            scenarios.append(
                {
                    **scenario.to_dict(),
                    "kpis": run.kpis_document,
                    "delta": kpi_dict(pd.Series(deltas, dtype=float)),
                    "changes": {
                        key: row.get(key)
                        for key in (
                            "gained_places",
                            "gained_weight",
                            "lost_places",
                            "lost_weight",
                            "unchanged_places",
                            "unchanged_weight",
                        )
                    },
                    "travel_burden": burden.drop(columns=["scenario"]).to_dict("records"),
                }
            )
        return {
            "schema": COMPARE_SCHEMA,
            "engine": self.engine,
            "standard": self.standard.to_dict(),
            "by": self.by,
            "threshold": self.threshold,
            "baseline": self.baseline.name,
            "windows": self.window_names,
            "scenarios": scenarios,
        }


def _movers(changes: pd.DataFrame, column: str, area: str) -> pd.DataFrame:
    keys = ["scenario", area, *(["area_name"] if "area_name" in changes.columns else [])]
    frame = changes[[*keys, "weight", column]].copy()
    for state in ("gained", "lost"):
        hit = frame[column].to_numpy() == state
        frame[f"{state}_places"] = hit.astype(np.int64)
        frame[f"{state}_weight"] = np.where(hit, frame["weight"].to_numpy(float), 0.0)
    out = (
        frame.drop(columns=["weight", column])
        .groupby(keys, sort=False, dropna=False)
        .sum()
        .reset_index()
    )
    out = out[(out["gained_places"] > 0) | (out["lost_places"] > 0)]
    out["net_weight"] = out["gained_weight"] - out["lost_weight"]
    return out.sort_values(
        ["lost_weight", "gained_weight"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)
