"""Areas of an assessment as shapes: outlines and choropleths on the map, static figures.

The bundled ``departements.geojson`` (96 metropolitan départements, ``code`` and ``nom``)
is used when the assessment's areas are département codes (the bundled communes' and
La Poste's ``area_id``); other areas come as a GeoDataFrame from the caller. The overseas
départements have no outline there: :func:`overseas_departements` takes theirs from the
bundled ``france.geojson`` (for the maps, where they are drawn where they lie; a static
figure of France leaves them out and says so).
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import datasets
from ..errors import ParameterError
from ..io.schema import CRS

SHARE_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.90, "#d73027", "below 90 %"),
    (0.95, "#fc8d59", "90–95 %"),
    (0.98, "#fee08b", "95–98 %"),
    (0.99, "#91cf60", "98–99 %"),
    (1.01, "#1a9850", "99 % and more"),
)
"""Upper bound (exclusive), colour and label of each class of share covered."""

UNCOVERED_CLASSES: tuple[tuple[float, str, str], ...] = (
    (1, "#f7f7f7", "none"),
    (1_000, "#dadaeb", "fewer than 1 000"),
    (5_000, "#9e9ac8", "1 000 – 5 000"),
    (20_000, "#6a51a3", "5 000 – 20 000"),
    (np.inf, "#3f007d", "20 000 and more"),
)
"""Upper bound (exclusive), colour and label of each class of people not covered."""

SIMPLIFY_DEG = 0.002
"""Tolerance of the outlines drawn on maps, degrees (about 200 m)."""


@functools.lru_cache(maxsize=1)
def departements() -> gpd.GeoDataFrame:
    """The bundled département outlines: ``area_id`` (INSEE code), ``area_name``, geometry."""
    frame = gpd.read_file(datasets.path("departements.geojson"))
    frame = frame.rename(columns={"code": "area_id", "nom": "area_name"})
    frame["area_id"] = frame["area_id"].astype(str)
    return frame.to_crs(CRS)[["area_id", "area_name", "geometry"]]


OVERSEAS_CODES: dict[str, str] = {
    "Guadeloupe": "971",
    "Martinique": "972",
    "Guyane": "973",
    "La Réunion": "974",
    "Mayotte": "976",
}
"""INSEE codes of the overseas départements, by their name in ``france.geojson``."""


@functools.lru_cache(maxsize=1)
def overseas_departements() -> gpd.GeoDataFrame:
    """Outlines of the five overseas départements (``area_id`` 971–974, 976), from the
    bundled ``france.geojson`` (union of their communes, widened 1.5 km)."""
    frame = gpd.read_file(datasets.path("france.geojson"))
    frame = frame[frame["name"].isin(list(OVERSEAS_CODES))]
    frame = frame.assign(area_id=frame["name"].map(OVERSEAS_CODES), area_name=frame["name"])
    frame = frame.sort_values("area_id").reset_index(drop=True)
    return frame.to_crs(CRS)[["area_id", "area_name", "geometry"]]


def unmapped_areas(access: pd.DataFrame, by: str, shapes: pd.DataFrame | None) -> pd.DataFrame:
    """Areas of an access table that have no outline in ``shapes``: ``area_id`` and
    ``area_name`` (from the access table when it has one), sorted by code."""
    if by not in access.columns:
        return pd.DataFrame({"area_id": [], "area_name": []})
    ids = access[by].astype(str)
    names = access["area_name"] if "area_name" in access.columns else ids
    table = pd.DataFrame({"area_id": ids.to_numpy(), "area_name": names.to_numpy()})
    table = table.drop_duplicates("area_id").sort_values("area_id")
    drawn = set() if shapes is None else set(shapes["area_id"].astype(str))
    return table[~table["area_id"].isin(drawn)].reset_index(drop=True)


def area_table(access: pd.DataFrame, by: str) -> pd.DataFrame:
    """People, people covered and share covered per area of an access table."""
    if by not in access.columns:
        raise ParameterError(f"by={by!r}: not a column of the access table")
    weight = access["weight"].to_numpy(float)
    covered = access["covered"].to_numpy(bool)
    frame = pd.DataFrame(
        {
            "area_id": access[by].astype(str).to_numpy(),
            "weight": weight,
            "covered_weight": np.where(covered, weight, 0.0),
        }
    )
    table = frame.groupby("area_id", sort=True).sum()
    table["uncovered_weight"] = table["weight"] - table["covered_weight"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["share_covered"] = table["covered_weight"] / table["weight"]
    return table.reset_index()


def area_shapes(
    access: pd.DataFrame,
    by: str,
    areas: gpd.GeoDataFrame | None = None,
    *,
    overseas: bool = False,
) -> gpd.GeoDataFrame | None:
    """Outlines of the areas of an access table (those with places) and their coverage, or
    ``None``.

    Parameters
    ----------
    access
        Access table of an assessment (``weight``, ``covered`` and the ``by`` column).
    by
        Area column.
    areas
        Polygons with an ``area_id`` column (values of ``by``) and optionally
        ``area_name``; ``None``: the bundled départements when at least half of the
        areas are département codes, else no shapes.
    overseas
        With the bundled départements: add the overseas ones (:func:`overseas_departements`;
        a map draws them where they lie, a figure of France would be stretched by them).
    """
    table = area_table(access, by)
    if areas is None:
        shapes = departements()
        if table["area_id"].isin(shapes["area_id"]).mean() < 0.5:
            return None
        if overseas:
            shapes = pd.concat([shapes, overseas_departements()], ignore_index=True)
    else:
        if not isinstance(areas, gpd.GeoDataFrame) or "area_id" not in areas.columns:
            raise ParameterError("areas: expected a GeoDataFrame with an 'area_id' column")
        shapes = areas.to_crs(CRS) if areas.crs is not None and areas.crs != CRS else areas
        shapes = shapes.assign(area_id=shapes["area_id"].astype(str))
        if "area_name" not in shapes.columns:
            shapes = shapes.assign(area_name=shapes["area_id"])
    out = shapes[["area_id", "area_name", "geometry"]].merge(table, on="area_id", how="inner")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS)


def classify(values, classes) -> np.ndarray:
    """Index of the class of each value (``classes`` as :data:`SHARE_CLASSES`); -1 for NaN."""
    values = np.asarray(values, float)
    bounds = np.array([c[0] for c in classes], float)
    index = np.searchsorted(bounds, values, side="right")
    index = np.minimum(index, len(classes) - 1)
    return np.where(np.isfinite(values), index, -1)


__all__ = [
    "OVERSEAS_CODES",
    "SHARE_CLASSES",
    "UNCOVERED_CLASSES",
    "area_shapes",
    "area_table",
    "classify",
    "departements",
    "overseas_departements",
    "unmapped_areas",
]
