"""Helpers shared by the CLI commands: error translation and table printing."""

from __future__ import annotations

import functools
import sys

import click
import pandas as pd

from ..errors import RelaynetError


class UsageExit(click.ClickException):
    """A library error shown as one line, exit code 2 (unusable input)."""

    exit_code = 2


def library_errors(func):
    """Turn :class:`RelaynetError` into a one-line message with exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RelaynetError as exc:
            raise UsageExit(str(exc)) from None

    return wrapper


def echo_table(frame: pd.DataFrame, max_rows: int = 50) -> None:
    """Print a DataFrame as a plain aligned table."""
    if frame.empty:
        click.echo("(no rows)")
        return
    text = frame.head(max_rows).to_string(index=False, max_colwidth=60)
    click.echo(text)
    if len(frame) > max_rows:
        click.echo(f"… {len(frame) - max_rows} more rows", err=False)
    sys.stdout.flush()


def eligibility_options(func):
    """Add the point filters shared by every command and pass one ``where`` Eligibility.

    Options: ``--open-at``, ``--open``, ``--service``, ``--kind``, ``--network``,
    ``--weight`` (kg), ``--length`` (cm), ``--unknown-hours``. The command receives
    ``where`` (an :class:`~relaynet.eligibility.Eligibility`, empty when no filter is
    given) and ``unknown_hours``.
    """
    from .. import hours
    from ..eligibility import Eligibility

    options = [
        click.option(
            "--open-at",
            default=None,
            help="Open at this local time: '2026-11-28 18:30' or '28/11/2026 18:30' "
            "(day first); a time of day is required.",
        ),
        click.option(
            "--open",
            "open_window",
            default=None,
            help="Open throughout a window: 'Sa 18:00-19:00' or 'samedi 18:00-19:00' (next "
            "such day), 'Mo-Fr 18:00-19:00' (each of those days), '24/12/2026 10:00-12:00'; "
            "past midnight: 'Fr 22:00-26:00'.",
        ),
        click.option(
            "--service",
            "services",
            multiple=True,
            help="Required service (pickup, dropoff, returns); repeatable.",
        ),
        click.option(
            "--kind",
            "kinds",
            multiple=True,
            help="Allowed kind (locker, counter, post_office, hub); repeatable.",
        ),
        click.option("--network", "networks", multiple=True, help="Allowed network; repeatable."),
        click.option(
            "--weight", type=float, default=None, help="Parcel weight the point must take (kg)."
        ),
        click.option(
            "--length", type=float, default=None, help="Parcel length the point must take (cm)."
        ),
        click.option(
            "--unknown-hours",
            type=click.Choice(hours.UNKNOWN_POLICIES),
            default="exclude",
            show_default=True,
            help="Points with unknown opening hours under hour filters.",
        ),
    ]

    @functools.wraps(func)
    def wrapper(
        *args,
        open_at,
        open_window,
        services,
        kinds,
        networks,
        weight,
        length,
        unknown_hours,
        **kwargs,
    ):
        where = Eligibility.parse_cli(
            open_at=open_at,
            open_window=open_window,
            services=services,
            kinds=kinds,
            networks=networks,
            weight=weight,
            length=length,
            unknown_hours=unknown_hours,
        )
        return func(*args, where=where, unknown_hours=unknown_hours, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
