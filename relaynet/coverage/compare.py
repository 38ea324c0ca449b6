"""``compare``: scenarios side by side — who gains, who loses, what it costs in travel.

Each :class:`~relaynet.scenarios.Scenario` goes through the one coverage pipeline
(:func:`relaynet.report.pipeline.run_coverage`: assess with the scenario's eligibility and
the time windows under its unknown-hours policy, compliance, travel burden), on the same
demand and standard; the first scenario is the baseline. Differences are *scenario minus
baseline* and computed from the pipeline's own tables, so a KPI delta is the difference
of two KPIs as every other front end reports them.

Per place (local engine), the state of a place in a scenario is

``gained``
    not covered in the baseline, covered in the scenario;
``lost``
    covered in the baseline, not in the scenario;
``unchanged``
    same state in both;

for the base eligibility and for each time window. So ``gained_weight - lost_weight`` of
an area is exactly its ``delta_covered_weight``.

With ``engine="dask"`` every scenario runs :func:`relaynet.distributed.assess` (additive
sums per partition) on one cluster: the KPI tables and their deltas are the same, the
per-place states need the local engine (``changes`` is ``None``, gained/lost are NaN).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..scenarios import Scenario
from ..standard import Standard
from .burden import TripAssumptions, travel_burden

log = logging.getLogger(__name__)

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
        from .kpis import kpi_dict

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


def compare(
    demand,
    scenarios: Sequence[Scenario],
    standard: Standard | str = "5km",
    *,
    by: str = "area_id",
    threshold: float = 0.9,
    windows: bool | Mapping[str, Any] = True,
    assumptions: TripAssumptions | None = None,
    costs=None,
    engine: str = "local",
    cluster=None,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Run the coverage pipeline on every scenario and compare each with the first.

    Parameters
    ----------
    demand
        Demand places: a GeoDataFrame (canonical demand schema) or a file path (read once,
        leniently: unusable rows are kept in ``rejected``). On the dask engine, also a
        Parquet directory or glob (see :func:`relaynet.distributed.assess`).
    scenarios
        :class:`~relaynet.scenarios.Scenario` objects, names unique; the first is the
        baseline. A single scenario is allowed (every delta is then 0).
    standard
        Service standard (``"5km"``, ``"20min"``, ``"5km|20min"``).
    by
        Demand column of the per-area tables (``"departement"`` = ``area_id``).
    threshold
        Share of each area's weight that must be covered (``passes`` per area).
    windows
        ``True``: the four standard time windows (under each scenario's unknown-hours
        policy); ``False``: none; or your own ``{name: Eligibility}``, e.g.
        ``{"tuesday_18h30": rn.Eligibility(open_at="2024-06-11 18:30")}``.
    assumptions
        Trip rates, car share and emission factor of the travel burden.
    costs
        Your own travel costs (:class:`relaynet.costs.CostTable`), the same source for
        every scenario (local engine); ``None``: straight line, drive times estimated.
    engine
        ``"local"`` (in memory, per-place changes) or ``"dask"`` (KPIs from sums).
    cluster
        :class:`relaynet.distributed.ClusterOptions` for the dask engine (default: a local
        cluster, started once for all scenarios).
    progress
        Called with ``"<scenario>: <stage>"`` as each stage starts.

    Returns
    -------
    Comparison
    """
    from ..report.pipeline import load_input

    scenarios = tuple(scenarios)
    if not scenarios or not all(isinstance(s, Scenario) for s in scenarios):
        raise ParameterError("scenarios: expected one or more relaynet.Scenario objects")
    names = [s.name for s in scenarios]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ParameterError(f"scenarios: names must be unique, repeated {repeated}")
    if isinstance(standard, str):
        standard = Standard.parse(standard)
    if engine not in ("local", "dask"):
        raise ParameterError(f"engine={engine!r}: expected 'local' or 'dask'")
    if not 0 < threshold <= 1:
        raise ParameterError(f"threshold={threshold!r}: expected a share in (0, 1]")
    if not isinstance(windows, bool | Mapping):
        raise ParameterError("windows: expected True, False or a mapping name → Eligibility")
    trip = assumptions or TripAssumptions()
    if costs is not None and engine == "dask":
        raise ParameterError("costs: your own travel costs need the local engine")
    if engine == "local":
        demand, rejected, record = load_input(demand, "demand")
        runs, area, timings = _run_local(
            demand, scenarios, standard, by, threshold, windows, costs, progress
        )
    else:
        record = {"role": "demand", "path": None if not _is_path(demand) else str(demand)}
        rejected = pd.DataFrame()
        runs, area, timings = _run_dask(
            demand, scenarios, standard, by, threshold, windows, cluster, progress
        )
    if rejected.empty:
        rejected = pd.DataFrame(columns=["source", "file", "row", "reason"])
    baseline = names[0]
    changes = _changes(runs, names, area) if engine == "local" else None
    kpis = _kpi_rows(runs, names, lambda a: a.kpis, None)
    by_area = _kpi_rows(runs, names, lambda a: a.by_area, area)
    by_density = _kpi_rows(runs, names, lambda a: a.by_density, "density_class")
    by_area = _add_compliance(by_area, runs, area)
    by_area = _add_movers(by_area, changes, area, names)
    kpis = _add_totals(kpis, by_area, changes, names)
    windows_table = _window_rows(runs, names)
    networks = _network_rows(runs, names)
    burden = _burden_rows(runs, names, trip, engine)
    return Comparison(
        scenarios=scenarios,
        standard=standard,
        by=area,
        threshold=threshold,
        engine=engine,
        runs=MappingProxyType(runs),
        kpis=_with_deltas(kpis, [], baseline),
        by_area=_with_deltas(by_area, [area], baseline),
        by_density=_with_deltas(by_density, ["density_class"], baseline),
        windows=_with_deltas(windows_table, ["window", "group"], baseline),
        networks=_with_deltas(networks, ["network"], baseline),
        burden=burden,
        changes=changes,
        inputs=[record, *[{**runs[n].inputs[0], "scenario": n} for n in names]],
        rejected=rejected,
        timings=MappingProxyType(timings),
    )


