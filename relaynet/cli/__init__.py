"""The ``relaynet`` command: argument parsing only; every command calls the public API.

Each command lives in its own module of this package and is imported only when it runs
(or shows its own help), so ``relaynet --help`` and ``relaynet --version`` answer without
loading pandas, scikit-learn or folium; a command module imports the library inside its
function, so ``relaynet <command> --help`` does not load them either.

A usage error (unknown option or command, missing argument, invalid value) is one line on
standard error and exit code 2 (:class:`._common.UsageLine`)::

    relaynet coverage: error: no such option '--foo' (see 'relaynet coverage --help')
"""

from __future__ import annotations

import difflib
import importlib
import logging

import click

from ._common import Group, did_you_mean

CONTEXT = {"help_option_names": ["-h", "--help"]}

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "Check a points or demand file; list rejected rows."),
    "nearest": ("nearest", "The nearest eligible relay points to places."),
    "coverage": ("coverage", "Coverage of demand by eligible points under a standard."),
    "optimize": ("optimize", "Where new points should go (MCLP, LSCP, p-median, backup)."),
    "report": ("report", "Write a coverage report folder (HTML, map, CSV, JSON)."),
    "compare": ("compare", "Compare scenarios with a baseline: who gains, who loses, where."),
    "demo": ("demo", "Coverage report of the bundled La Poste points over French communes."),
}
"""Command name → (module of this package, one-line help shown by ``relaynet --help``)."""


class LazyGroup(Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f".{COMMANDS[name][0]}", __name__)
        return getattr(module, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            near = difflib.get_close_matches(name, COMMANDS)
            raise click.UsageError(f"no such command {name!r}{did_you_mean(near)}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(None, "--version", package_name="relaynet", prog_name="relaynet")
@click.option("-v", "--verbose", is_flag=True, help="Log progress messages and solver output.")
def main(verbose: bool) -> None:
    """Parcel relay networks: nearest working points, coverage gaps, new sites."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


__all__ = ["COMMANDS", "main"]
