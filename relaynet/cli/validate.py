"""``relaynet validate``: check an input file and report rejected rows."""

from __future__ import annotations

import click

from ._common import echo_table, library_errors, point_files, points_format_flags, within_option


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--kind",
    "what",
    type=click.Choice(["points", "demand"]),
    default="points",
    show_default=True,
    help="What the file holds.",
)
@click.option("--crs", default=None, help="CRS of x/y columns, e.g. EPSG:2154.")
@click.option(
    "--country",
    default="FR",
    show_default=True,
    help="Country used to detect swapped lat/lon ('none' to skip).",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the rejected rows (with line and reason) to this CSV.",
)
@within_option(extra="")
@points_format_flags
@library_errors
def validate(
    path: str,
    what: str,
    crs: str | None,
    country: str,
    rejected_path: str | None,
    points_format: str = "auto",
    columns: str | None = None,
    point_defaults: str | None = None,
    within: str | None = None,
) -> None:
    """Check PATH and print its format, accepted/rejected counts and the reasons table.

    PATH is a file or a folder of points files. For points, the format is named as
    detected (mondial_relay, inpost, colissimo, chronopost, dpd, osm, generic) or as given
    with --points-format.

    Exit code 0 when every row passes, 1 when some rows were rejected, 2 when the file
    cannot be read.
    """
    from ..io import load_demand, reject_outside, write_csv

    country_code = None if country.lower() == "none" else country
    if what == "points":
        from ..formats import describe_format

        click.echo(f"{path}: format {describe_format(path, points_format)}")
        source = point_files((path,), points_format, columns, point_defaults)
        if isinstance(source, str):
            from ..formats import load_points

            accepted, rejected = load_points(source, crs=crs, country=country_code, within=within)
        else:
            accepted, rejected = source.load(crs=crs, country=country_code)
            accepted, rejected = reject_outside(accepted, rejected, within)
    else:
        accepted, rejected = load_demand(path, crs=crs, country=country_code, within=within)
    total = len(accepted) + len(rejected)
    click.echo(f"{path}: {total} rows read, {len(accepted)} accepted, {len(rejected)} rejected")
    if len(rejected):
        reasons = (
            rejected["reason"]
            .str.split("; ")
            .explode()
            .str.replace(r" '.*$| \(.*$| -?[0-9.]+.*$", "", regex=True)
            .value_counts()
            .rename_axis("reason")
            .reset_index(name="rows")
        )
        click.echo("\nReasons:")
        echo_table(reasons)
        click.echo("\nRejected rows:")
        echo_table(rejected[["row", "reason"]], max_rows=20)
        if rejected_path:
            write_csv(rejected, rejected_path)
            click.echo(f"\nrejected rows written to {rejected_path}")
        raise SystemExit(1)