def _is_path(value) -> bool:
    import os

    return isinstance(value, str | os.PathLike)


def _run_local(demand, scenarios, standard, by, threshold, windows, costs, progress):
    import time

    from ..report.outputs import kpis_document
    from ..report.pipeline import run_coverage

    runs: dict[str, Any] = {}
    timings: dict[str, float] = {}
    ids = None
    for scenario in scenarios:
        started = time.perf_counter()

        def stage(name: str, _s=scenario.name) -> None:
            if progress is not None and name:
                progress(f"{_s}: {name}")

        run = run_coverage(
            scenario.points,
            demand,
            standard,
            by=by,
            where=scenario.where,
            threshold=threshold,
            windows=windows,
            progress=stage,
            **({} if costs is None else {"costs": costs}),
        )
        order = run.assessment.access["demand_id"].to_numpy()
        if ids is None:
            ids = order
        elif not np.array_equal(ids, order):  # pragma: no cover - same demand, same order
            raise ParameterError("compare: the scenarios' access tables are not aligned")
        document = kpis_document(
            run.assessment, run.compliance, run.area, threshold, burden=run.burden
        )
        runs[scenario.name] = SimpleNamespace(
            run=run,
            assessment=run.assessment,
            compliance=run.compliance,
            inputs=run.inputs,
            kpis_document=document,
            parameters=run.parameters,
        )
        timings[scenario.name] = round(time.perf_counter() - started, 3)
    return runs, runs[scenarios[0].name].run.area, timings


def _run_dask(demand, scenarios, standard, by, threshold, windows, cluster, progress):
    import time

    from ..distributed import ClusterOptions
    from ..distributed import assess as dask_assess
    from ..report.outputs import kpis_document
    from ..report.pipeline import AREA_ALIASES, windows_for

    area = "area_id" if by.lower() in AREA_ALIASES else by
    options = cluster if cluster is not None else ClusterOptions()
    runs: dict[str, Any] = {}
    timings: dict[str, float] = {}
    with options.client() as client:
        for scenario in scenarios:
            started = time.perf_counter()
            if progress is not None:
                progress(f"{scenario.name}: assess (dask)")
            where = scenario.where if scenario.where is not None else None
            base = where if where is not None and not where.is_empty else None
            result = dask_assess(
                demand,
                scenario.points,
                standard,
                base,
                by=area,
                windows=windows_for(where, windows),
                scheduler=client,
            )
            compliance = result.compliance_table(threshold)
            runs[scenario.name] = SimpleNamespace(
                run=None,
                assessment=result,
                compliance=compliance,
                inputs=[{"role": "points", "path": None, "rows": len(scenario.points)}],
                kpis_document=kpis_document(result, compliance, area, threshold),
                parameters={"engine": "dask"},
            )
            timings[scenario.name] = round(time.perf_counter() - started, 3)
    return runs, area, timings


