"""relaynet: parcel relay networks — nearest working points, coverage gaps, new sites.

Public API (``import relaynet as rn``)::

    pts, rejected = rn.load_points("data/laposte_points.parquet")
    demand, _ = rn.load_demand("data/communes_demand.parquet")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import datasets, hours
from .coverage import Assessment, assess, compliance_table, find_gaps, travel_burden
from .eligibility import Eligibility
from .errors import InputError, NetworkError, ParameterError, RelaynetError, SolverError
from .io import load_demand, load_points
from .maps import coverage_map, network_map
from .nearest import Locator
from .network import RoadNetwork
from .optimize import Solution, solve
from .report import write_report
from .standard import Standard

try:
    __version__ = version("relaynet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Assessment",
    "RoadNetwork",
    "Solution",
    "assess",
    "compliance_table",
    "coverage_map",
    "find_gaps",
    "network_map",
    "solve",
    "travel_burden",
    "write_report",
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
