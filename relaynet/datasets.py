"""Bundled real data (see ``relaynet/data/README.md`` for sources, licences and
attribution). The files ship inside the package, so ``pip install .`` is enough."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import geopandas as gpd

from .errors import InputError

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Folder of the bundled data files, inside the package (installed with it; the
repository's top-level ``data/`` is a link to it)."""


class Demo(NamedTuple):
    """The bundled demo data: La Poste points of contact and French communes."""

    points: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame


def path(name: str) -> Path:
    """Path of a bundled data file, with a clear error when it is missing."""
    file = DATA_DIR / name
    if not file.exists():
        raise InputError(f"{file}: bundled data file missing (run `make data` to rebuild it)")
    return file


def load_demo() -> Demo:
    """La Poste points of contact (~17 700, hours for ~91 %) and the ~34 900 communes of
    France as demand (population weights, INSEE density class, département as area).

    Both are in the canonical schema (EPSG:4326).
    """
    points = gpd.read_parquet(path("laposte_points.parquet"))
    demand = gpd.read_parquet(path("communes_demand.parquet"))
    return Demo(points, demand)
