"""Density class (urban / intermediate / rural) of demand places from people per km².

INSEE's official *grille communale de densité* classifies communes from 1 km² population
cells, not from the commune's own density, so when a demand table already carries a
``density_class`` (the bundled communes do, from INSEE's 2024 grid) it is used as is.
When it is missing, the class is derived from the place's own density::

    density >= urban_min_per_km2                   → "urban"
    density <  rural_max_per_km2                   → "rural"
    otherwise                                      → "intermediate"

Calibration of the defaults
---------------------------
The thresholds were chosen by grid search on the bundled ``data/communes_demand.parquet``
(34 849 communes with INSEE's class and ``area_km2``), maximising the share of communes
whose derived class equals INSEE's (3-level grouping of the 7-level grid). With
``urban_min_per_km2 = 1300`` and ``rural_max_per_km2 = 220``:

* communes classified like INSEE: 93.2 % (32 471 of 34 849);
* population classified like INSEE: 83.6 %;
* per INSEE class, share of its communes found: urban 68.7 %, intermediate 62.4 %,
  rural 97.2 % (population: 87.8 %, 70.1 %, 90.6 %).

The derived class is a fallback: it is right for nearly all rural communes (what gap
detection needs) and weaker for INSEE's "urban" (large communes with a dense centre and
a large rural surface). :func:`density_agreement` recomputes these figures on any table
that has both the official class and an area.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..io.schema import DENSITY_ALIASES, DENSITY_CLASSES, normalize_token

EQUAL_AREA_CRS = "EPSG:6933"
"""World equal-area CRS used to measure polygon areas (m²)."""


@dataclass(frozen=True)
class DensityThresholds:
    """Population-density thresholds, people per km².

    Parameters
    ----------
    urban_min_per_km2
        Density at or above which a place is ``"urban"``.
    rural_max_per_km2
        Density below which a place is ``"rural"``.
    """

    urban_min_per_km2: float = 1300.0
    rural_max_per_km2: float = 220.0

    def __post_init__(self) -> None:
        lo, hi = self.rural_max_per_km2, self.urban_min_per_km2
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo <= hi):
            raise ParameterError(
                "DensityThresholds: expected 0 ≤ rural_max_per_km2 ≤ urban_min_per_km2, "
                f"got rural_max_per_km2={lo!r}, urban_min_per_km2={hi!r}"
            )


DEFAULT_THRESHOLDS = DensityThresholds()
"""Thresholds calibrated on the bundled communes (see the module docstring)."""


def area_km2(demand: pd.DataFrame, area_column: str = "area_km2") -> np.ndarray:
    """Surface of each demand place in km².

    Taken from ``area_column`` when present, else measured from polygon geometries in
    :data:`EQUAL_AREA_CRS`. NaN where neither is available (point geometry, no column).
    """
    n = len(demand)
    out = np.full(n, np.nan)
    if area_column in demand.columns:
        out = pd.to_numeric(demand[area_column], errors="coerce").to_numpy(float).copy()
    if isinstance(demand, gpd.GeoDataFrame) and demand.crs is not None and np.isnan(out).any():
        geom = demand.geometry
        polygonal = geom.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        todo = polygonal & np.isnan(out)
        if todo.any():
            out[todo] = geom[todo].to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6
    out[~(out > 0)] = np.nan
    return out


def classify_from_density(
    density_per_km2, thresholds: DensityThresholds = DEFAULT_THRESHOLDS
) -> np.ndarray:
    """Class of each density value (people/km²); ``None`` where the density is NaN.

    Returns
    -------
    ndarray of object, values ``"urban"``, ``"intermediate"``, ``"rural"`` or ``None``.
    """
    density = np.asarray(density_per_km2, dtype=float)
    out = np.where(
        density >= thresholds.urban_min_per_km2,
        "urban",
        np.where(density < thresholds.rural_max_per_km2, "rural", "intermediate"),
    ).astype(object)
    out[np.isnan(density)] = None
    return out


def _given_classes(demand: pd.DataFrame) -> np.ndarray:
    if "density_class" not in demand.columns:
        return np.full(len(demand), None, dtype=object)
    codes, uniques = pd.factorize(demand["density_class"].astype(object), use_na_sentinel=True)
    mapped = np.array([DENSITY_ALIASES.get(normalize_token(u)) for u in uniques] + [None], object)
    return mapped[codes]


def classify_density(
    demand: pd.DataFrame,
    thresholds: DensityThresholds = DEFAULT_THRESHOLDS,
    *,
    area_column: str = "area_km2",
    use_given: bool = True,
) -> pd.Series:
    """Density class of each demand place.

    Parameters
    ----------
    demand
        Demand table with ``weight`` (people) and either ``area_column`` (km²) or polygon
        geometries; an existing ``density_class`` (names or INSEE levels 1–7) is kept.
    thresholds
        People per km² separating the classes (:class:`DensityThresholds`).
    area_column
        Column holding the place's surface in km².
    use_given
        Keep the demand's own ``density_class`` where it is set (default); ``False``
        derives every class from density.

    Returns
    -------
    Series of str aligned with ``demand``: ``"urban"``, ``"intermediate"``, ``"rural"``,
    or ``"unknown"`` where no class is given and no area is known.
    """
    if "weight" not in demand.columns:
        raise ParameterError("classify_density: demand has no 'weight' column (people)")
    given = _given_classes(demand) if use_given else np.full(len(demand), None, dtype=object)
    missing = pd.isna(given)
    if missing.any():
        weight = pd.to_numeric(demand["weight"], errors="coerce").to_numpy(float)
        derived = classify_from_density(weight / area_km2(demand, area_column), thresholds)
        given = np.where(missing, derived, given)
    out = pd.Series(given, index=demand.index, dtype=object).fillna("unknown")
    return out.astype(str)


def density_agreement(
    demand: pd.DataFrame,
    thresholds: DensityThresholds = DEFAULT_THRESHOLDS,
    *,
    area_column: str = "area_km2",
) -> pd.DataFrame:
    """How often density-derived classes equal the demand's official ``density_class``.

    Returns
    -------
    DataFrame indexed by official class (+ ``"all"``) with ``places``, ``agree_places``,
    ``share_places``, ``weight``, ``agree_weight``, ``share_weight`` (over places having
    both an official class and an area).
    """
    official = _given_classes(demand)
    derived = classify_density(demand, thresholds, area_column=area_column, use_given=False)
    weight = pd.to_numeric(demand["weight"], errors="coerce").fillna(0).to_numpy(float)
    usable = ~pd.isna(official) & (derived.to_numpy() != "unknown")
    frame = pd.DataFrame(
        {
            "official": official[usable],
            "agree": official[usable] == derived.to_numpy()[usable],
            "weight": weight[usable],
        }
    )
    frame["agree_weight"] = frame["weight"] * frame["agree"]
    rows = frame.groupby("official").agg(
        places=("agree", "size"),
        agree_places=("agree", "sum"),
        weight=("weight", "sum"),
        agree_weight=("agree_weight", "sum"),
    )
    rows = rows.reindex([c for c in DENSITY_CLASSES if c in rows.index])
    rows.loc["all"] = rows.sum()
    rows["share_places"] = rows["agree_places"] / rows["places"]
    rows["share_weight"] = rows["agree_weight"] / rows["weight"]
    rows.index.name = "density_class"
    return rows[
        ["places", "agree_places", "share_places", "weight", "agree_weight", "share_weight"]
    ]


__all__ = [
    "DEFAULT_THRESHOLDS",
    "DensityThresholds",
    "area_km2",
    "classify_density",
    "classify_from_density",
    "density_agreement",
]