def _kpi_rows(runs, names, table_of, key: str | None) -> pd.DataFrame:
    """One KPI table per scenario stacked, with ``scenario`` (and ``key``) columns first."""
    frames = []
    for name in names:
        table = table_of(runs[name].assessment).copy()
        if key is None:
            table = table.reset_index(drop=True)
        else:
            table.index = table.index.astype(str)
            table.index.name = key
            table = table.reset_index()
        table.insert(0, "scenario", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _add_compliance(by_area: pd.DataFrame, runs, area: str) -> pd.DataFrame:
    frames = []
    for name, run in runs.items():
        comp = run.compliance
        frame = pd.DataFrame(
            {"scenario": name, area: comp[area].astype(str), "passes": comp["passes"].astype(bool)}
        )
        if "area_name" in comp.columns:
            frame["area_name"] = comp["area_name"].astype(object).to_numpy()
        frames.append(frame)
    merged = by_area.merge(pd.concat(frames, ignore_index=True), on=["scenario", area], how="left")
    front = ["scenario", area, *(["area_name"] if "area_name" in merged.columns else [])]
    return merged[[*front, *[c for c in merged.columns if c not in front]]]


def _changes(runs, names, area: str) -> pd.DataFrame:
    """Per place and non-baseline scenario: state, coverage and nearest point before/after."""
    base = runs[names[0]].assessment
    access = base.access
    keep = [c for c in ("demand_id", "name", area, "area_name", "density_class") if c in access]
    keep = list(dict.fromkeys(keep))
    frames = []
    for name in names[1:]:
        other = runs[name].assessment
        after = other.access
        frame = access[keep].copy()
        frame.insert(0, "scenario", name)
        frame["weight"] = access["weight"].to_numpy(float)
        before_c = access["covered"].to_numpy(bool)
        after_c = after["covered"].to_numpy(bool)
        frame["state"] = _states(before_c, after_c)
        frame["covered_before"] = before_c
        frame["covered_after"] = after_c
        d0 = access["distance_m"].to_numpy(float)
        d1 = after["distance_m"].to_numpy(float)
        frame["distance_before_m"] = d0
        frame["distance_after_m"] = d1
        frame["delta_distance_m"] = _delta(d0, d1)
        frame["point_before"] = access["point_id"].to_numpy(object)
        frame["point_after"] = after["point_id"].to_numpy(object)
        for window, table in base.window_access.items():
            if window in other.window_access:
                frame[f"state_{window}"] = _states(
                    table["covered"].to_numpy(bool),
                    other.window_access[window]["covered"].to_numpy(bool),
                )
        frames.append(frame)
    if not frames:
        columns = ["scenario", *keep, "weight", "state", "covered_before", "covered_after"]
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def _states(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.where(
        ~before & after, "gained", np.where(before & ~after, "lost", "unchanged")
    ).astype(object)


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


def _add_movers(by_area: pd.DataFrame, changes, area: str, names) -> pd.DataFrame:
    columns = ["gained_places", "gained_weight", "lost_places", "lost_weight"]
    if changes is None:
        return by_area.assign(**{c: np.nan for c in columns})
    moved = _movers(changes, "state", area)[["scenario", area, *columns]]
    out = by_area.merge(moved, on=["scenario", area], how="left")
    out[columns] = out[columns].fillna(0.0)
    for c in ("gained_places", "lost_places"):
        out[c] = out[c].astype(np.int64)
    return out


def _add_totals(kpis: pd.DataFrame, by_area: pd.DataFrame, changes, names) -> pd.DataFrame:
    """Areas passing, and the per-place state totals, on the overall rows."""
    passing = by_area.groupby("scenario", sort=False)["passes"].agg(["sum", "size"])
    kpis = kpis.assign(
        areas_passing=passing.loc[kpis["scenario"], "sum"].astype(np.int64).to_numpy(),
        areas=passing.loc[kpis["scenario"], "size"].astype(np.int64).to_numpy(),
    )
    for state in STATES:
        if changes is None:
            kpis[f"{state}_places"] = np.nan
            kpis[f"{state}_weight"] = np.nan
            continue
        hit = changes["state"] == state
        counts = hit.groupby(changes["scenario"]).sum()
        weights = changes["weight"].where(hit, 0.0).groupby(changes["scenario"]).sum()
        n_base = kpis["n_places"].iloc[0] if state == "unchanged" else 0
        w_base = kpis["weight"].iloc[0] if state == "unchanged" else 0.0
        kpis[f"{state}_places"] = [
            int(counts.get(n, 0)) if n != names[0] else int(n_base) for n in kpis["scenario"]
        ]
        kpis[f"{state}_weight"] = [
            float(weights.get(n, 0.0)) if n != names[0] else float(w_base) for n in kpis["scenario"]
        ]
    return kpis


def _window_rows(runs, names) -> pd.DataFrame:
    frames = []
    for name in names:
        table = runs[name].assessment.windows
        if table is None or not len(table):
            continue
        table = table.copy()
        table.insert(0, "scenario", name)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["scenario", "window", "description", "group"])
    out = pd.concat(frames, ignore_index=True)
    out["window"] = out["window"].astype(str)
    out["group"] = out["group"].astype(str)
    return out


def _network_rows(runs, names) -> pd.DataFrame:
    frames = []
    for name in names:
        table = runs[name].assessment.networks
        if table is None or not len(table):
            continue
        table = pd.DataFrame(table).copy()
        table.insert(0, "scenario", name)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["scenario", "network"])
    out = pd.concat(frames, ignore_index=True)
    out["network"] = out["network"].astype(str)
    return out


