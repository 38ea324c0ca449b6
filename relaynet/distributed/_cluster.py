"""Optional dask import and the client used for one run (LocalCluster or a scheduler)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from ..errors import ParameterError

log = logging.getLogger(__name__)

INSTALL_HINT = "the dask engine needs the 'dask' extra: pip install 'relaynet[dask]'"
"""Message of the ImportError raised when dask is not installed."""

DEFAULT_WORKERS = 2
"""Workers of the LocalCluster started when no scheduler is given."""

DEFAULT_MEMORY_LIMIT = "4GiB"
"""Memory limit of each LocalCluster worker (dask spelling: ``"4GiB"``, bytes, or ``"auto"``)."""


def require_dask():
    """Import and return ``(dask, distributed, dask_geopandas)``, or raise a helpful ImportError."""
    try:
        import dask
        import dask_geopandas
        import distributed
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"{INSTALL_HINT} ({exc})") from exc
    return dask, distributed, dask_geopandas


@contextlib.contextmanager
def run_client(
    scheduler: Any = None,
    *,
    n_workers: int = DEFAULT_WORKERS,
    threads_per_worker: int = 1,
    memory_limit: str | int | None = DEFAULT_MEMORY_LIMIT,
    processes: bool = True,
) -> Iterator[Any]:
    """A ``distributed.Client`` for one run, closed afterwards if this function opened it.

    Parameters
    ----------
    scheduler
        ``None``: start a LocalCluster (``n_workers`` workers of ``threads_per_worker``
        threads and ``memory_limit`` each) and stop it at the end; a string such as
        ``"tcp://host:8786"``: connect to that scheduler; a ``distributed.Client``: use it
        as is (left open).
    n_workers, threads_per_worker, memory_limit, processes
        LocalCluster settings, ignored when ``scheduler`` is given.
    """
    _, distributed, _ = require_dask()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if scheduler is None:
        if int(n_workers) < 1 or int(threads_per_worker) < 1:
            raise ParameterError(
                f"n_workers={n_workers!r}, threads_per_worker={threads_per_worker!r}: "
                "expected integers ≥ 1"
            )
        log.info("starting a LocalCluster: %d workers, memory limit %s", n_workers, memory_limit)
        cluster = distributed.LocalCluster(
            n_workers=int(n_workers),
            threads_per_worker=int(threads_per_worker),
            memory_limit=memory_limit,
            processes=processes,
            dashboard_address=":0",
        )
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    if not isinstance(scheduler, str):
        raise ParameterError(
            f"scheduler={scheduler!r}: expected None (local cluster), an address such as "
            "'tcp://host:8786', or a distributed.Client"
        )
    try:
        client = distributed.Client(scheduler, timeout="30s")
    except OSError as exc:
        raise ParameterError(f"scheduler={scheduler!r}: cannot connect ({exc})") from None
    try:
        yield client
    finally:
        client.close()
