"""Helpers shared by the CLI commands: exit codes, error translation and table printing.

Nothing here imports pandas, numpy or the library's heavy modules at load time: the option
decorators run when a command module is imported, which ``relaynet <command> --help``
does, so they take their choices from :mod:`._choices` and import the library inside the
callbacks (when the command runs).

Exit codes of every command (README, "Bad input"):

====  =================================================================================
0     done, every input row used
1     done, some input rows rejected (listed in ``rejected.csv`` / by ``validate``)
2     unusable input or invalid option (one-line message)
3     output could not be written (read-only folder, disk full …; one-line message)
4     internal error: a bug; one-line message and the path of a log with the traceback
====  =================================================================================
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import tempfile
import traceback

import click

from ..errors import OutputError, RelaynetError
from ..io import one_line
from ._choices import DEFAULT_STANDARD, POINTS_FORMATS, UNKNOWN_HOURS

EXIT_REJECTED = 1
EXIT_INPUT = 2
EXIT_OUTPUT = 3
EXIT_INTERNAL = 4


class UsageExit(click.ClickException):
    """A library error shown as one line, exit code 2 (unusable input or option)."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class OutputExit(UsageExit):
    """An output that cannot be written, exit code 3."""

    exit_code = EXIT_OUTPUT


class InternalExit(UsageExit):
    """An unexpected error (a bug), exit code 4; the traceback is in a log file."""

    exit_code = EXIT_INTERNAL


def did_you_mean(names) -> str:
    """``"; did you mean '--format' or '--out'?"`` (empty when ``names`` is)."""
    return "; did you mean " + " or ".join(f"'{n}'" for n in names) + "?" if names else ""


class UsageLine(click.UsageError):
    """A usage error (unknown option or command, missing argument, invalid value) shown as
    one line on standard error instead of click's usage block, exit code 2::

        relaynet coverage: error: no such option '--foo' (see 'relaynet coverage --help')
    """

    exit_code = EXIT_INPUT

    @classmethod
    def of(cls, exc: click.UsageError) -> UsageLine:
        """The one-line form of a click usage error (same message and context); click's
        "Did you mean …" of an unknown option or command becomes a short clause."""
        near = getattr(exc, "possibilities", None)
        message = one_line(exc.message if near else exc.format_message()).rstrip(".")
        if message[:1].isupper() and not message[1:2].isupper():  # "No such" but not "CRS"
            message = message[0].lower() + message[1:]
        return cls(message + did_you_mean(near), exc.ctx)

    def show(self, file=None) -> None:
        path = self.ctx.command_path if self.ctx is not None else "relaynet"
        click.echo(f"{path}: error: {self.message} (see '{path} --help')", file=file, err=True)


_HELP_INSTEAD = getattr(click.exceptions, "NoArgsIsHelpError", UsageLine)
"""``relaynet`` alone prints the help (click ≥ 8.2 raises this usage error to do so)."""


def crash_log(exc: BaseException) -> str:
    """Write the traceback of ``exc`` to a new file in the temporary folder; its path."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, path = tempfile.mkstemp(prefix=f"relaynet-error-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"relaynet {' '.join(sys.argv[1:])}\n\n")
        handle.write("".join(traceback.format_exception(exc)))
    return path


def translate_errors(run):
    """Run ``run()`` and turn every error into the documented exit codes and one line."""
    try:
        return run()
    except (UsageLine, _HELP_INSTEAD):
        raise
    except click.UsageError as exc:
        raise UsageLine.of(exc) from None
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except OutputError as exc:
        raise OutputExit(str(exc)) from None
    except RelaynetError as exc:
        raise UsageExit(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise OutputExit(f"{where}{exc.strerror or exc}") from None
    except MemoryError:
        raise InternalExit("out of memory; try a smaller input or the dask engine") from None
    except Exception as exc:
        path = crash_log(exc)
        raise InternalExit(
            f"internal error ({type(exc).__name__}: {one_line(exc, 200)}); "
            f"please report it with the log {path}"
        ) from None


REJECTED_ROWS = "relaynet.rejected_rows"
"""Key of ``click.Context.meta`` counting the input rows a command rejected."""


def note_rejected(n: int) -> None:
    """Record that a command rejected ``n`` input rows: it then ends with exit code 1
    (after printing its answer), like ``coverage`` and ``report``."""
    ctx = click.get_current_context(silent=True)
    if n and ctx is not None:
        ctx.meta[REJECTED_ROWS] = ctx.meta.get(REJECTED_ROWS, 0) + int(n)


class Group(click.Group):
    """The ``relaynet`` group: every command's errors end in one line and a documented code;
    a command that rejected input rows (:func:`note_rejected`) ends with exit code 1.

    Usage errors too: the group's own options are parsed in :meth:`make_context`, a
    command's name and options (and anything the command body raises) in :meth:`invoke`;
    both go through :func:`translate_errors`, which makes them a :class:`UsageLine`.
    """

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return translate_errors(
            lambda: super(Group, self).make_context(info_name, args, parent, **extra)
        )

    def invoke(self, ctx: click.Context):
        result = translate_errors(lambda: super(Group, self).invoke(ctx))
        if ctx.meta.get(REJECTED_ROWS):
            ctx.exit(EXIT_REJECTED)
        return result


def library_errors(func):
    """Turn errors of a command into the documented exit codes (also when the command is
    invoked on its own, outside the ``relaynet`` group)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return translate_errors(lambda: func(*args, **kwargs))

    return wrapper