def _with_deltas(frame: pd.DataFrame, keys: list[str], baseline: str) -> pd.DataFrame:
    """``delta_<kpi>`` columns: each row minus the baseline's row with the same keys.

    A group the baseline lacks (a network merged in) is compared with zero weight: its
    weights and counts count as 0 in the baseline, its shares and distances as unknown.
    """
    columns = [
        c
        for c in frame.columns
        if c in (*DELTA_KPIS, "marginal_weight", "marginal_share", "passes", "areas_passing")
        and c not in keys
    ]
    if frame.empty or not columns:
        return frame.assign(**{f"delta_{c}": pd.Series(dtype=float) for c in columns})
    base = frame[frame["scenario"] == baseline]
    if keys:
        aligned = frame[["scenario", *keys]].merge(
            base[[*keys, *columns]], on=keys, how="left", suffixes=("", "_base")
        )
    else:
        aligned = pd.DataFrame(
            {c: np.repeat(base[c].to_numpy(), len(frame)) for c in columns}, index=frame.index
        )
    out = frame.copy()
    for column in columns:
        before = aligned[column].astype(float).to_numpy()
        additive = (
            column.endswith("_weight") or column.startswith(("n_", "areas")) or (column == "passes")
        )
        if additive:
            before = np.where(np.isnan(before), 0.0, before)
        out[f"delta_{column}"] = _delta(before, out[column].astype(float).to_numpy())
    return out


def _burden_rows(runs, names, trip: TripAssumptions, engine: str) -> pd.DataFrame:
    """Travel burden per scenario and window (``base`` first), with deltas to the baseline."""
    rows = []
    for name in names:
        assessment = runs[name].assessment
        windows = [BASE, *_window_list(assessment)]
        for window in windows:
            if engine == "local":
                table = travel_burden(assessment, trip, window=None if window == BASE else window)
            else:
                table = _burden_from_kpis(assessment, window, trip)
            row = table.iloc[0]
            rows.append(
                {
                    "scenario": name,
                    "window": window,
                    "weight": float(row["weight"]),
                    "reached_weight": float(row["reached_weight"]),
                    "unreached_weight": float(row["unreached_weight"]),
                    **{c: float(row[c]) for c in BURDEN_COLUMNS},
                    "co2_kg_per_person_year": float(row["co2_kg_per_person_year"]),
                    "distance_source": str(row["distance_source"]),
                }
            )
    frame = pd.DataFrame(rows)
    base = frame[frame["scenario"] == names[0]].set_index("window")
    before = base.reindex(frame["window"]).set_axis(frame.index)
    return pd.concat([frame, compare_burden(before, frame)], axis=1)


def _window_list(assessment) -> list[str]:
    windows = assessment.windows
    if windows is None or not len(windows):
        return []
    return list(dict.fromkeys(windows["window"].astype(str)))


def _burden_from_kpis(assessment, window: str, trip: TripAssumptions) -> pd.DataFrame:
    """:func:`travel_burden` from KPI sums (dask engine, estimated distances).

    The burden is linear in each place's distance within a density class (road = straight
    line × the class's detour factor), so per class two rows — the reached weight at its
    weighted mean distance, and the unreached weight — give exactly the sums of the
    per-place formula.
    """
    if window == BASE:
        table = assessment.by_density.reset_index()
        table = table.rename(columns={table.columns[0]: "density_class"})
    else:
        rows = assessment.windows
        table = rows[(rows["window"] == window) & (rows["group"] != "all")]
        table = table.rename(columns={"group": "density_class"})
    weight = table["weight"].to_numpy(float)
    unreached = table["unreached_weight"].to_numpy(float)
    mean = table["mean_distance_m"].to_numpy(float)
    classes = table["density_class"].astype(str).to_numpy(object)
    access = pd.DataFrame(
        {
            "weight": np.concatenate([weight - unreached, unreached]),
            "distance_m": np.concatenate([mean, np.full(len(mean), np.nan)]),
            "density_class": np.concatenate([classes, classes]),
        }
    )
    pseudo = SimpleNamespace(
        access=access,
        drive_estimate=assessment.drive_estimate,
        drive_time_source="estimated",
        window_access={},
    )
    return travel_burden(pseudo, trip)


__all__ = [
    "BASE",
    "BURDEN_COLUMNS",
    "COMPARE_SCHEMA",
    "DELTA_KPIS",
    "STATES",
    "Comparison",
    "compare",
    "compare_burden",
]
