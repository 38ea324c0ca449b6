"""``relaynet demo``: the full report on the bundled data (what ``make demo`` runs)."""

from __future__ import annotations

import click

from ._choices import DEFAULT_STANDARD
from ._common import library_errors
from .report import finish


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="reports/demo",
    show_default=True,
    help="Report folder.",
)
@click.option(
    "--standard",
    "standard_text",
    default=DEFAULT_STANDARD,
    show_default=True,
    help="Service standard.",
)
@click.option(
    "--p",
    "p",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="New sites to propose (MCLP); 0 to skip the optimization.",
)
@click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="Inline the map's JavaScript/CSS (works without internet) or link them from CDNs.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@library_errors
def demo(out_dir: str, standard_text: str, p: int, offline: bool, quiet: bool) -> None:
    """Coverage report of the bundled La Poste points over all French communes.

    Writes the report folder (default reports/demo) and prints the path of its
    index.html. Exit codes as `relaynet report`.
    """
    from ..report import write_report

    result = write_report(
        out_dir,
        points=None,
        demand=None,
        bundled=True,
        standard=standard_text,
        by="area_id",
        optimize="mclp" if p else None,
        p=p or None,
        offline=offline,
        title=f"La Poste points of contact — coverage of French communes ({standard_text})",
        quiet=quiet,
    )
    finish(result, quiet)
