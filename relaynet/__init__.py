"""relaynet: parcel relay networks — nearest working points, coverage gaps, new sites.

Public API (``import relaynet as rn``)::

    points, demand = rn.datasets.load_demo()
    where = rn.Eligibility(open_at="2026-11-28 18:30", services={"returns"})
    access = rn.Locator(points).nearest(demand, k=3, where=where)
    result = rn.assess(demand, points, rn.Standard(distance_m=5000), where=where)

Every public name is imported on first use (numpy, pandas, folium, osmnx, pulp …), so
``import relaynet`` and ``relaynet --help`` stay quick.
"""

from __future__ import annotations

_LAZY = {
    "datasets": None,
    "hours": None,
    "Assessment": "coverage",
    "Comparison": "coverage",
    "compare": "coverage",
    "Scenario": "scenarios",
    "scenarios": None,
    "assess": "coverage",
    "compliance_table": "coverage",
    "find_gaps": "coverage",
    "travel_burden": "coverage",
    "Eligibility": "eligibility",
    "InputError": "errors",
    "NetworkError": "errors",
    "OutputError": "errors",
    "ParameterError": "errors",
    "RelaynetError": "errors",
    "SolverError": "errors",
    "load_demand": "io",
    "load_points": "formats",
    "Locator": "nearest",
    "Standard": "standard",
    "coverage_map": "maps",
    "network_map": "maps",
    "RoadNetwork": "network",
    "Solution": "optimize",
    "solve": "optimize",
    "write_report": "report",
    "write_comparison": "report",
    "run_coverage": "report",
}
"""Public name → submodule that defines it (``None``: the name is a submodule)."""


def __getattr__(name: str):
    """Import the public API on first use (PEP 562): ``import relaynet`` and the command
    line's ``--help`` stay quick; numpy, pandas, scikit-learn … load when needed."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("relaynet")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0"
    if name in _LAZY:
        from importlib import import_module

        module = _LAZY[name]
        value = (
            import_module(f".{name}", __name__)
            if module is None
            else getattr(import_module(f".{module}", __name__), name)
        )
        globals()[name] = value
        return value
    raise AttributeError(f"module 'relaynet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Assessment",
    "Comparison",
    "Scenario",
    "compare",
    "scenarios",
    "write_comparison",
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
    "run_coverage",
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