def plain(text: object) -> str:
    """Text from :mod:`relaynet.maps.labels` for a terminal: thin spaces as plain ones."""
    return str(text).replace("\u202f", " ").replace("\u2009", " ")


def echo_table(frame, max_rows: int = 50) -> None:
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
            type=click.Choice(UNKNOWN_HOURS),
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
        from ..eligibility import Eligibility

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


def within_option(extra: str = ", or 'demand:20km' (points within 20 km of a demand place)"):
    """``--within AREA``: reject rows outside an area, passed to the command as ``within``
    (text: a country code, a boundary file, or ``demand:<distance>`` where ``extra`` says
    so); see :func:`relaynet.io.load_points`. An empty or blank AREA is a usage error
    (exit 2), never read as "no area"."""

    def check(ctx, param, value):
        if value is not None and not value.strip():
            raise click.BadParameter(
                f"{value!r} is empty: give an AREA (a country code such as FR, a boundary "
                "file …) or leave --within out",
                ctx=ctx,
                param=param,
            )
        return value

    return click.option(
        "--within",
        default=None,
        metavar="AREA",
        callback=check,
        help="Reject input rows outside AREA, each with its reason ('outside FR (41.63 N, "
        "0.16 E)'): a country code (FR: metropolitan France, overseas departements and "
        "collectivities), a boundary file of polygons (GeoJSON, GeoPackage …)" + extra + ".",
    )


