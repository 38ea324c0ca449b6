"""Labels of places and areas for tables people read (gap zones, compliance).

pandas' ``str`` dtype keeps missing values as NaN through ``astype(str)``, so joining
labels needs one explicit policy: missing or blank text is ``""``, and a place without a
name is called by its ``demand_id``.
"""

from __future__ import annotations

import pandas as pd


def text_values(values: pd.Series) -> pd.Series:
    """Values as stripped Python strings, ``""`` where missing."""
    values = values.astype(object)
    return values.where(values.notna(), "").map(str).str.strip()


def place_labels(access: pd.DataFrame) -> pd.Series:
    """Each place's ``name``, or its ``demand_id`` where the name is missing or blank."""
    ids = text_values(access["demand_id"])
    if "name" not in access.columns:
        return ids
    names = text_values(access["name"])
    return names.where(names != "", ids)


__all__ = ["place_labels", "text_values"]
