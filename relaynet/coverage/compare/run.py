""":func:`compare`: every scenario through the coverage pipeline (local engine) or the dask
engine, then the comparison tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType, SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ...scenarios import Scenario
from ...standard import Standard
from ..burden import TripAssumptions
from .comparison import Comparison
from .tables import (
    _add_compliance,
    _add_movers,
    _add_totals,
    _burden_rows,
    _changes,
    _kpi_rows,
    _network_rows,
    _window_rows,
    _with_deltas,
)


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
    from ...report.pipeline import load_input

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

    from ...report.outputs import kpis_document
    from ...report.pipeline import run_coverage

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

    from ...distributed import ClusterOptions
    from ...distributed import assess as dask_assess
    from ...report.outputs import kpis_document
    from ...report.pipeline import AREA_ALIASES, windows_for

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
