"""``relaynet coverage``: who is covered by a service standard, gap zones and compliance."""

from __future__ import annotations

import json
import sys

import click
import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from .. import datasets
from ..coverage import (
    assess,
    compliance_table,
    find_gaps,
    published_comparison,
    travel_burden,
)
from ..coverage.kpis import kpi_dict
from ..distributed.cli import engine_options
from ..errors import ParameterError
from ..io import atomic_path, load_demand, load_points, write_csv, write_geojson, write_json
from ..standard import Standard
from ._common import echo_table, eligibility_options, library_errors


def _load(path: str | None, loader, bundled: str, quiet: bool) -> gpd.GeoDataFrame:
    if path is None:
        return gpd.read_parquet(datasets.path(bundled))
    frame, rejected = loader(path)
    if len(rejected) and not quiet:
        click.echo(f"{path}: {len(rejected)} rows rejected (see `relaynet validate`)", err=True)
    return frame


def _area_column(by: str, demand: gpd.GeoDataFrame) -> str:
    if by in demand.columns:
        return by
    if by in ("departement", "department") and "area_id" in demand.columns:
        return "area_id"
    raise ParameterError(
        f"--by {by!r}: demand has no such column; columns are {list(demand.columns)}"
    )


def _percent(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{100 * value:.2f} %"


@click.command()
@click.option(
    "--points",
    "points_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Relay points file (default: bundled La Poste points).",
)
@click.option(
    "--demand",
    "demand_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Demand file (default: bundled French communes, population weights).",
)
@click.option(
    "--standard",
    "standard_text",
    default="5km|20min",
    show_default=True,
    help="Service standard: '5km', '20min', '5km|20min' (either) or '5km&20min' (both).",
)
@click.option(
    "--by",
    default="area_id",
    show_default=True,
    help="Demand column for per-area KPIs ('departement' = area_id of the bundled communes).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.9,
    show_default=True,
    help="Share of each area's population that must be covered (compliance table).",
)
@click.option("--no-windows", is_flag=True, help="Skip the four standard time windows.")
@click.option(
    "--eps-km",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Gap clustering radius in km (default: the standard's distance).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="Format of the per-place access table.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output folder (created).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@engine_options
@library_errors
@eligibility_options
def coverage(
    points_path,
    demand_path,
    standard_text,
    by,
    threshold,
    where,
    unknown_hours,
    no_windows,
    eps_km,
    fmt,
    out_dir,
    quiet,
    engine="local",
    cluster=None,
) -> None:
    """Coverage of DEMAND by the eligible POINTS under a service standard.

    Writes to --out: access.csv (or .parquet: one row per place), kpis.json, gaps.geojson,
    gaps.csv and compliance.csv. Drive times are *estimated* from straight-line distance
    (× 1.3 at 50 km/h) — see relaynet.coverage.estimate.

    \b
    Examples:
      relaynet coverage --standard "5km|20min" --by departement --out out/
      relaynet coverage --standard 10km --open-at "2024-06-15 15:00" --service returns --out out/
      relaynet coverage --demand big.parquet --engine dask --scheduler tcp://host:8786 --out out/

    With --engine dask the demand is read in partitions on a dask cluster and only the
    KPIs are written (kpis.json, kpis_by_area.csv, kpis_by_density.csv, windows.csv and
    compliance.csv without the per-place columns); the per-place table and gaps need the
    local engine.
    """
    from pathlib import Path

    from ..coverage.windows import time_windows

    standard = Standard.parse(standard_text)
    if engine == "dask":
        return _coverage_on_dask(
            points_path,
            demand_path,
            standard,
            by,
            where,
            unknown_hours,
            no_windows,
            out_dir,
            quiet,
            cluster,
            threshold,
        )
    points = _load(points_path, load_points, "laposte_points.parquet", quiet)
    demand = _load(demand_path, load_demand, "communes_demand.parquet", quiet)
    area = _area_column(by, demand)
    windows = None if no_windows else time_windows(unknown_hours=unknown_hours)
    n_stages = 6 + (0 if windows is None else len(windows))
    bar = tqdm(total=n_stages, desc="coverage", disable=quiet, file=sys.stderr, leave=False)

    def progress(stage: str) -> None:
        bar.set_description(stage)
        bar.update(1)

    assessment = assess(
        demand,
        points,
        standard,
        where if not where.is_empty else None,
        by=area,
        windows=windows,
        progress=progress,
    )
    progress("gaps")
    gaps = find_gaps(assessment, eps_m=None if eps_km is None else eps_km * 1000)
    compliance = compliance_table(assessment, threshold)
    burden = travel_burden(assessment)
    progress("writing")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        with atomic_path(out / "access.parquet") as tmp:
            assessment.access.to_parquet(tmp, index=False)
    else:
        write_csv(assessment.access, out / "access.csv")
    write_geojson(gaps, out / "gaps.geojson")
    write_csv(gaps, out / "gaps.csv")
    write_csv(compliance, out / "compliance.csv")
    summary = assessment.to_dict()
    summary["compliance"] = {
        "threshold": threshold,
        "areas": int(len(compliance)),
        "passing": int(compliance["passes"].sum()),
        "failing": compliance.loc[~compliance["passes"], area].astype(str).tolist(),
    }
    summary["gaps"] = {
        "zones": int(len(gaps)),
        "uncovered_weight": float(gaps["uncovered_weight"].sum()),
    }
    summary["travel_burden"] = kpi_dict(burden.iloc[0].drop(["distance_source"]))
    summary["travel_burden"]["distance_source"] = str(burden["distance_source"].iloc[0])
    comparison = None
    if demand_path is None and points_path is None:
        comparison = published_comparison(assessment, threshold=threshold)
        summary["published_comparison"] = json.loads(comparison.to_json(orient="records"))
    write_json(summary, out / "kpis.json")
    bar.close()
    if quiet:
        return
    _print_summary(assessment, compliance, gaps, comparison, area, threshold, out)


def _print_summary(assessment, compliance, gaps, comparison, area, threshold, out) -> None:
    overall = assessment.kpis.iloc[0]
    click.echo(
        f"Standard {assessment.standard.label} ({assessment.where}); drive time "
        f"{assessment.drive_time_source}"
        + (
            f" ({assessment.drive_estimate.describe()})"
            if assessment.drive_time_source == "estimated"
            else ""
        )
    )
    click.echo(
        f"{int(overall['n_places'])} places, weight {overall['weight']:,.0f}: "
        f"{_percent(overall['share_covered'])} covered, "
        f"{overall['uncovered_weight']:,.0f} uncovered"
    )
    click.echo(f"Demand resolution: {assessment.demand_resolution}")
    click.echo("")
    table = pd.concat([assessment.kpis, assessment.by_density])
    table.index.name = "group"
    shown = table.reset_index()[
        ["group", "n_places", "weight", "share_covered", "mean_distance_m", "p90_distance_m"]
    ]
    echo_table(shown.round({"share_covered": 4, "mean_distance_m": 0, "p90_distance_m": 0}))
    if len(assessment.windows):
        click.echo("\nTime windows (share of weight covered):")
        pivot = assessment.windows.pivot(index="window", columns="group", values="share_covered")
        pivot = pivot.reindex(list(dict.fromkeys(assessment.windows["window"])))
        pivot = pivot[list(dict.fromkeys(assessment.windows["group"]))]
        echo_table(pivot.round(4).reset_index())
    failing = compliance[~compliance["passes"]]
    click.echo(
        f"\nCompliance (≥ {100 * threshold:g} % covered per {area}): "
        f"{int(compliance['passes'].sum())} of {len(compliance)} areas pass"
    )
    if len(failing):
        echo_table(failing.drop(columns=["closing_places"]).head(10).round(4))
    click.echo(f"\nGap zones: {len(gaps)}")
    if len(gaps):
        echo_table(
            gaps[
                ["rank", "uncovered_weight", "n_places", "rural_share", "nearest_point_m", "places"]
            ]
            .head(10)
            .round(2)
        )
    if comparison is not None:
        click.echo("\nLa Poste's published figures vs measured (metropolitan France):")
        echo_table(
            comparison[
                [
                    "year",
                    "published_share",
                    "measured_share",
                    "published_departements_compliant",
                    "measured_departements_compliant",
                ]
            ].round(4)
        )
        click.echo(
            "Commune town-hall points overstate access compared with finer population grids."
        )
    click.echo(f"\nWrote {out}/")


def _coverage_on_dask(
    points_path,
    demand_path,
    standard,
    by,
    where,
    unknown_hours,
    no_windows,
    out_dir,
    quiet,
    cluster,
    threshold,
) -> None:
    """KPIs of partitioned demand on dask.distributed (see relaynet.distributed.assess)."""
    from pathlib import Path

    from ..coverage.windows import time_windows
    from ..distributed import assess as dask_assess

    points = _load(points_path, load_points, "laposte_points.parquet", quiet)
    demand = demand_path or str(datasets.path("communes_demand.parquet"))
    area = "area_id" if by in ("departement", "department") else by
    result = dask_assess(
        demand,
        points,
        standard,
        where if not where.is_empty else None,
        by=area,
        windows=None if no_windows else time_windows(unknown_hours=unknown_hours),
        cluster=cluster,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result.by_area.reset_index(), out / "kpis_by_area.csv")
    write_csv(result.by_density.reset_index(), out / "kpis_by_density.csv")
    if result.windows is not None and len(result.windows):
        write_csv(result.windows, out / "windows.csv")
    compliance = result.compliance_table(threshold)
    write_csv(compliance, out / "compliance.csv")
    summary = result.to_dict()
    summary["compliance"] = {
        "threshold": threshold,
        "areas": int(len(compliance)),
        "passing": int(compliance["passes"].sum()),
        "failing": compliance.loc[~compliance["passes"], area].astype(str).tolist(),
    }
    write_json(summary, out / "kpis.json")
    if not quiet:
        overall = result.kpis.iloc[0]
        click.echo(
            f"Standard {standard.label} on dask: {int(overall['n_places'])} places, weight "
            f"{overall['weight']:,.0f}: {_percent(overall['share_covered'])} covered"
        )
        click.echo(f"KPIs written to {out}")
