"""``relaynet coverage``: who is covered by a service standard, gap zones and compliance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..distributed.cli import engine_options
from ._common import (
    costs_options,
    coverage_options,
    echo_table,
    eligibility_options,
    library_errors,
    plain,
    within_option,
)


def _percent(value) -> str:
    import pandas as pd

    return "—" if value is None or pd.isna(value) else f"{100 * value:.2f} %"


@click.command()
@coverage_options(inputs_required=False)
@within_option()
@click.option(
    "--eps-km",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Gap clustering radius in km (default: the standard's distance).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "xlsx", "gpkg"]),
    default="csv",
    show_default=True,
    help="Format of the per-place access table: access.csv, access.parquet, or "
    "coverage.xlsx (sheets access, kpis, by_area, gaps, compliance, rejected) / "
    "coverage.gpkg (layers access, gaps, compliance) for Excel and QGIS.",
)
@engine_options
@library_errors
@eligibility_options
@costs_options
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
    costs=None,
    within=None,
) -> None:
    """Coverage of DEMAND by the eligible POINTS under a service standard.

    Writes to --out (atomically): access.csv (one row per place; or access.parquet,
    coverage.xlsx, coverage.gpkg with --format), kpis.json, gaps.geojson, gaps.csv,
    compliance.csv, rejected.csv and run.json — the same pipeline
    and files as `relaynet report`, without the HTML. Road distances ('5km road') and
    drive times are *estimated* from straight-line distance (× 1.3 at 50 km/h) — see
    relaynet.costs — unless --costs gives your own (metres or seconds).

    \b
    Examples:
      relaynet coverage --standard "5km|20min" --by departement --out out/
      relaynet coverage --standard "5km road" --out out/
      relaynet coverage --standard 5km --format xlsx --out out/   # coverage.xlsx for Excel
      relaynet coverage --standard 20min --costs osrm.csv --costs-unit s --out out/
      relaynet coverage --standard 10km --open-at "2024-06-15 15:00" --service returns --out out/
      relaynet coverage --demand big.parquet --engine dask --scheduler tcp://host:8786 --out out/

    With --engine dask the demand is read in partitions on a dask cluster and only the
    KPIs are written (kpis.json, kpis_by_area.csv, kpis_by_density.csv, windows.csv and
    compliance.csv without the per-place columns); the per-place table and gaps need the
    local engine.

    Exit codes: 0 ok, 1 input rows rejected (rejected.csv), 2 unusable input, 3 output
    not writable, 4 internal error.
    """
    from ..report.folder import check_writable, report_folder
    from ..report.outputs import write_run_record, write_tables
    from ..report.pipeline import run_coverage
    from ..report.run import stage_bar
    from ..standard import Standard

    standard = Standard.parse(standard_text)
    check_writable(out_dir)
    if engine == "dask":
        if costs is not None:
            raise click.UsageError("--costs needs the local engine")
        if within:
            raise click.UsageError("--within needs the local engine")
        return _coverage_on_dask(
            points_path,
            demand_path,
            standard,
            by,
            where,
            no_windows,
            out_dir,
            quiet,
            cluster,
            threshold,
        )
    started = dt.datetime.now(dt.UTC)
    bar = stage_bar(5, "coverage", quiet)

    def progress(stage: str) -> None:
        bar.set_description(stage or "writing")
        bar.update(1)

    try:
        run = run_coverage(
            points_path,
            demand_path,
            standard,
            by=by,
            where=where,
            threshold=threshold,
            windows=not no_windows,
            eps_m=None if eps_km is None else eps_km * 1000,
            costs=costs,
            within=within,
            bundled=True,
            progress=progress,
        )
        with report_folder(out_dir) as tmp:
            files = write_tables(tmp, run, access_format=fmt)
            write_run_record(tmp, run, started=started, files=files)
    finally:
        bar.close()
    if not quiet:
        for record in run.inputs:
            if record.get("rejected"):
                click.echo(
                    f"{record['path']}: {record['rejected']} rows rejected (see rejected.csv)",
                    err=True,
                )
        _print_summary(
            run.assessment,
            run.demand,
            run.compliance,
            run.gaps,
            run.published,
            run.area,
            run.threshold,
            Path(out_dir),
        )
    if len(run.rejected):
        raise SystemExit(1)


def _print_summary(assessment, demand, compliance, gaps, comparison, area, threshold, out) -> None:
    """The run in words for a person: units and human labels, no machine column names
    (those stay in the CSV and JSON files)."""
    import numpy as np
    import pandas as pd

    from ..maps import labels
    from ..report.html import DEMAND_BIAS, demand_text, reach_text

    def number(value) -> str:
        return plain(labels.count(value))

    def share(value) -> str:
        return plain(labels.percent(value))

    def km(metres) -> str:
        return "—" if pd.isna(metres) or not np.isfinite(metres) else plain(labels.km(metres))

    def km_beyond(metres) -> str:  # never rounded down onto the standard
        return plain(labels.km(metres, up=True))

    overall = assessment.kpis.iloc[0]
    source = assessment.drive_time_source
    if source == "estimated":
        source += f" ({assessment.drive_estimate.describe()})"
    click.echo(f"Standard: {assessment.standard.label} ({assessment.where}); drive time {source}")
    click.echo(
        f"{number(overall['n_places'])} places, {number(overall['weight'])} people: "
        f"{share(overall['share_covered'])} covered, "
        f"{number(overall['uncovered_weight'])} not covered"
    )
    if overall["unreached_weight"] > 0:
        click.echo(
            f"{number(overall['unreached_weight'])} people have no eligible point "
            f"{plain(reach_text(assessment))}: left out of the distances below"
        )
    click.echo(f"Demand: {plain(demand_text(assessment.access, demand))}. {DEMAND_BIAS}")
    click.echo("")
    table = pd.concat([assessment.kpis, assessment.by_density])
    echo_table(
        pd.DataFrame(
            {
                "Places": [labels.density_name(g) for g in table.index],
                "Number": table["n_places"].map(number),
                "People": table["weight"].map(number),
                "Covered": table["share_covered"].map(share),
                "Mean distance": table["mean_distance_m"].map(km),
                "90 % within": table["p90_distance_m"].map(km),
            }
        )
    )
    if len(assessment.windows):
        click.echo("\nTime windows, share of people covered:")
        pivot = assessment.windows.pivot(index="window", columns="group", values="share_covered")
        pivot = pivot.reindex(list(dict.fromkeys(assessment.windows["window"])))
        pivot = pivot[list(dict.fromkeys(assessment.windows["group"]))]
        shown = pivot.apply(lambda column: column.map(share))
        shown.columns = [labels.density_name(c) for c in shown.columns]
        shown.insert(0, "Time window", [labels.window_name(w) for w in pivot.index])
        echo_table(shown)
    failing = compliance[~compliance["passes"]]
    click.echo(
        f"\nCompliance (≥ {100 * threshold:g} % of people covered in each area): "
        f"{int(compliance['passes'].sum())} of {len(compliance)} areas pass"
    )
    if len(failing):
        name = failing["area_name"] if "area_name" in failing else failing[area]
        echo_table(
            pd.DataFrame(
                {
                    "Area": [f"{n} ({c})" for n, c in zip(name, failing[area], strict=True)],
                    "People": failing["weight"].map(number),
                    "Covered": failing["share_covered"].map(share),
                    "Short of the target (people)": failing["shortfall"].map(number),
                }
            ).head(10)
        )
    click.echo(f"\nGap zones (uncovered places within reach of each other): {len(gaps)}")
    if len(gaps):
        top = gaps.head(10)
        echo_table(
            pd.DataFrame(
                {
                    "Rank": top["rank"],
                    "People not covered": top["uncovered_weight"].map(number),
                    "Places": top["n_places"],
                    "Rural": top["rural_share"].map(share),
                    "Nearest point": top["nearest_point_m"].map(km_beyond),
                    "Largest places": top["places"],
                }
            )
        )
    if comparison is not None:
        click.echo("\nLa Poste's published figures beside this run (metropolitan France):")

        def count_or_dash(value) -> str:
            return "—" if pd.isna(value) else number(value)

        echo_table(
            pd.DataFrame(
                {
                    "Year": comparison["year"],
                    "Published": comparison["published_share"].map(share),
                    "Measured": comparison["measured_share"].map(share),
                    "Départements ≥ 90 % (published)": comparison[
                        "published_departements_compliant"
                    ].map(count_or_dash),
                    "(measured)": comparison["measured_departements_compliant"].map(count_or_dash),
                }
            )
        )
        click.echo(
            "Commune town-hall points overstate access compared with finer population grids."
        )
    click.echo(f"\nWrote {out}/")


def _coverage_on_dask(
    points_path, demand_path, standard, by, where, no_windows, out_dir, quiet, cluster, threshold
) -> None:
    """KPIs of partitioned demand on dask.distributed (see relaynet.distributed.assess)."""
    import pandas as pd

    from .. import datasets
    from ..distributed import assess as dask_assess
    from ..io import write_csv, write_json
    from ..report.folder import report_folder
    from ..report.outputs import kpis_document
    from ..report.pipeline import AREA_ALIASES, BUNDLED, load_input, windows_for

    points, points_rejected, _ = load_input(points_path, "points", bundled=True)
    demand = demand_path or str(datasets.path(BUNDLED["demand"]))
    area = "area_id" if by.lower() in AREA_ALIASES else by
    result = dask_assess(
        demand,
        points,
        standard,
        where if not where.is_empty else None,
        by=area,
        windows=windows_for(where, not no_windows),
        cluster=cluster,
    )
    compliance = result.compliance_table(threshold)
    demand_rejected = result.rejected.copy()
    demand_rejected.insert(0, "source", "demand")
    parts = [r for r in (points_rejected, demand_rejected) if len(r)]  # as the local run
    rejected = pd.concat(parts, ignore_index=True) if parts else demand_rejected
    with report_folder(out_dir) as out:
        write_csv(rejected, out / "rejected.csv")
        write_csv(result.by_area.reset_index(), out / "kpis_by_area.csv")
        write_csv(result.by_density.reset_index(), out / "kpis_by_density.csv")
        if result.windows is not None and len(result.windows):
            write_csv(result.windows, out / "windows.csv")
        write_csv(compliance, out / "compliance.csv")
        write_json(kpis_document(result, compliance, area, threshold), out / "kpis.json")
    if not quiet:
        overall = result.kpis.iloc[0]
        click.echo(
            f"Standard {standard.label} on dask: {int(overall['n_places'])} places, weight "
            f"{overall['weight']:,.0f}: {_percent(overall['share_covered'])} covered"
        )
        click.echo(f"KPIs written to {out_dir}")
    if len(rejected):
        if not quiet:
            click.echo(f"{len(rejected)} input rows rejected (see rejected.csv)", err=True)
        raise SystemExit(1)
