"""What a coverage run writes: the one ``kpis.json`` document (:data:`KPIS_SCHEMA`), the
data tables in the chosen format, and ``run.json`` — the same from ``relaynet coverage``,
``relaynet report``, the demo, the comparison report and the dask engine.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import ParameterError
from ..io import write_csv, write_geojson, write_json
from .pipeline import CoverageRun

KPIS_SCHEMA = "relaynet.kpis/1"
"""Identifier of the ``kpis.json`` layout (bumped when a key changes meaning)."""


def compliance_summary(compliance: pd.DataFrame, area: str, threshold: float) -> dict:
    """``{"threshold", "areas", "passing", "failing": [area ids]}`` of a compliance table."""
    return {
        "threshold": threshold,
        "areas": int(len(compliance)),
        "passing": int(compliance["passes"].sum()),
        "failing": compliance.loc[~compliance["passes"], area].astype(str).tolist(),
    }


def solution_summary(solution) -> dict:
    """The JSON summary of an optimisation (``bound``/``gap`` null when not proven)."""
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
    }


def solution_timings(solution) -> dict[str, float]:
    """Seconds of an optimisation (``wall_s``, then each measured phase such as ``lp_s``)
    for ``run.json``: the only values of a solution that differ between identical runs."""
    phases = {
        k: round(float(v), 4)
        for k, v in sorted((solution.stats or {}).items())
        if k.endswith("_s") and isinstance(v, int | float)
    }
    return {"wall_s": round(float(solution.wall_s), 4), **phases}


def kpis_document(
    assessment,
    compliance: pd.DataFrame,
    area: str,
    threshold: float,
    *,
    gaps: gpd.GeoDataFrame | None = None,
    burden: pd.DataFrame | None = None,
    published: pd.DataFrame | None = None,
    solution=None,
) -> dict:
    """The ``kpis.json`` document (:data:`KPIS_SCHEMA`), the same from every front end.

    Keys: ``schema``, ``engine`` (``local``/``dask``), ``by``, then the assessment's own
    (``standard`` as :meth:`Standard.to_dict`, ``where``, ``drive_time_source``,
    ``overall``, ``by_density``, ``windows``, ``networks`` …), ``compliance``
    (``threshold``, ``areas``, ``passing``, ``failing``), and when available ``gaps``,
    ``travel_burden``, ``published_comparison`` and ``optimization``. Shares are in
    [0, 1], distances in metres, times in seconds; unknown values are ``null``. No
    timings: they are in ``run.json``, so identical runs write identical documents.
    """
    from ..coverage.kpis import kpi_dict

    doc: dict[str, Any] = {"schema": KPIS_SCHEMA, "engine": "local", "by": area}
    doc.update(assessment.to_dict())
    doc.pop("timings_s", None)  # timings live in run.json: identical runs, identical kpis.json
    doc["compliance"] = compliance_summary(compliance, area, threshold)
    if gaps is not None:
        doc["gaps"] = {
            "zones": int(len(gaps)),
            "uncovered_weight": float(gaps["uncovered_weight"].sum()) if len(gaps) else 0.0,
        }
    if burden is not None and len(burden):
        row = burden.iloc[0]
        doc["travel_burden"] = kpi_dict(row.drop(["distance_source"]))
        doc["travel_burden"]["distance_source"] = str(row["distance_source"])
    if published is not None:
        doc["published_comparison"] = published.to_dict("records")
    if solution is not None:
        doc["optimization"] = solution_summary(solution)
    return doc


def run_kpis(run: CoverageRun) -> dict:
    """:func:`kpis_document` of a pipeline run."""
    return kpis_document(
        run.assessment,
        run.compliance,
        run.area,
        run.threshold,
        gaps=run.gaps,
        burden=run.burden,
        published=run.published,
        solution=run.solution,
    )


ACCESS_FORMATS = ("csv", "parquet", "xlsx", "gpkg")
"""Values of ``write_tables(access_format=…)`` and ``relaynet coverage --format``."""


def kpis_table(doc: Mapping[str, Any]) -> pd.DataFrame:
    """The ``overall``, ``by_density`` and ``windows`` KPIs of a ``kpis.json`` document
    (:func:`kpis_document`) as one flat table, one row per group.

    Columns: ``section`` (``overall``, ``by_density`` or ``windows``), ``window`` (empty
    outside ``windows``), ``description`` (the window's, else the base eligibility),
    ``group`` (``all`` or a density class), then the KPIs as in ``kpis.json``.
    """
    rows: list[dict[str, Any]] = []
    where = doc.get("where") or ""

    def add(section: str, window: str, description: str, group: str, kpis) -> None:
        rows.append(
            {
                "section": section,
                "window": window,
                "description": description,
                "group": group,
                **kpis,
            }
        )

    add("overall", "", where, "all", doc.get("overall") or {})
    for group, kpis in (doc.get("by_density") or {}).items():
        add("by_density", "", where, group, kpis)
    for window, groups in (doc.get("windows") or {}).items():
        description = groups.get("description") or ""
        for group, kpis in groups.items():
            if isinstance(kpis, Mapping):
                add("windows", window, description, group, kpis)
    return pd.DataFrame(rows)


def write_tables(folder: Path, run: CoverageRun, *, access_format: str = "csv") -> list[str]:
    """Write the data files of a run into ``folder``; the names written, sorted.

    ``gaps.geojson``, ``gaps.csv``, ``compliance.csv``, ``rejected.csv``, ``kpis.json``,
    with an optimisation ``sites.csv``, and the per-place access table by
    ``access_format`` (one of :data:`ACCESS_FORMATS`):

    - ``"csv"``: ``access.csv``; ``"parquet"``: ``access.parquet``;
    - ``"xlsx"``: ``coverage.xlsx`` (:func:`relaynet.io.write_xlsx`), sheets ``access``,
      ``kpis`` (:func:`kpis_table`), ``by_area``, ``gaps`` (without the polygons: those are
      in ``gaps.geojson``), ``compliance`` and ``rejected``;
    - ``"gpkg"``: ``coverage.gpkg`` (:func:`relaynet.io.write_gpkg`), layers ``access``
      (points at each place), ``gaps`` (polygons) and ``compliance`` (attributes only).
    """
    from ..io import atomic_path, write_gpkg, write_xlsx

    if access_format not in ACCESS_FORMATS:
        raise ParameterError(
            f"access_format={access_format!r}: expected one of {', '.join(ACCESS_FORMATS)}"
        )
    access = run.assessment.access
    files = ["gaps.geojson", "gaps.csv", "compliance.csv", "rejected.csv", "kpis.json"]
    kpis = run_kpis(run)
    if access_format == "parquet":
        with atomic_path(folder / "access.parquet") as tmp:
            access.to_parquet(tmp, index=False)
        files.append("access.parquet")
    elif access_format == "csv":
        write_csv(access, folder / "access.csv")
        files.append("access.csv")
    elif access_format == "xlsx":
        sheets = {
            "access": access,
            "kpis": kpis_table(kpis),
            "by_area": run.assessment.by_area.reset_index(),
            "gaps": pd.DataFrame(run.gaps).drop(columns=run.gaps.geometry.name),
            "compliance": run.compliance,
            "rejected": run.rejected,
        }
        write_xlsx(sheets, folder / "coverage.xlsx")
        files.append("coverage.xlsx")
    else:
        places = gpd.points_from_xy(access["lon"], access["lat"], crs="EPSG:4326")
        layers = {
            "access": gpd.GeoDataFrame(access, geometry=places),
            "gaps": run.gaps,
            "compliance": run.compliance,
        }
        write_gpkg(layers, folder / "coverage.gpkg")
        files.append("coverage.gpkg")
    write_geojson(run.gaps, folder / "gaps.geojson")
    write_csv(run.gaps, folder / "gaps.csv")
    write_csv(run.compliance, folder / "compliance.csv")
    write_csv(run.rejected, folder / "rejected.csv")
    if run.solution is not None:
        write_csv(run.solution.sites, folder / "sites.csv")
        files.append("sites.csv")
    write_json(kpis, folder / "kpis.json")
    return sorted(files)


def _run_timings(run) -> dict[str, Any]:
    """Seconds of a run: its pipeline stages, then ``assess_stages`` (the stages of
    :func:`relaynet.coverage.assess`) and ``optimization`` (:func:`solution_timings`)."""
    out: dict[str, Any] = dict(run.timings)
    stages = getattr(getattr(run, "assessment", None), "timings", None)
    if stages:
        out["assess_stages"] = {k: round(float(v), 4) for k, v in stages.items()}
    if getattr(run, "solution", None) is not None:
        out["optimization"] = solution_timings(run.solution)
    return out


def write_run_record(
    folder: Path,
    run: CoverageRun,
    *,
    started: dt.datetime,
    files: list[str],
    extra: dict | None = None,
) -> None:
    """Write ``run.json``: version, inputs with SHA-256, parameters, timings, files.

    Timings and the start/finish times are the only values that differ between two
    identical runs.
    """
    import folium

    from .. import __version__

    record = {
        "relaynet_version": __version__,
        "python": platform.python_version(),
        "folium_version": folium.__version__,
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "inputs": run.inputs,
        "parameters": {**run.parameters, **(extra or {})},
        "timings_s": _run_timings(run),
        "n_rejected": int(len(run.rejected)),
        "exit_code": 1 if len(run.rejected) else 0,
        "files": sorted({*files, "run.json"}),
    }
    write_json(record, folder / "run.json")


__all__ = [
    "ACCESS_FORMATS",
    "KPIS_SCHEMA",
    "compliance_summary",
    "kpis_document",
    "kpis_table",
    "run_kpis",
    "solution_summary",
    "solution_timings",
    "write_run_record",
    "write_tables",
]
