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
