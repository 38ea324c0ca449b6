"""The one coverage pipeline behind ``relaynet coverage``, ``relaynet report`` and the demo.

load → assess (base eligibility + the time windows built from it) → gaps → compliance →
travel burden → published comparison → optional optimisation, then one ``kpis.json``
document and one set of tables (:mod:`relaynet.report.outputs`). The CLI commands and
:func:`relaynet.write_report` only choose which files to write around it, so a fix lands
once and "covered" means one thing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import datasets
from ..eligibility import Eligibility
from ..errors import InputError, ParameterError
from ..io import (
    as_within,
    load_demand,
    parse_within,
    reject_outside,
)
from ..standard import Standard

log = logging.getLogger(__name__)

DEFAULT_STANDARD = "5km"
"""The standard every command uses unless told otherwise: 5 km in a straight line, the
distance La Poste publishes its accessibility figures for. "20 min by car" needs a road
graph (or the documented straight-line estimate) to mean something, so it is opt-in."""

OPTIMIZE_MODELS = ("mclp", "lscp", "pmedian", "backup")
"""Models the report's optimisation accepts (see :func:`relaynet.optimize.solve`)."""

AREA_ALIASES = ("departement", "département", "department", "dept")
"""Spellings of ``by`` that mean the bundled communes' ``area_id`` (the département)."""

BUNDLED = {"points": "laposte_points.parquet", "demand": "communes_demand.parquet"}


