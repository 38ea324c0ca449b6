"""Public functions of the dask engine: nearest and assess over partitioned demand."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ..costs import DriveEstimate, straight_reach_m
from ..coverage.density import DEFAULT_THRESHOLDS, DensityThresholds
from ..coverage.kpis import kpi_dict
from ..coverage.networks import networks_records
from ..coverage.reach import SEARCH_LIMIT_M, check_search_limit
from ..coverage.windows import TIME_WINDOWS, window_kpis_dict
from ..coverage.windows import window_table as windows_table
from ..eligibility import Eligibility
from ..errors import InputError, ParameterError
from ..io.schema import DENSITY_CLASSES
from ..nearest import ACCESS_COLUMNS
from ..standard import Standard
from ._cluster import DEFAULT_MEMORY_LIMIT, DEFAULT_WORKERS, require_dask, run_client
from ._kpis import kpi_from_partials, networks_from_partials
from ._source import DemandParts, demand_parts
from ._tasks import make_broadcast, merge_partials, nearest_of, partials_of

log = logging.getLogger(__name__)

Engine = Literal["local", "dask"]

QUANTILE_RESOLUTION_M = 1.0
"""Default histogram bin of distance quantiles, metres (see :mod:`relaynet.distributed._kpis`)."""


@dataclass(frozen=True)
class ClusterOptions:
    """How to get a dask cluster for one run.

    Parameters
    ----------
    scheduler
        ``None``: start a LocalCluster for the run; ``"tcp://host:8786"``: use that
        scheduler; or an open ``distributed.Client`` (left open).
    n_workers, threads_per_worker, memory_limit, processes
        LocalCluster settings (ignored with a scheduler). ``memory_limit`` per worker, in
        dask's spelling (``"4GiB"``).
    """

    scheduler: Any = None
    n_workers: int = DEFAULT_WORKERS
    threads_per_worker: int = 1
    memory_limit: str | int | None = DEFAULT_MEMORY_LIMIT
    processes: bool = True

    def client(self):
        """Context manager yielding the ``distributed.Client`` of the run."""
        return run_client(
            self.scheduler,
            n_workers=self.n_workers,
            threads_per_worker=self.threads_per_worker,
            memory_limit=self.memory_limit,
            processes=self.processes,
        )


def _options(cluster: ClusterOptions | None, scheduler: Any) -> ClusterOptions:
    if cluster is None:
        return ClusterOptions(scheduler=scheduler)
    if scheduler is not None:
        raise ParameterError("give either scheduler= or cluster=, not both")
    return cluster


def _tree_reduce(client, futures: list, split_every: int):
    """Merge partial results pairwise-ish on the workers, down to one future."""
    while len(futures) > 1:
        futures = [
            client.submit(merge_partials, *futures[i : i + split_every], pure=False)
            for i in range(0, len(futures), split_every)
        ]
    return futures[0]


def _partition_tasks(parts: DemandParts, function, *args):
    dask, _, _ = require_dask()
    call = dask.delayed(function, pure=False)
    return [call(part, *args) for part in parts.tasks()]


def _rejected_table(pieces) -> pd.DataFrame:
    """Rejected rows of the partitions, in file and line order (``file, row, reason`` and
    the input cells; no row when the source is not read by the loader)."""
    pieces = [p for p in pieces if p is not None]
    if not pieces:
        return pd.DataFrame(
            {
                "file": pd.Series([], dtype="str"),
                "row": pd.Series([], dtype="int64"),
                "reason": pd.Series([], dtype="str"),
            }
        )
    table = pd.concat(pieces, ignore_index=True)
    return table.sort_values(["file", "row"], kind="stable").reset_index(drop=True)


def _rejected_summary(rejected: pd.DataFrame, limit: int = 3) -> str:
    """``"3 demand rows rejected (line 4: missing coordinates; …)"`` (each line preceded by
    its file when the rows come from several)."""
    first = rejected.head(limit)
    files = first["file"] if "file" in first and rejected["file"].nunique() > 1 else None
    listing = "; ".join(
        f"{'' if files is None else f'{files.iloc[i]} '}line {r}: {m}"
        for i, (r, m) in enumerate(zip(first["row"], first["reason"], strict=True))
    )
    more = " …" if len(rejected) > limit else ""
    return f"{len(rejected)} demand rows rejected ({listing}{more})"


def _check_usable(demand: Any, n_accepted: int, rejected: pd.DataFrame) -> None:
    """No accepted row at all is an error, as for the local pipeline."""
    if n_accepted == 0 and len(rejected):
        raise InputError(
            f"{demand}: no usable demand rows ({_rejected_summary(rejected)}; see "
            "relaynet.io.load_demand or `relaynet validate`)"
        )


def nearest(
    demand: Any,
    points: gpd.GeoDataFrame,
    k: int = 1,
    where: Eligibility | np.ndarray | None = None,
    max_distance_m: float | None = None,
    *,
    scheduler: Any = None,
    cluster: ClusterOptions | None = None,
    npartitions: int | None = None,
    output: str | os.PathLike | None = None,
    return_rejected: bool = False,
) -> pd.DataFrame | Path | tuple[pd.DataFrame | Path, pd.DataFrame]:
    """The access table of partitioned demand, computed on a dask cluster.

    Every partition runs :meth:`relaynet.nearest.Locator.nearest` with the same points
    and eligibility mask (evaluated once, on the client, by ``Eligibility.mask``); the
    points are scattered once to every worker, which builds its Locator once and keeps it.

    Parameters
    ----------
    demand
        Demand source: (Geo)Parquet file/directory/glob, delimited text (CSV …) with
        lat/lon in degrees and a ``demand_id`` column under any spelling the local loader
        knows, a GeoDataFrame or a dask dataframe (see :func:`read_demand`). Delimited
        text is read and checked by the local loader's code, partition by partition: rows
        it rejects are left out of the table and reported (``return_rejected``).
    points
        Relay points (canonical schema), small enough for one machine.
    k, where, max_distance_m
        As :meth:`relaynet.nearest.Locator.nearest`.
    scheduler
        ``None`` (a LocalCluster for the run), ``"tcp://host:8786"`` or a Client.
    cluster
        Full :class:`ClusterOptions` (instead of ``scheduler``).
    npartitions
        Repartition the demand to this many partitions.
    output
        Directory for the access table as Parquet parts (``part.00000.parquet`` …),
        written by the workers (it must be reachable from them). Without it, the table is
        gathered and returned — only for demand that fits in memory.
    return_rejected
        Also return the rejected demand rows (``file``, ``row`` = line, ``reason`` and the
        row's cells, as :func:`relaynet.io.load_demand` gives them). Without it, rejected
        rows are reported by a ``UserWarning`` (how many, the first lines and reasons).

    Returns
    -------
    DataFrame (the access table, in demand order) or the output directory; with
    ``return_rejected``, a pair ``(that, rejected rows)``.

    Raises
    ------
    InputError
        Every demand row was rejected.
    """
    k = int(k)
    if k < 1:
        raise ParameterError(f"k={k!r}: expected an integer ≥ 1")
    options = _options(cluster, scheduler)
    broadcast = make_broadcast(points, where)
    parts = demand_parts(demand, npartitions=npartitions).select(["demand_id"])
    out_dir = None
    if output is not None:
        out_dir = Path(output)
        out_dir.mkdir(parents=True, exist_ok=True)
    with options.client() as client:
        shared = client.scatter(broadcast, broadcast=True, hash=False)
        dask, _, _ = require_dask()
        call = dask.delayed(nearest_of, pure=False)
        tasks = [
            call(part, shared, k, max_distance_m, None if out_dir is None else str(out_dir), i)
            for i, part in enumerate(parts.tasks())
        ]
        futures = client.compute(tasks)
        results = client.gather(futures)
    rejected = _rejected_table([r for _, r in results])
    tables = [t for t, _ in results]
    n_rows = sum(tables) if out_dir is not None else sum(len(t) for t in tables)
    _check_usable(demand, n_rows, rejected)
    if len(rejected) and not return_rejected:
        warnings.warn(
            f"{demand}: {_rejected_summary(rejected)}; pass return_rejected=True to get them",
            UserWarning,
            stacklevel=2,
        )
    if out_dir is not None:
        log.info("access table: %d rows written to %s", sum(tables), out_dir)
        table: pd.DataFrame | Path = out_dir
    elif not tables:
        table = pd.DataFrame(columns=list(ACCESS_COLUMNS))
    else:
        table = pd.concat(tables, ignore_index=True)
    return (table, rejected) if return_rejected else table


@dataclass(frozen=True)
class DistributedAssessment:
    """Result of :func:`assess` on the dask engine: the KPI tables of the local
    :class:`relaynet.coverage.Assessment` (same columns, same groups), without the
    per-place tables, which stay distributed.

    Attributes
    ----------
    standard, by, where, drive_estimate, n_points, n_eligible
        As in :class:`relaynet.coverage.Assessment`.
    kpis, by_area, by_density, windows, networks
        Same layout as the local assessment's tables.
    n_places
        Demand places processed (accepted rows).
    rejected
        Demand rows the reader rejected: ``file``, ``row`` (line), ``reason`` and the row's
        cells, as :func:`relaynet.io.load_demand` reports them for the whole file (delimited
        text is read by the same code; other sources: none). They are left out of every
        KPI, as the local engine leaves out the rows its loader rejects; a front end writes
        them out (``rejected.csv``) and ends with exit code 1.
    n_partitions
        Demand partitions (tasks).
    quantile_resolution_m
        Histogram bin of the distance quantiles (metres): ``p50``/``p90`` are the local
        values rounded up to a multiple of it.
    timings
        Seconds per stage (``cluster``, ``compute``).
    """

    standard: Standard
    kpis: pd.DataFrame
    by_area: pd.DataFrame
    by_density: pd.DataFrame
    windows: pd.DataFrame
    networks: pd.DataFrame
    by: str
    where: str
    drive_estimate: DriveEstimate
    n_places: int
    n_points: int
    n_eligible: int
    n_partitions: int
    quantile_resolution_m: float
    drive_time_source: str = "estimated"
    timings: Mapping[str, float] = field(default_factory=dict)
    rejected: pd.DataFrame = field(default_factory=lambda: _rejected_table([]))
    search_limit_m: float | None = SEARCH_LIMIT_M

    @property
    def n_rejected(self) -> int:
        """Demand rows rejected (see :attr:`rejected`)."""
        return len(self.rejected)

    @property
    def share_covered(self) -> float:
        """Share of the total weight covered (0–1)."""
        return float(self.kpis["share_covered"].iloc[0])

    def compliance_table(self, threshold: float = 0.9) -> pd.DataFrame:
        """Pass/fail of "at least ``threshold`` of each area's weight covered", from the
        exact per-area sums.

        Same ``<by>, weight, covered_weight, share_covered, passes, shortfall`` columns and
        order (failing areas first, largest shortfall first) as
        :func:`relaynet.coverage.compliance_table`; the per-place columns (uncovered and
        closing places) need the local engine, which keeps every place in memory.
        """
        from ..coverage.compliance import pass_fail

        areas = self.by_area[["weight", "covered_weight", "share_covered"]]
        out = pass_fail(areas, threshold)
        out.index = out.index.astype(str)
        out.index.name = self.by
        out = out.reset_index().sort_values(
            ["passes", "shortfall", self.by], ascending=[True, False, True]
        )
        columns = [self.by, "weight", "covered_weight", "share_covered", "passes", "shortfall"]
        return out[columns].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: standard, overall, per-class, per-window and per-network KPIs
        (the local :meth:`relaynet.coverage.Assessment.to_dict` layout), engine figures."""
        return {
            "engine": "dask",
            "standard": self.standard.to_dict(),
            "where": self.where,
            "drive_time_source": self.drive_time_source,
            "drive_time_estimate": self.drive_estimate.describe(),
            "n_places": self.n_places,
            "n_points": self.n_points,
            "n_eligible_points": self.n_eligible,
            "n_partitions": self.n_partitions,
            "quantile_resolution_m": self.quantile_resolution_m,
            "overall": kpi_dict(self.kpis.iloc[0]),
            "by_density": {str(k): kpi_dict(r) for k, r in self.by_density.iterrows()},
            "windows": window_kpis_dict(self.windows),
            "networks": networks_records(self.networks),
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
        }


def assess(
    demand: Any,
    points: gpd.GeoDataFrame,
    standard: Standard | str,
    where: Eligibility | np.ndarray | None = None,
    *,
    by: str = "area_id",
    windows: Mapping[str, Eligibility] | None = TIME_WINDOWS,
    drive_estimate: DriveEstimate | None = None,
    density_thresholds: DensityThresholds = DEFAULT_THRESHOLDS,
    scheduler: Any = None,
    cluster: ClusterOptions | None = None,
    npartitions: int | None = None,
    quantile_resolution_m: float = QUANTILE_RESOLUTION_M,
    split_every: int = 8,
    search_limit_m: float | None = SEARCH_LIMIT_M,
) -> DistributedAssessment:
    """Coverage KPIs of partitioned demand on a dask cluster (straight line / estimated drive).

    Same definitions as :func:`relaynet.coverage.assess` without a road network: a place
    is covered when an eligible point lies within the standard's straight-line reach
    (distance, or the estimated drive time turned into a distance). Each partition returns
    additive sums per group and a distance histogram; they are summed in a tree on the
    workers and turned into KPIs once (weights exact; quantiles to
    ``quantile_resolution_m``, see :mod:`relaynet.distributed._kpis`).

    Parameters
    ----------
    demand
        Demand source (see :func:`nearest`): needs ``weight`` (else 1 each) and ``by``;
        ``density_class`` is derived where missing, as in the local path. Delimited text
        rows the local loader rejects are left out and returned in
        :attr:`DistributedAssessment.rejected`.
    points, standard, where, by, windows, drive_estimate, density_thresholds
        As :func:`relaynet.coverage.assess`.
    scheduler, cluster, npartitions
        As :func:`nearest`.
    quantile_resolution_m
        Histogram bin for distance quantiles, metres (> 0).
    split_every
        Partial results merged per reduction task.
    search_limit_m
        As :func:`relaynet.coverage.assess` (100 km by default; ``None``: no limit).

    Returns
    -------
    DistributedAssessment

    Raises
    ------
    InputError
        Unreadable demand, or every demand row rejected.
    """
    started = time.perf_counter()
    if isinstance(standard, str):
        standard = Standard.parse(standard)
    if not isinstance(standard, Standard):
        raise ParameterError(
            f"standard: expected a Standard or text such as '5km', got {standard!r}"
        )
    if not (np.isfinite(quantile_resolution_m) and quantile_resolution_m > 0):
        raise ParameterError(
            f"quantile_resolution_m={quantile_resolution_m!r}: expected metres > 0"
        )
    if int(split_every) < 2:
        raise ParameterError(f"split_every={split_every!r}: expected an integer ≥ 2")
    if windows and "opening_hours" not in points.columns:
        raise ParameterError(
            "points have no 'opening_hours' column: time windows cannot be evaluated "
            "(pass windows=None)"
        )
    estimate = drive_estimate if drive_estimate is not None else DriveEstimate()
    radius = straight_reach_m(standard, estimate)
    options = _options(cluster, scheduler)
    broadcast = make_broadcast(points, where, windows)
    parts = demand_parts(demand, npartitions=npartitions)
    if by not in parts.columns:
        raise ParameterError(f"by={by!r}: demand has no such column; columns are {parts.columns}")
    parts = parts.select(["demand_id", "weight", by, "density_class", "area_km2"])
    with options.client() as client:
        ready = time.perf_counter()
        shared = client.scatter(broadcast, broadcast=True, hash=False)
        tasks = _partition_tasks(
            parts,
            partials_of,
            shared,
            radius,
            by,
            float(quantile_resolution_m),
            estimate,
            density_thresholds,
            check_search_limit(search_limit_m),
        )
        futures = client.compute(tasks)
        partials = _tree_reduce(client, futures, int(split_every)).result()
        computed = time.perf_counter()
    res = float(quantile_resolution_m)
    rejected = _rejected_table([partials.rejected])
    kpis = kpi_from_partials(partials, ("", "all"), res, estimate)
    _check_usable(demand, int(kpis["n_places"].iloc[0]), rejected)
    by_density = kpi_from_partials(partials, ("", "density_class"), res, estimate)
    order = [c for c in (*DENSITY_CLASSES, "unknown") if c in by_density.index]
    base = broadcast.mask
    n_eligible = len(points) if base is None else int(base.sum())
    codes = pd.Index(broadcast.network_names)
    network_of = points["network"] if "network" in points.columns else None
    eligible_per_net = _eligible_per_network(network_of, base, codes, len(points))
    blocks = []
    for name, eligibility in dict(windows or {}).items():
        overall = kpi_from_partials(partials, (str(name), "all"), res, estimate)
        per_class = kpi_from_partials(partials, (str(name), "density_class"), res, estimate)
        blocks.append((name, eligibility, pd.concat([overall, per_class.reindex(order)])))
    window_table = windows_table(blocks, kpis.columns)
    if isinstance(where, Eligibility):
        described = where.describe()
    else:
        described = "all points" if where is None else f"custom mask ({n_eligible} points)"
    return DistributedAssessment(
        standard=standard,
        kpis=kpis,
        by_area=kpi_from_partials(partials, ("", by), res, estimate),
        by_density=by_density.reindex(order),
        windows=window_table,
        networks=networks_from_partials(
            partials, broadcast.network_names, eligible_per_net, float(kpis["weight"].iloc[0])
        ),
        by=by,
        where=described,
        drive_estimate=estimate,
        n_places=int(kpis["n_places"].iloc[0]),
        n_points=len(points),
        n_eligible=n_eligible,
        n_partitions=len(tasks),
        quantile_resolution_m=res,
        timings=MappingProxyType(
            {
                "cluster": ready - started,
                "compute": computed - ready,
                "total": time.perf_counter() - started,
            }
        ),
        rejected=rejected,
        search_limit_m=check_search_limit(search_limit_m),
    )


def _eligible_per_network(network, base, names: pd.Index, n: int) -> np.ndarray:
    from ..coverage.networks import network_codes

    frame = (
        pd.DataFrame({"network": network}) if network is not None else pd.DataFrame(index=range(n))
    )
    codes, _ = network_codes(frame)
    mask = np.ones(n, dtype=bool) if base is None else base
    return np.bincount(codes[mask], minlength=len(names))


# -- engine switch ----------------------------------------------------------------------------


def _check_engine(engine: str) -> None:
    if engine not in ("local", "dask"):
        raise ParameterError(f"engine={engine!r}: expected 'local' or 'dask'")


def run_nearest(
    demand: Any,
    points: gpd.GeoDataFrame,
    k: int = 1,
    where: Eligibility | np.ndarray | None = None,
    max_distance_m: float | None = None,
    *,
    engine: Engine = "local",
    scheduler: Any = None,
    cluster: ClusterOptions | None = None,
    **dask_kwargs: Any,
) -> pd.DataFrame | Path:
    """Access table with the chosen engine: ``"local"`` (in memory) or ``"dask"``.

    ``demand`` is a GeoDataFrame or a path; both engines read a path with the local loader's
    code (:func:`relaynet.io.load_demand`) and leave out the rows it rejects, reported by a
    ``UserWarning`` (on the dask engine, ``return_rejected=True`` returns them instead).
    Extra keyword arguments go to :func:`nearest` on the dask engine.
    """
    _check_engine(engine)
    if engine == "dask":
        return nearest(
            demand,
            points,
            k,
            where,
            max_distance_m,
            scheduler=scheduler,
            cluster=cluster,
            **dask_kwargs,
        )
    from ..nearest import Locator

    return Locator(points).nearest(
        _load_local(demand), k=k, where=where, max_distance_m=max_distance_m
    )


def run_assess(
    demand: Any,
    points: gpd.GeoDataFrame,
    standard: Standard | str,
    where: Eligibility | np.ndarray | None = None,
    *,
    engine: Engine = "local",
    scheduler: Any = None,
    cluster: ClusterOptions | None = None,
    **kwargs: Any,
):
    """Coverage with the chosen engine: :func:`relaynet.coverage.assess` or :func:`assess`.

    Rows of a demand file the loader rejects are left out: the dask engine returns them
    (:attr:`DistributedAssessment.rejected`), the local engine reports them by a
    ``UserWarning``.
    """
    _check_engine(engine)
    if engine == "dask":
        return assess(
            demand, points, standard, where, scheduler=scheduler, cluster=cluster, **kwargs
        )
    from ..coverage import assess as local_assess

    return local_assess(_load_local(demand), points, standard, where, **kwargs)


def _load_local(demand: Any) -> gpd.GeoDataFrame:
    if isinstance(demand, gpd.GeoDataFrame):
        return demand
    if isinstance(demand, str | os.PathLike):
        from ..io import load_demand

        frame, rejected = load_demand(demand)
        if len(rejected):
            warnings.warn(f"{demand}: {_rejected_summary(rejected)}", UserWarning, stacklevel=3)
        return frame
    raise ParameterError(
        f"demand: the local engine needs a GeoDataFrame or a file path, got {type(demand).__name__}"
    )


__all__ = [
    "ClusterOptions",
    "DistributedAssessment",
    "QUANTILE_RESOLUTION_M",
    "assess",
    "nearest",
    "run_assess",
    "run_nearest",
]
