"""Compliance with an area rule, and comparison with La Poste's published figures.

The French postal rule (loi n° 90-568, art. 6, as amended in 2005): no more than 10 % of
a département's population may be farther than 5 km **and** 20 minutes by car from the
nearest La Poste point of contact — i.e. at least 90 % must be within 5 km *or* 20
minutes (``Standard.parse("5km|20min")``). :func:`compliance_table` checks such a rule
per area from an :class:`~relaynet.coverage.assess.Assessment`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .assess import Assessment
from .labels import place_labels

PUBLISHED_REFERENCE = (
    {
        "year": 2015,
        "share_covered": 0.967,
        "scope": "metropolitan France",
        "definition": "population within 5 km and/or 20 minutes by car of a La Poste point "
        "of contact (the group's corporate page words it as 'within 5 km')",
        "departements_compliant": 90,
        "points": 17111,
        "source": "La Poste, 'Le maillage territorial' "
        "(collectivites.laposte.fr/Le-Groupe-et-les-collectivites/La-relation-avec-les-elus/"
        "Le-maillage-territorial) and legroupe.laposte.fr, 'La contribution à "
        "l'aménagement du territoire' (2015 figures)",
    },
    {
        "year": 2023,
        "share_covered": 0.97,
        "scope": "France",
        "definition": "population within 5 km or 20 minutes of a point of contact",
        "departements_compliant": None,
        "points": 17000,
        "source": "La Poste's public figure of 97 % (as commonly quoted for 2023); "
        "not re-checked against a primary page",
    },
)
"""La Poste's published accessibility figures (shares of population)."""


def published_reference() -> pd.DataFrame:
    """La Poste's published accessibility figures, one row per year, with their sources."""
    return pd.DataFrame(list(PUBLISHED_REFERENCE))


def _metropolitan(access: pd.DataFrame) -> np.ndarray:
    """French metropolitan places: INSEE code (``demand_id``) not starting with 97/98."""
    code = access["demand_id"].astype(str)
    return ~code.str.match(r"^9[78]").to_numpy(bool)


def published_comparison(
    assessment: Assessment, *, metropolitan_only: bool = True, threshold: float = 0.9
) -> pd.DataFrame:
    """Measured coverage next to La Poste's published figures.

    Parameters
    ----------
    assessment
        An assessment of French communes (``demand_id`` = INSEE code).
    metropolitan_only
        Measure over metropolitan communes only (INSEE code not 97x/98x), as La Poste's
        2015 figure.
    threshold
        Share each département must reach for the compliance count.

    Returns
    -------
    DataFrame, one row per published figure: ``year, published_share, measured_share,
    difference, published_departements_compliant, measured_departements_compliant,
    standard, drive_time, demand_resolution, source``.
    """
    access = assessment.access
    keep = _metropolitan(access) if metropolitan_only else np.ones(len(access), bool)
    sub = access[keep]
    total = float(sub["weight"].sum())
    measured = float((sub["weight"] * sub["covered"]).sum() / total) if total else math.nan
    table = compliance_table(assessment, threshold=threshold)
    areas = sub[assessment.by].astype(str).unique()
    passing = int(table.loc[table[assessment.by].astype(str).isin(areas), "passes"].sum())
    rows = []
    for ref in PUBLISHED_REFERENCE:
        rows.append(
            {
                "year": ref["year"],
                "published_share": ref["share_covered"],
                "measured_share": measured,
                "difference": measured - ref["share_covered"],
                "published_departements_compliant": ref["departements_compliant"],
                "measured_departements_compliant": passing,
                "measured_departements": len(areas),
                "standard": assessment.standard.label,
                "scope": "metropolitan France" if metropolitan_only else "all places",
                "drive_time": assessment.drive_time_source,
                "demand_resolution": assessment.demand_resolution,
                "source": ref["source"],
            }
        )
    return pd.DataFrame(rows)


