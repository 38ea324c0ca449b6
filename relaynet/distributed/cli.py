"""Click options for choosing the engine, for any ``relaynet`` command to reuse.

>>> @click.command()                                                  # doctest: +SKIP
... @engine_options
... def coverage(..., engine, cluster):
...     result = run_assess(demand, points, standard, engine=engine, cluster=cluster)
"""

from __future__ import annotations

import functools

import click

from ._cluster import DEFAULT_MEMORY_LIMIT, DEFAULT_WORKERS


def engine_options(func):
    """Add ``--engine local|dask``, ``--scheduler``, ``--workers``, ``--memory-limit``.

    The decorated command receives two keyword arguments instead: ``engine`` (``"local"``
    or ``"dask"``) and ``cluster`` (a :class:`relaynet.distributed.ClusterOptions`, or
    ``None`` for the local engine). ``--scheduler`` alone implies ``--engine dask``.
    """

    @click.option(
        "--engine",
        type=click.Choice(["local", "dask"]),
        default=None,
        help="Compute in memory (local, default) or on dask.distributed.",
    )
    @click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786); default: a local cluster for the run.",
    )
    @click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=DEFAULT_WORKERS,
        show_default=True,
        help="Workers of the local dask cluster.",
    )
    @click.option(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        show_default=True,
        help="Memory limit per local dask worker (e.g. 4GiB).",
    )
    @functools.wraps(func)
    def wrapper(*args, engine, scheduler, workers, memory_limit, **kwargs):
        if engine is None:
            engine = "dask" if scheduler else "local"
        if engine == "local" and scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        cluster = None
        if engine == "dask":
            from .api import ClusterOptions  # heavy: only for the dask engine

            cluster = ClusterOptions(
                scheduler=scheduler, n_workers=workers, memory_limit=memory_limit
            )
        return func(*args, engine=engine, cluster=cluster, **kwargs)

    return wrapper


__all__ = ["engine_options"]