def area_column(by: str, demand: pd.DataFrame) -> str:
    """The demand column that ``by`` names (``"departement"`` … mean ``area_id``)."""
    if by in demand.columns:
        return by
    if by.lower() in AREA_ALIASES and "area_id" in demand.columns:
        return "area_id"
    raise ParameterError(
        f"by={by!r}: demand has no such column; columns are {list(demand.columns)}"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_input(source, role: str, *, bundled: bool = False, within=None):
    """Accepted rows, rejected rows (with ``source`` and ``file``) and an input record.

    Parameters
    ----------
    source
        A file path (read leniently), a GeoDataFrame in the canonical schema, or ``None``
        with ``bundled=True`` for the bundled data of that role.
    role
        ``"points"`` or ``"demand"``.
    within
        Area the rows must lie in (see :func:`relaynet.io.load_points`); rows outside are
        rejected, also from a GeoDataFrame.
    """
    from ..formats import PointFiles, load_points

    loader = load_points if role == "points" else load_demand
    if isinstance(source, gpd.GeoDataFrame):
        accepted, rejected = reject_outside(source, pd.DataFrame(), within)
        record = {"role": role, "path": None, "rows": len(source)}
        if len(rejected):
            record.update(accepted=len(accepted), rejected=len(rejected))
            rejected.insert(0, "file", "<GeoDataFrame>")
            rejected.insert(0, "source", role)
        return accepted, rejected, record
    if isinstance(source, PointFiles):  # several files, a folder, a format (CLI --points …)
        return _load_point_files(source, role, within)
    from_bundle = source is None
    if from_bundle:
        if not bundled:
            raise ParameterError(f"{role}: a file path or a GeoDataFrame is required")
        source = datasets.path(BUNDLED[role])
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: {role} file not found")
    accepted, rejected = loader(path, within=within)
    if len(accepted) == 0:
        raise InputError(f"{path}: no usable {role} rows ({len(rejected)} rejected)")
    record = {
        "role": role,
        "path": f"bundled:{path.name}" if from_bundle else str(path),
        "sha256": _sha256(path),
        "bytes": path.stat().st_size,
        "rows_read": int(len(accepted) + len(rejected)),
        "accepted": int(len(accepted)),
        "rejected": int(len(rejected)),
    }
    if len(rejected):
        rejected = rejected.copy()
        rejected.insert(0, "file", str(path))
        rejected.insert(0, "source", role)
    return accepted, rejected, record


def _load_point_files(files, role: str, within=None):
    """:func:`load_input` of several points files (or one with a format, columns or
    defaults): one table whose rows keep their ``source_file``."""
    accepted, rejected = reject_outside(*files.load(), within)
    name = ", ".join(files.paths)
    if len(accepted) == 0:
        raise InputError(f"{name}: no usable {role} rows ({len(rejected)} rejected)")
    record = {
        "role": role,
        "path": name,
        "format": files.format,
        "files": [
            {"path": p, "sha256": _sha256(Path(p)), "bytes": Path(p).stat().st_size}
            for p in files.paths
            if Path(p).is_file()
        ],
        "rows_read": int(len(accepted) + len(rejected)),
        "accepted": int(len(accepted)),
        "rejected": int(len(rejected)),
    }
    if len(rejected):
        rejected = rejected.copy()
        files_column = rejected.pop("source_file") if "source_file" in rejected else name
        rejected.insert(0, "file", files_column)
        rejected.insert(0, "source", role)
    return accepted, rejected, record


@dataclass(frozen=True)
class CoverageRun:
    """Everything one pipeline run produced (what the files and pages are written from).

    ``where`` is the base eligibility (``None``: every point); the time windows were built
    with its ``unknown_hours`` policy. ``published`` is La Poste's published comparison
    when the run is about La Poste over French communes, else ``None``.
    """

    points: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    rejected: pd.DataFrame
    inputs: list[dict]
    area: str
    standard: Standard
    where: Eligibility | None
    threshold: float
    assessment: Any
    gaps: gpd.GeoDataFrame
    compliance: pd.DataFrame
    burden: pd.DataFrame
    published: pd.DataFrame | None = None
    solution: Any = None
    parameters: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def windows_for(where: Eligibility | None, windows: bool | Mapping[str, Eligibility]):
    """The four standard time windows under the same unknown-hours policy as ``where``
    (``windows=True``), none (``False``), or the ``{name: Eligibility}`` given as is."""
    from ..coverage.windows import time_windows

    if isinstance(windows, Mapping):
        return dict(windows) or None
    if not windows:
        return None
    policy = where.unknown_hours if where is not None else "exclude"
    return time_windows(unknown_hours=policy)


def run_coverage(
    points,
    demand,
    standard: Standard | str = DEFAULT_STANDARD,
    *,
    by: str = "area_id",
    where: Eligibility | None = None,
    threshold: float = 0.9,
    windows: bool | Mapping[str, Eligibility] = True,
    eps_m: float | None = None,
    optimize: str | None = None,
    p: int | None = None,
    time_limit: float = 60.0,
    costs=None,
    within=None,
    bundled: bool = False,
    progress: Callable[[str], None] | None = None,
) -> CoverageRun:
    """Load, assess, find gaps, check compliance, measure the travel burden, optimise.

    Parameters
    ----------
    points, demand
        File paths (read leniently: unusable rows are kept in ``rejected``), GeoDataFrames
        in the canonical schema, or ``None`` with ``bundled=True`` for the bundled data.
    standard
        Service standard (``"5km"``, ``"20min"``, ``"5km|20min"``); default
        :data:`DEFAULT_STANDARD`.
    by
        Demand column for per-area tables (``"departement"`` is an alias of ``area_id``).
    where
        Base eligibility of the points; its ``unknown_hours`` policy also applies to the
        time windows. ``None``: every point, unknown hours excluded from the windows.
    threshold
        Share of each area's weight that must be covered (0.9: the French postal rule).
    windows
        Assess the four standard time windows too (or the ``{name: Eligibility}`` given).
    eps_m
        Gap clustering radius, metres (default: the standard's distance).
    optimize, p, time_limit
        Optional siting model, number of new sites and solver limit (seconds); the
        candidates are the demand places, existing eligible points stay open.
    costs
        Your own travel costs (:class:`relaynet.costs.CostTable`, e.g. from
        :func:`relaynet.costs.read_costs`): assessment and optimisation both use them
        (for the optimisation, ``point_id`` must name the candidates too, ``cand:<demand_id>``).
        ``None``: straight line, road distance and drive time estimated.
    within
        Reject points and demand outside an area (``"FR"``, a boundary file, polygons: see
        :func:`relaynet.io.load_points`), or points farther than a distance from every
        demand place: ``("demand", 20_000)`` or ``"demand:20km"`` (the demand is not
        filtered then). ``None``: no area check.
    progress
        Called with each stage name.
    """
    from ..coverage import assess, compliance_table, find_gaps, travel_burden

    if isinstance(standard, str):
        standard = Standard.parse(standard)
    if not 0 < threshold <= 1:
        raise ParameterError(f"threshold={threshold!r}: expected a share in (0, 1]")
    if optimize is not None:
        optimize = optimize.lower()
        if optimize not in OPTIMIZE_MODELS:
            raise ParameterError(f"optimize={optimize!r}: expected one of {OPTIMIZE_MODELS}")
        if optimize in ("mclp", "pmedian", "backup") and (p is None or p < 1):
            raise ParameterError(f"optimize={optimize!r} needs p ≥ 1 (number of new sites)")
    timings: dict[str, float] = {}
    clock = [time.perf_counter(), ""]

    def stage(name: str) -> None:
        now = time.perf_counter()
        if clock[1]:
            timings[clock[1]] = round(now - clock[0], 3)
        clock[0], clock[1] = now, name
        if progress is not None:
            progress(name)
        log.info("coverage: %s", name)

    stage("load")
    spec = parse_within(within) if isinstance(within, str) else within
    around = isinstance(spec, tuple)  # ("demand", metres): points near the demand
    region = None if around else as_within(spec)
    demand_gdf, demand_rejected, demand_record = load_input(
        demand, "demand", bundled=bundled, within=region
    )
    region = as_within(spec, demand=demand_gdf) if around else region
    points_gdf, points_rejected, points_record = load_input(
        points, "points", bundled=bundled, within=region
    )
    area = area_column(by, demand_gdf)
    parts = [r for r in (points_rejected, demand_rejected) if len(r)]
    rejected = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rejected.empty:
        rejected = pd.DataFrame(columns=["source", "file", "row", "reason"])

    stage("assess")
    base = where if where is not None and not where.is_empty else None
    assessment = assess(
        demand_gdf,
        points_gdf,
        standard,
        base,
        by=area,
        windows=windows_for(where, windows),
        costs=costs,
    )

    stage("gaps")
    gaps = find_gaps(assessment, eps_m=eps_m)
    compliance = compliance_table(assessment, threshold)
    burden = travel_burden(assessment)
    published = _published(assessment, points_gdf, threshold)

    solution = None
    if optimize:
        stage("optimize")
        solution = _optimize(demand_gdf, points_gdf, standard, optimize, p, time_limit, base, costs)
    stage("")
    parameters = {
        "standard": standard.to_dict(),
        "by": area,
        "where": base.describe() if base is not None else "all points",
        "unknown_hours": where.unknown_hours if where is not None else "exclude",
        "threshold": threshold,
        "windows": windows
        if isinstance(windows, bool)
        else {name: w.describe() for name, w in windows.items()},
        "eps_m": eps_m,
        "optimize": optimize,
        "p": p,
        "time_limit_s": time_limit if optimize else None,
        "within": region.describe() if region is not None else None,
        "travel_costs": assessment.travel_costs,
    }
    return CoverageRun(
        points=points_gdf,
        demand=demand_gdf,
        rejected=rejected,
        inputs=[points_record, demand_record],
        area=area,
        standard=standard,
        where=base,
        threshold=threshold,
        assessment=assessment,
        gaps=gaps,
        compliance=compliance,
        burden=burden,
        published=published,
        solution=solution,
        parameters=parameters,
        timings=timings,
    )


def _optimize(demand, points, standard, model, p, time_limit, base, costs=None):
    """New sites among the demand places, existing (eligible) points kept open.

    Uncapacitated: a ``capacity`` column in the points file is ignored here (its unit is
    not known to the report); ``relaynet optimize --demand-rate`` takes capacities.
    """
    from ..optimize import candidates_from_demand, solve

    existing = points if base is None else points.loc[base.mask(points)]
    existing = existing.assign(capacity=np.nan)
    return solve(
        demand,
        candidates_from_demand(demand),
        standard,
        model=model,
        existing=existing,
        p=p,
        time_limit=time_limit,
        costs=costs,
    )


def _published(assessment, points: pd.DataFrame, threshold: float) -> pd.DataFrame | None:
    """La Poste's published accessibility figures beside ours, when the run is about La
    Poste's network over French communes (INSEE codes as ``demand_id``); else None."""
    from ..coverage import published_comparison

    ids = assessment.access["demand_id"].astype(str)
    insee_like = ids.str.fullmatch(r"[0-9][0-9AB][0-9]{3}").mean() > 0.95
    la_poste = "network" in points and (points["network"] == "la_poste").mean() > 0.5
    if not (insee_like and la_poste and len(ids) > 100):
        return None
    return published_comparison(assessment, threshold=threshold)


__all__ = [
    "AREA_ALIASES",
    "DEFAULT_STANDARD",
    "OPTIMIZE_MODELS",
    "CoverageRun",
    "area_column",
    "load_input",
    "run_coverage",
    "windows_for",
]
