"""The ``relaynet`` command: argument parsing only; every command calls the public API.

Each command lives in its own module of this package and is registered here.
"""

from __future__ import annotations

import logging

import click

from .. import __version__
from ._common import Group
from .coverage import coverage
from .demo import demo
from .nearest import nearest
from .optimize import optimize
from .report import report
from .validate import validate

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="relaynet")
@click.option("-v", "--verbose", is_flag=True, help="Log progress messages.")
def main(verbose: bool) -> None:
    """Parcel relay networks: nearest working points, coverage gaps, new sites."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


main.add_command(validate)
main.add_command(nearest)
main.add_command(coverage)
main.add_command(optimize)
main.add_command(report)
main.add_command(demo)
