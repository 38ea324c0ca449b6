"""``relaynet report``: a full coverage report folder (argument parsing only)."""

from __future__ import annotations

import click

from ._choices import REPORT_MODELS
from ._common import coverage_options, eligibility_options, library_errors, within_option


@click.command()
@coverage_options(inputs_required=True)
@within_option()
@click.option(
    "--optimize",
    type=click.Choice(REPORT_MODELS),
    default=None,
    help="Also propose new sites with this model (candidates: the demand places).",
)
@click.option("--p", "p", type=click.IntRange(1), default=None, help="Number of new sites.")
@click.option(
    "--time-limit",
    type=click.FloatRange(0, min_open=True),
    default=60.0,
    show_default=True,
    help="Solver time limit, seconds.",
)
@click.option("--when", default=None, help="Time of the open/closed status in map popups.")
@click.option("--offline", is_flag=True, help="Inline the map's JavaScript/CSS (no internet).")
@click.option("--title", default=None, help="Report title.")
@library_errors
@eligibility_options
def report(
    points_path,
    demand_path,
    standard_text,
    by,
    threshold,
    where,
    unknown_hours,
    optimize,
    p,
    time_limit,
    when,
    no_windows,
    offline,
    title,
    out_dir,
    quiet,
    within=None,
) -> None:
    """Write a coverage report folder: index.html, map.html, access.csv, gaps.geojson,
    gaps.csv, kpis.json, rejected.csv and run.json.

    Runs the same pipeline as `relaynet coverage` (same options, defaults and kpis.json).
    Exit codes: 0 every input row used, 1 some rows rejected (listed in rejected.csv),
    2 unusable input, 3 output not writable, 4 internal error.

    \b
    Example:
      relaynet report --points pts.csv --demand communes.csv --standard 5km \\
          --by departement --optimize mclp --p 20 --out reports/lozere
    """
    from ..report import write_report

    result = write_report(
        out_dir,
        points=points_path,
        demand=demand_path,
        standard=standard_text,
        by=by,
        where=where,
        threshold=threshold,
        optimize=optimize,
        p=p,
        time_limit=time_limit,
        when=when,
        offline=offline,
        windows=not no_windows,
        title=title,
        quiet=quiet,
        within=within,
    )
    finish(result, quiet)


def finish(result, quiet: bool) -> None:
    """Print the path of index.html (and rejected rows) and exit with the report's code."""
    if not quiet and result.n_rejected:
        click.echo(f"{result.n_rejected} input rows rejected: see rejected.csv", err=True)
    click.echo(str(result.index))
    if result.exit_code:
        raise SystemExit(result.exit_code)
