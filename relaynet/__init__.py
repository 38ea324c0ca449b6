"""relaynet: parcel relay networks — nearest working points, coverage gaps, new sites.

Public API (``import relaynet as rn``)::

    pts, rejected = rn.load_points("data/laposte_points.parquet")
    demand, _ = rn.load_demand("data/communes_demand.parquet")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import datasets, hours
from .eligibility import Eligibility
from .errors import InputError, NetworkError, ParameterError, RelaynetError, SolverError
from .io import load_demand, load_points
from .nearest import Locator
from .standard import Standard

try:
    __version__ = version("relaynet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Eligibility",
    "InputError",
    "Locator",
    "NetworkError",
    "ParameterError",
    "RelaynetError",
    "SolverError",
    "Standard",
    "__version__",
    "datasets",
    "hours",
    "load_demand",
    "load_points",
]
