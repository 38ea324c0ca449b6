"""``write_report``: the whole batch coverage report, one public function (the CLI calls it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm import tqdm

from ..eligibility import Eligibility
from ..errors import InputError, ParameterError
from ..io import load_demand, load_points, write_csv, write_geojson, write_json
from ..standard import Standard
from .folder import report_folder

log = logging.getLogger(__name__)

OPTIMIZE_MODELS = ("mclp", "lscp", "pmedian", "backup")
"""Models ``--optimize`` accepts (see :func:`relaynet.optimize.solve`)."""

REPORT_FILES = (
    "index.html",
    "map.html",
    "access.csv",
    "gaps.geojson",
    "gaps.csv",
    "kpis.json",
    "rejected.csv",
    "run.json",
)
"""Files every report folder holds (plus ``sites.csv`` when optimizing)."""


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    folder
        The report folder.
    n_rejected
        Input rows not used (listed in ``rejected.csv``).
    assessment, gaps, compliance, solution
        The results shown in the report (``solution`` is ``None`` without ``optimize``).
    timings
        Seconds per stage.
    """

    folder: Path
    n_rejected: int
    assessment: Any
    gaps: gpd.GeoDataFrame
    compliance: pd.DataFrame
    solution: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def index(self) -> Path:
        """Path of ``index.html``."""
        return self.folder / "index.html"

    @property
    def exit_code(self) -> int:
        """0 when every input row was used, 1 when some were rejected."""
        return 1 if self.n_rejected else 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load(source, loader, role: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict]:
    """Accepted rows, rejected rows (with ``source`` and ``file``) and an input record."""
    if isinstance(source, gpd.GeoDataFrame):
        return source, pd.DataFrame(), {"role": role, "path": None, "rows": len(source)}
    if source is None:
        raise ParameterError(f"{role}: a file path or a GeoDataFrame is required")
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: {role} file not found")
    accepted, rejected = loader(path)
    if len(accepted) == 0:
        raise InputError(f"{path}: no usable {role} rows ({len(rejected)} rejected)")
    record = {
        "role": role,
        "path": str(path),
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


def _area_column(by: str, demand: gpd.GeoDataFrame) -> str:
    if by in demand.columns:
        return by
    if by in ("departement", "department", "département") and "area_id" in demand.columns:
        return "area_id"
    raise ParameterError(
        f"by={by!r}: demand has no such column; columns are {list(demand.columns)}"
    )


def write_report(
    out: str | os.PathLike,
    *,
    points,
    demand,
    standard: Standard | str = "5km",
    by: str = "area_id",
    where: Eligibility | None = None,
    threshold: float = 0.9,
    optimize: str | None = None,
    p: int | None = None,
    time_limit: float = 60.0,
    when=None,
    offline: bool = False,
    windows: bool = True,
    title: str | None = None,
    quiet: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run a coverage analysis and write a complete report folder.

    Parameters
    ----------
    out
        Report folder. Written to a temporary folder next to it, then renamed into place
        (an existing report there is replaced only once the new one is complete).
    points, demand
        File paths (read leniently: unusable rows go to ``rejected.csv``) or GeoDataFrames
        already in the canonical schema.
    standard
        Service standard (``"5km"``, ``"20min"``, ``"5km|20min"``).
    by
        Demand column for per-area tables (``"departement"`` is an alias of ``area_id``).
    where
        Base eligibility of the points (filters); ``None`` for every point.
    threshold
        Share of each area's weight that must be covered (0.9: the French postal rule).
    optimize, p
        Optional siting model (``"mclp"`` …) and number of new sites; candidates are the
        demand places themselves, existing points stay open.
    time_limit
        Solver time limit, seconds.
    when
        Datetime of the open/closed status in map popups (default: now).
    offline
        Inline the map's JavaScript/CSS so ``map.html`` works without internet.
    windows
        Compute the four standard time windows.
    title
        Report title.
    quiet
        No progress bar (the library default; the CLI shows one unless ``--quiet``).
    progress
        Called with each stage name (in addition to the progress bar).

    Returns
    -------
    Report
        Paths, counts and results; ``exit_code`` is 1 when input rows were rejected.

    Raises
    ------
    InputError
        An input is unusable (unreadable, no usable rows).
    ParameterError
        Bad parameters (unknown model, missing ``p`` …).
    """
    from ..coverage import assess, compliance_table, find_gaps
    from ..coverage.windows import time_windows
    from ..maps import coverage_map, save_map
    from .html import render_index

    started = dt.datetime.now(dt.UTC)
    if isinstance(standard, str):
        standard = Standard.parse(standard)
    if optimize is not None:
        optimize = optimize.lower()
        if optimize not in OPTIMIZE_MODELS:
            raise ParameterError(f"optimize={optimize!r}: expected one of {OPTIMIZE_MODELS}")
        if optimize in ("mclp", "pmedian", "backup") and (p is None or p < 1):
            raise ParameterError(f"optimize={optimize!r} needs p ≥ 1 (number of new sites)")
    if not 0 < threshold <= 1:
        raise ParameterError(f"threshold={threshold!r}: expected a share in (0, 1]")
    timings: dict[str, float] = {}
    stages = ["load", "assess", "gaps", "map", "write"] + (["optimize"] if optimize else [])
    bar = tqdm(total=len(stages), desc="report", disable=quiet, file=sys.stderr, leave=False)
    clock = [time.perf_counter(), ""]

    def stage(name: str) -> None:
        now = time.perf_counter()
        if clock[1]:
            timings[clock[1]] = round(now - clock[0], 3)
            bar.update(1)
        clock[0], clock[1] = now, name
        bar.set_description(name)
        if progress is not None:
            progress(name)
        log.info("report: %s", name)

    try:
        stage("load")
        points_gdf, points_rejected, points_record = _load(points, load_points, "points")
        demand_gdf, demand_rejected, demand_record = _load(demand, load_demand, "demand")
        area = _area_column(by, demand_gdf)
        rejected = pd.concat(
            [r for r in (points_rejected, demand_rejected) if len(r)] or [pd.DataFrame()],
            ignore_index=True,
        )
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
            windows=time_windows() if windows else None,
        )

        stage("gaps")
        gaps = find_gaps(assessment)
        compliance = compliance_table(assessment, threshold)
        published = _published(assessment, points_gdf, threshold)

        solution = None
        if optimize:
            stage("optimize")
            solution = _optimize(
                demand_gdf, points_gdf, assessment, standard, optimize, p, time_limit, base
            )

        stage("map")
        m = coverage_map(assessment, points=points_gdf, gaps=gaps, solution=solution, when=when)

        stage("write")
        with report_folder(out) as tmp:
            save_map(m, tmp / "map.html", offline=offline)
            write_csv(assessment.access, tmp / "access.csv")
            write_geojson(gaps, tmp / "gaps.geojson")
            write_csv(gaps, tmp / "gaps.csv")
            write_csv(rejected, tmp / "rejected.csv")
            if solution is not None:
                write_csv(solution.sites, tmp / "sites.csv")
            kpis = assessment.to_dict()
            kpis["threshold"] = threshold
            kpis["compliance"] = {
                "areas": int(len(compliance)),
                "passing": int(compliance["passes"].sum()),
                "failing": compliance.loc[~compliance["passes"], area].astype(str).tolist(),
            }
            kpis["gaps"] = {
                "zones": int(len(gaps)),
                "uncovered_weight": float(gaps["uncovered_weight"].sum()) if len(gaps) else 0.0,
            }
            if solution is not None:
                kpis["optimization"] = _solution_summary(solution)
            if published is not None:
                kpis["published_comparison"] = published.to_dict("records")
            write_json(kpis, tmp / "kpis.json")
            index = render_index(
                assessment=assessment,
                compliance=compliance,
                gaps=gaps,
                solution=solution,
                rejected=rejected,
                inputs=[points_record, demand_record],
                area=area,
                threshold=threshold,
                title=title,
                generated=started,
                offline=offline,
                published=published,
            )
            (tmp / "index.html").write_text(index, encoding="utf-8")
            timings["write"] = round(time.perf_counter() - clock[0], 3)
            run = {
                "relaynet_version": _version(),
                "python": platform.python_version(),
                "folium_version": folium.__version__,
                "started_utc": started.isoformat(timespec="seconds"),
                "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "inputs": [points_record, demand_record],
                "parameters": {
                    "standard": standard.label,
                    "distance_m": standard.distance_m,
                    "drive_s": standard.drive_s,
                    "combine": standard.combine,
                    "by": area,
                    "where": base.describe() if base is not None else "all points",
                    "threshold": threshold,
                    "optimize": optimize,
                    "p": p,
                    "time_limit_s": time_limit if optimize else None,
                    "windows": windows,
                    "offline_map": offline,
                    "when": str(when) if when is not None else None,
                },
                "timings_s": timings,
                "n_rejected": int(len(rejected)),
                "exit_code": 1 if len(rejected) else 0,
                "files": sorted([*REPORT_FILES, *(["sites.csv"] if solution is not None else [])]),
            }
            write_json(run, tmp / "run.json")
        bar.update(1)
    finally:
        bar.close()
    return Report(
        folder=Path(out),
        n_rejected=int(len(rejected)),
        assessment=assessment,
        gaps=gaps,
        compliance=compliance,
        solution=solution,
        timings=timings,
    )


def _version() -> str:
    from .. import __version__

    return __version__


def _optimize(demand, points, assessment, standard, model, p, time_limit, base):
    """New sites among the demand places, existing (eligible) points kept open.

    Uncapacitated: a ``capacity`` column in the points file is ignored here (its unit is
    not known to the report); ``relaynet optimize --demand-rate`` takes capacities.
    """

    from ..optimize import candidates_from_demand, solve

    existing = points if base is None else points.loc[base.mask(points)]
    existing = existing.assign(capacity=np.nan)
    candidates = candidates_from_demand(demand)
    return solve(
        demand,
        candidates,
        standard,
        model=model,
        existing=existing,
        p=p,
        time_limit=time_limit,
    )


def _solution_summary(solution) -> dict:
    return {
        "model": solution.model,
        "status": solution.status,
        "solver": solution.solver,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "greedy_objective": solution.greedy_objective,
        "n_sites": int(len(solution.sites)),
        "covered_weight_before": solution.covered_weight_before,
        "covered_weight_after": solution.covered_weight_after,
        "wall_s": solution.wall_s,
    }


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
