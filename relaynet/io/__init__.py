"""Everything that reads or writes files: the canonical schema, column mapping, readers,
validation with rejected rows, per-day hour columns, OSM points, ``within=`` areas and
atomic writers.

Modules (one concern each; none imports this package's ``__init__`` names):

- :mod:`~relaynet.io.schema` — canonical columns, kinds, services, density classes, CRS;
- :mod:`~relaynet.io.columns` — input spellings → canonical column names;
- :mod:`~relaynet.io.read` — a file into raw values with source row numbers;
- :mod:`~relaynet.io.validate` — row checks (coordinates, hours, numbers, booleans);
- :mod:`~relaynet.io.hour_columns` — per-day hour columns → OSM ``opening_hours``;
- :mod:`~relaynet.io.osm` — relay-point records of an OpenStreetMap file;
- :mod:`~relaynet.io.within` — the area of ``within=`` and the reason for rows outside;
- :mod:`~relaynet.io.load` — :func:`load_points` / :func:`load_demand`: validated
  GeoDataFrames and rejected rows (``accepted + rejected == rows read``);
- :mod:`~relaynet.io.write` — atomic CSV / Excel / GeoJSON / GeoPackage / strict JSON
  writers;
- :mod:`~relaynet.io.text` — :func:`one_line` for messages (no heavy import).

Public names are imported on first use (PEP 562), so ``from relaynet.io import one_line``
stays light for the command line.
"""

from __future__ import annotations

from .text import one_line

_LAZY = {
    "MAX_EXTRA_COLUMNS": "load",
    "REJECTED_COLUMNS": "load",
    "empty_points": "load",
    "load_demand": "load",
    "load_osm_points": "load",
    "load_points": "load",
    "reject_outside": "load",
    "MAX_CELL_CHARS": "read",
    "Within": "within",
    "as_within": "within",
    "parse_within": "within",
    "CSV_LINE_END": "write",
    "atomic_path": "write",
    "json_ready": "write",
    "neutralise_formulas": "write",
    "write_csv": "write",
    "write_geojson": "write",
    "write_json": "write",
    "write_gpkg": "write",
    "write_xlsx": "write",
}
"""Public name → module of this package that defines it."""


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'relaynet.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["one_line", *_LAZY]
