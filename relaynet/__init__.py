"""relaynet: parcel relay networks — nearest working points, coverage gaps, new sites.

Public API (``import relaynet as rn``)::

    points, demand = rn.datasets.load_demo()
    where = rn.Eligibility(open_at="2026-11-28 18:30", services={"returns"})
    access = rn.Locator(points).nearest(demand, k=3, where=where)
    result = rn.assess(demand, points, rn.Standard(distance_m=5000), where=where)

The map, road-network, optimization and report parts (folium, osmnx, pulp) are imported
on first use, so ``import relaynet`` stays quick.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import datasets, hours
from .coverage import Assessment, assess, compliance_table, find_gaps, travel_burden
from .eligibility import Eligibility
from .errors import (
    InputError,
    NetworkError,
    OutputError,
    ParameterError,
    RelaynetError,
    SolverError,
)
from .io import load_demand, load_points
from .nearest import Locator
from .standard import Standard

_LAZY = {
    "coverage_map": "maps",
    "network_map": "maps",
    "RoadNetwork": "network",
    "Solution": "optimize",
    "solve": "optimize",
    "write_report": "report",
}


def __getattr__(name: str):
    """Import the heavier parts of the public API on first use (PEP 562)."""
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'relaynet' has no attribute {name!r}")


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
    "OutputError",
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
