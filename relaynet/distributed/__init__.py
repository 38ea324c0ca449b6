"""Nearest points and coverage on dask.distributed (``pip install relaynet[dask]``).

Demand is read lazily in partitions: GeoParquet/Parquet with dask-geopandas, delimited
text (CSV with lat/lon) in blocks by the local loader's own code, so that rows it rejects
are reported as rejected rows (line and reason; :attr:`DistributedAssessment.rejected`,
``nearest(..., return_rejected=True)``). The relay points — small — are scattered once to
every worker together with their eligibility masks (opening hours evaluated once, on the
client, by :meth:`relaynet.eligibility.Eligibility.mask`); each worker builds one
:class:`relaynet.nearest.Locator` (cached by a fingerprint of the points) and every
partition runs the local code on its rows. Coverage KPIs are combined from additive sums
(exact weights); distance quantiles from a 1 m histogram (see :mod:`._kpis`).

>>> from relaynet import distributed                                        # doctest: +SKIP
>>> access = distributed.nearest("demand/*.parquet", points, k=1, output="access/")
>>> result = distributed.assess("demand/", points, "5km", scheduler="tcp://host:8786")

``scheduler=None`` starts a LocalCluster (2 workers, 4 GiB each by default) for the run.
Importing this package does not need dask; calling it does. The API (and pandas,
geopandas with it) is imported on first use (PEP 562), so the command line's
:func:`engine_options` stays light.
"""

from __future__ import annotations

from ._cluster import DEFAULT_MEMORY_LIMIT, DEFAULT_WORKERS, INSTALL_HINT, require_dask
from .cli import engine_options

_LAZY = {
    "read_demand": "_source",
    "QUANTILE_RESOLUTION_M": "api",
    "ClusterOptions": "api",
    "DistributedAssessment": "api",
    "assess": "api",
    "nearest": "api",
    "run_assess": "api",
    "run_nearest": "api",
}
"""Public name → module of this package that defines it."""


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'relaynet.distributed' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_WORKERS",
    "INSTALL_HINT",
    "QUANTILE_RESOLUTION_M",
    "ClusterOptions",
    "DistributedAssessment",
    "assess",
    "engine_options",
    "nearest",
    "read_demand",
    "require_dask",
    "run_assess",
    "run_nearest",
]