def coverage_options(*, inputs_required: bool, points_option: str = "--points"):
    """The options ``coverage``, ``report``, ``demo`` and ``compare`` share, one default each.

    ``--points``/``--demand`` (the bundled data when not required and not given; the points
    option is spelled ``points_option``, e.g. ``--baseline``),
    ``--standard`` (default :data:`relaynet.report.pipeline.DEFAULT_STANDARD`, copied in
    :mod:`._choices`), ``--by``
    (``departement`` is an alias of ``area_id``), ``--threshold``, ``--no-windows``,
    ``--out`` and ``--quiet``.
    """
    bundled = "" if inputs_required else " (default: the bundled {})"
    options = [
        click.option(
            points_option,
            "points_path",
            type=click.Path(exists=True),
            multiple=True,
            required=inputs_required,
            help="Relay points file or folder (CSV, spreadsheet, GeoJSON, GeoPackage, GeoParquet, "
            "OSM, carrier export); repeat to load several into one network"
            + bundled.format("La Poste points")
            + ".",
        ),
        *points_format_options(),
        click.option(
            "--demand",
            "demand_path",
            type=click.Path(exists=True, dir_okay=False),
            required=inputs_required,
            default=None,
            help="Demand places file (communes, addresses, customers)"
            + bundled.format("French communes, population weights")
            + ".",
        ),
        click.option(
            "--standard",
            "standard_text",
            default=DEFAULT_STANDARD,
            show_default=True,
            help="Service standard: '5km', '20min', '5km|20min' (either), '5km&20min' (both).",
        ),
        click.option(
            "--by",
            default="area_id",
            show_default=True,
            help="Demand column for per-area tables ('departement' = area_id).",
        ),
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1, min_open=True),
            default=0.9,
            show_default=True,
            help="Share of each area's population that must be covered.",
        ),
        click.option("--no-windows", is_flag=True, help="Skip the four standard time windows."),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False),
            required=True,
            help="Output folder (replaced atomically when it exists).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary."),
    ]

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, points_path=(), points_format, columns, point_defaults, **kwargs):
            points = point_files(points_path, points_format, columns, point_defaults)
            return func(*args, points_path=points, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def parse_pairs(text: str | None, option: str) -> dict[str, str] | None:
    """``"GPS_LAT=latitude,GPS_LON=longitude"`` → ``{"GPS_LAT": "latitude", …}``."""
    if not text:
        return None
    pairs = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.UsageError(f"{option} {text!r}: expected NAME=VALUE pairs, comma-separated")
        pairs[key.strip()] = value.strip()
    return pairs


def points_format_options() -> list:
    """``--points-format``, ``--columns`` and ``--defaults``: how points files are read (the
    command receives ``points_format``, ``columns`` and ``point_defaults`` as given)."""
    return [
        click.option(
            "--points-format",
            type=click.Choice(POINTS_FORMATS),
            default="auto",
            show_default=True,
            help="Format of the points files; 'auto' detects carrier exports by their fields.",
        ),
        click.option(
            "--columns",
            default=None,
            help="Map your column names: 'GPS_LAT=latitude,GPS_LON=longitude,ID=point_id' "
            "(Python: columns={...}).",
        ),
        click.option(
            "--defaults",
            "point_defaults",
            default=None,
            help="Values for what the file lacks: 'network=mondial_relay,kind=locker' "
            "(Python: defaults={...}).",
        ),
    ]


def points_format_flags(func):
    """Add :func:`points_format_options` to a command (decorator)."""
    for option in reversed(points_format_options()):
        func = option(func)
    return func


def point_files(paths, points_format: str = "auto", columns=None, defaults=None):
    """What ``--points`` … name: ``None`` (not given), one path as given (plain files read
    as before), or a :class:`relaynet.formats.PointFiles` (several files, a folder, or
    options) for :func:`relaynet.formats.load_points` and the coverage pipeline."""
    paths = tuple(str(p) for p in (paths or ()))
    columns = parse_pairs(columns, "--columns")
    defaults = parse_pairs(defaults, "--defaults")
    if not paths:
        if columns or defaults or points_format != "auto":
            raise click.UsageError("--points-format, --columns and --defaults need --points")
        return None
    plain = len(paths) == 1 and not os.path.isdir(paths[0])
    if plain and not (columns or defaults) and points_format == "auto":
        return paths[0]
    from ..formats import PointFiles

    return PointFiles(paths, points_format, columns, defaults)


def read_points(points):
    """``(accepted, rejected)`` of what :func:`point_files` returned (not ``None``)."""
    if isinstance(points, str):
        from ..formats import load_points

        return load_points(points)
    return points.load()


def costs_options(func):
    """``--costs FILE`` and ``--costs-unit m|s``: your own travel costs (one source for the
    coverage and the optimisation); the function receives ``costs`` (a
    :class:`relaynet.costs.CostTable` or ``None``)."""

    @click.option(
        "--costs",
        "costs_path",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="Your own travel costs: CSV or Parquet with demand_id, point_id, cost (any "
        "router's output). Pairs absent from it are not within reach.",
    )
    @click.option(
        "--costs-unit",
        type=click.Choice(["m", "s"]),
        default=None,
        help="Unit of --costs: m (metres, answers the distance) or s (seconds, the time).",
    )
    @functools.wraps(func)
    def wrapper(*args, costs_path=None, costs_unit=None, **kwargs):
        costs = None
        if costs_path is not None:
            if costs_unit is None:
                raise click.UsageError("--costs needs --costs-unit m (metres) or s (seconds)")
            from ..costs import read_costs

            costs = read_costs(costs_path, costs_unit)
        elif costs_unit is not None:
            raise click.UsageError("--costs-unit without --costs")
        return func(*args, costs=costs, **kwargs)

    return wrapper