def pass_fail(areas: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Add ``shortfall`` (weight to cover to reach ``threshold``, rounded up; 0 when
    passing) and ``passes`` to a table with ``weight`` and ``covered_weight`` columns."""
    if not 0.0 < threshold <= 1.0:
        raise ParameterError(f"threshold={threshold!r}: expected a share in (0, 1]")
    areas = areas.copy()
    need = np.ceil(threshold * areas["weight"] - areas["covered_weight"] - 1e-9)
    areas["shortfall"] = np.maximum(need, 0.0)
    areas["passes"] = areas["shortfall"] <= 0
    return areas


def compliance_table(
    assessment: Assessment,
    threshold: float = 0.9,
    *,
    by: str | None = None,
    max_places: int = 10,
) -> pd.DataFrame:
    """Pass/fail of "at least ``threshold`` of each area's weight covered".

    Parameters
    ----------
    assessment
        Result of :func:`~relaynet.coverage.assess`.
    threshold
        Required covered share per area (0–1), 0.9 for the French postal rule.
    by
        Area column (default: the assessment's ``by``).
    max_places
        How many places to name in ``closing_places``.

    Returns
    -------
    DataFrame, one row per area, failing areas first (largest shortfall first):
    ``<by>``, ``area_name`` (when known), ``weight``, ``covered_weight``,
    ``share_covered``, ``passes``, ``shortfall`` (people to cover to reach the threshold,
    rounded up; 0 when passing), ``uncovered_places``, ``closing_places_n`` (fewest
    uncovered places, largest first, whose weight closes the shortfall) and
    ``closing_places`` (their names/ids and weights, at most ``max_places``).
    """
    if not 0.0 < threshold <= 1.0:
        raise ParameterError(f"threshold={threshold!r}: expected a share in (0, 1]")
    by = by or assessment.by
    access = assessment.access
    if by not in access.columns:
        raise ParameterError(f"by={by!r}: not a column of the assessment's access table")
    label = place_labels(access)
    frame = pd.DataFrame(
        {
            "area": access[by].astype(object).fillna("unknown").astype(str).to_numpy(),
            "weight": access["weight"].to_numpy(float),
            "covered": access["covered"].to_numpy(bool),
            "label": label.to_numpy(),
        }
    )
    frame["covered_weight"] = frame["weight"] * frame["covered"]
    areas = frame.groupby("area", sort=True).agg(
        weight=("weight", "sum"), covered_weight=("covered_weight", "sum")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        areas["share_covered"] = areas["covered_weight"] / areas["weight"].where(
            areas["weight"] > 0
        )
    areas = pass_fail(areas, threshold)
    uncovered = frame[~frame["covered"] & (frame["weight"] > 0)].sort_values(
        ["area", "weight"], ascending=[True, False]
    )
    areas["uncovered_places"] = uncovered.groupby("area").size().reindex(areas.index).fillna(0)
    cum = uncovered.groupby("area")["weight"].cumsum()
    before = cum - uncovered["weight"]
    short = areas["shortfall"].reindex(uncovered["area"]).to_numpy()
    closing = uncovered[(before.to_numpy() < short - 1e-9)]
    areas["closing_places_n"] = closing.groupby("area").size().reindex(areas.index).fillna(0)
    listed = closing.groupby("area").head(max_places)
    amounts = listed["weight"].map("{:,.0f}".format).astype(str)
    text = (listed["label"].astype(str) + " (" + amounts + ")").groupby(listed["area"])
    areas["closing_places"] = text.agg("; ".join).reindex(areas.index).fillna("")
    more = areas["closing_places_n"] > max_places
    areas.loc[more, "closing_places"] += " …"
    for column in ("uncovered_places", "closing_places_n"):
        areas[column] = areas[column].astype(np.int64)
    areas.index.name = by
    out = areas.reset_index()
    if "area_name" in access.columns and by == "area_id":
        names = access.groupby(access[by].astype(str))["area_name"].first()
        out.insert(1, "area_name", out[by].map(names))
    out = out.sort_values(["passes", "shortfall", by], ascending=[True, False, True])
    columns = [by] + (["area_name"] if "area_name" in out.columns else [])
    columns += [
        "weight",
        "covered_weight",
        "share_covered",
        "passes",
        "shortfall",
        "uncovered_places",
        "closing_places_n",
        "closing_places",
    ]
    return out[columns].reset_index(drop=True)


__all__ = [
    "PUBLISHED_REFERENCE",
    "compliance_table",
    "published_comparison",
    "published_reference",
]
