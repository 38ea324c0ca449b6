"""Coverage KPIs from a per-demand access table: shares, weighted distances, fragility.

Every KPI is a weighted aggregate over demand places (weight = population, households or
orders), overall or per group (area, density class). The input is the per-demand table
built by :func:`relaynet.coverage.assess` — one row per place with ``weight``,
``covered``, ``distance_m``, ``n_points`` (or a boolean ``backup``), ``n_networks`` and
optionally ``drive_s``.

Definitions
-----------
``share_covered``
    covered weight / total weight (NaN for a group of zero weight).
``fragile_weight``
    weight of places covered by exactly one *network* (losing that network's points
    would leave them uncovered).
``backup_weight``
    weight of places covered by at least two *points* (backup coverage).
``unreached_weight``
    weight of places with no eligible point at all, or none within the search limit of
    :func:`relaynet.coverage.assess` (100 km straight line by default: another island or
    continent is not access); their distance is NaN.
``mean_distance_m``
    weighted mean distance to the nearest eligible point over *reached* places only
    (``unreached_weight`` says how much weight is left out).
``p90_distance_m`` (and ``p50``)
    weighted quantile by the *inverted empirical CDF*: sort places by distance, the
    q-quantile is the smallest distance ``d`` such that the places at distance ≤ ``d``
    hold at least ``q`` of the group's weight (numpy's ``method="inverted_cdf"`` with
    weights; with equal weights, the ordinary ``inverted_cdf`` quantile). Unreached
    places count as infinitely far, so the quantile is ``inf`` when more than ``1 - q``
    of the weight is unreached. Zero-weight places never decide a quantile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .quantiles import grouped_quantiles

KPI_COLUMNS = (
    "n_places",
    "weight",
    "covered_weight",
    "uncovered_weight",
    "share_covered",
    "mean_distance_m",
    "p50_distance_m",
    "p90_distance_m",
    "mean_drive_s",
    "p90_drive_s",
    "fragile_weight",
    "fragile_share",
    "backup_weight",
    "backup_share",
    "unreached_weight",
)
"""Columns of every KPI table, in order."""


def weighted_quantile(values, weights, q, groups=None, n_groups: int | None = None):
    """Weighted q-quantile (inverted empirical CDF), overall or per group.

    Parameters
    ----------
    values
        Values (e.g. metres); NaN counts as ``+inf`` (unreached).
    weights
        Non-negative weights, same length.
    q
        Quantile in (0, 1], or a sequence of them.
    groups
        Optional integer group code per value (0 .. n_groups-1).
    n_groups
        Number of groups (default ``groups.max() + 1``).

    Returns
    -------
    float, or ndarray of shape (n_groups,) — with a leading axis of len(q) when ``q`` is
    a sequence. NaN for a group whose total weight is zero.

    See :mod:`relaynet.coverage.quantiles` for how (exactly, without a full sort).
    """
    if groups is None:
        out = grouped_quantiles(values, weights, q)[:, 0]
        return float(out[0]) if np.ndim(q) == 0 else out
    groups = np.asarray(groups, dtype=np.int64)
    if n_groups is None:
        n_groups = int(groups.max()) + 1 if len(groups) else 0
    out = grouped_quantiles(values, weights, q, groups, n_groups)
    return out[0] if np.ndim(q) == 0 else out


SUM_COLUMNS = (
    "n_places",
    "weight",
    "covered_weight",
    "reached_weight",
    "distance_weight",
    "driven_weight",
    "drive_weight",
    "fragile_weight",
    "backup_weight",
)
"""Additive per-group sums every KPI is a ratio of: ``reached_weight`` is the weight of
places with an eligible point (finite distance), ``distance_weight`` Σ weight × metres over
them; ``driven_weight`` / ``drive_weight`` the same for finite drive times (seconds)."""


def kpi_sums(
    weight,
    covered,
    distance_m,
    backup,
    n_networks,
    drive_s=None,
    codes=None,
    n_groups: int = 1,
) -> dict[str, np.ndarray]:
    """The additive sums (:data:`SUM_COLUMNS`) of some places, per group.

    Sums of disjoint sets of places add up: the dask engine sums them over partitions,
    the local engine computes them over all places at once; :func:`kpis_from_sums` turns
    either into KPIs.

    Parameters
    ----------
    weight
        Weight of every place (≥ 0).
    covered, backup
        Booleans: at least one / at least two eligible points within the standard.
    distance_m
        Metres to the nearest eligible point (NaN: none eligible).
    n_networks
        Networks with an eligible point within the standard (1 = fragile).
    drive_s
        Drive seconds to the nearest point (NaN where unknown), or ``None``.
    codes
        Integer group of every place (0 .. n_groups-1); ``None``: one group.
    n_groups
        Number of groups.

    Returns
    -------
    ``{column: ndarray of shape (n_groups,)}`` for every column of :data:`SUM_COLUMNS`.
    """
    w = np.asarray(weight, dtype=float)
    if codes is None:  # one group: plain (pairwise) sums
        k = 1

        def total(values) -> np.ndarray:
            return np.array([np.add.reduce(np.asarray(values, dtype=float))])

        count = np.array([float(len(w))])
    else:
        codes = np.asarray(codes, np.int64)
        k = int(n_groups)

        def total(values) -> np.ndarray:
            return np.bincount(codes, weights=values, minlength=k)

        count = np.bincount(codes, minlength=k).astype(float)

    dist = np.asarray(distance_m, dtype=float)
    reached = np.isfinite(dist)
    out = {
        "n_places": count,
        "weight": total(w),
        "covered_weight": total(w * np.asarray(covered, dtype=bool)),
        "reached_weight": total(w * reached),
        "distance_weight": total(w * np.where(reached, dist, 0.0)),
        "driven_weight": np.zeros(k),
        "drive_weight": np.zeros(k),
        "fragile_weight": total(w * (np.asarray(n_networks) == 1)),
        "backup_weight": total(w * np.asarray(backup, dtype=bool)),
    }
    if drive_s is not None:
        drive = np.asarray(drive_s, dtype=float)
        driven = np.isfinite(drive)
        out["driven_weight"] = total(w * driven)
        out["drive_weight"] = total(w * np.where(driven, drive, 0.0))
    return out


def kpis_from_sums(
    sums,
    labels: pd.Index,
    p50_distance_m,
    p90_distance_m,
    p90_drive_s=None,
    drive_from_distance=None,
) -> pd.DataFrame:
    """KPI table from additive sums and quantiles: every ratio of :data:`KPI_COLUMNS`.

    Parameters
    ----------
    sums
        Mapping (or DataFrame) with the :data:`SUM_COLUMNS`, one value per group.
    labels
        Group labels (the index of the result).
    p50_distance_m, p90_distance_m, p90_drive_s
        Quantiles per group (:func:`weighted_quantile`).
    drive_from_distance
        When drive times are a non-decreasing function of distance (estimated drive
        times) and ``p90_drive_s`` is ``None``: the drive quantile is that function of the
        distance quantile. Without either, ``p90_drive_s`` is NaN.

    Returns
    -------
    DataFrame indexed by ``labels`` with :data:`KPI_COLUMNS`. A ratio whose denominator
    is zero is NaN.
    """
    k = len(labels)

    def column(name: str) -> np.ndarray:
        return np.asarray(sums[name], dtype=float).reshape(k)

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return numerator / np.where(denominator > 0, denominator, np.nan)

    p90 = np.asarray(p90_distance_m, dtype=float).reshape(k)
    if p90_drive_s is None and drive_from_distance is not None:
        with np.errstate(invalid="ignore"):
            p90_drive_s = np.where(np.isfinite(p90), drive_from_distance(p90), p90)
    weight = column("weight")
    covered = column("covered_weight")
    fragile = column("fragile_weight")
    backup = column("backup_weight")
    nan = np.full(k, np.nan)
    out = {
        "n_places": np.rint(column("n_places")).astype(np.int64),
        "weight": weight,
        "covered_weight": covered,
        "uncovered_weight": weight - covered,
        "share_covered": ratio(covered, weight),
        "mean_distance_m": ratio(column("distance_weight"), column("reached_weight")),
        "p50_distance_m": np.asarray(p50_distance_m, dtype=float).reshape(k),
        "p90_distance_m": p90,
        "mean_drive_s": ratio(column("drive_weight"), column("driven_weight")),
        "p90_drive_s": nan if p90_drive_s is None else np.asarray(p90_drive_s, float).reshape(k),
        "fragile_weight": fragile,
        "fragile_share": ratio(fragile, weight),
        "backup_weight": backup,
        "backup_share": ratio(backup, weight),
        "unreached_weight": weight - column("reached_weight"),
    }
    return pd.DataFrame(out, index=labels, columns=list(KPI_COLUMNS))


def _group_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Sorted group labels (missing → ``"unknown"``) and the group code of every row;
    categorical columns are not converted to Python objects."""
    codes, uniques = pd.factorize(values, sort=True)
    uniques = pd.Index(uniques.astype(object))
    if not (codes < 0).any() and uniques.is_monotonic_increasing:
        return codes.astype(np.int64), uniques
    labels = uniques
    if (codes < 0).any():
        labels = labels.append(pd.Index(["unknown"], dtype=object)).unique()
    labels = labels.sort_values()
    remap = np.append(labels.get_indexer(uniques), labels.get_indexer(["unknown"]))
    return remap[codes].astype(np.int64), labels  # code -1 (missing) → the last entry


def kpi_table(
    access: pd.DataFrame, by: str | None = None, drive_from_distance=None
) -> pd.DataFrame:
    """KPIs overall (``by=None``: one row labelled ``"all"``) or per value of column ``by``.

    :func:`kpi_sums` then :func:`kpis_from_sums`, with exact weighted quantiles.

    Parameters
    ----------
    access
        Per-demand table with ``weight``, ``covered``, ``distance_m``, ``n_points`` (or a
        boolean ``backup``), ``n_networks`` and optionally ``drive_s``.
    by
        Grouping column (``"area_id"``, ``"density_class"`` …).
    drive_from_distance
        When drive times are a non-decreasing function of distance (estimated drive
        times), that function: the drive quantile is derived from the distance quantile
        instead of re-sorting.

    Returns
    -------
    DataFrame indexed by group (name ``by`` or ``"group"``) with :data:`KPI_COLUMNS`.
    """
    required = ("weight", "covered", "distance_m", "n_networks")
    missing = [c for c in required if c not in access.columns]
    if missing:
        raise ParameterError(f"kpi_table: access table lacks columns {missing}")
    if by is None:
        codes = np.zeros(len(access), dtype=np.int64)
        labels = pd.Index(["all"], name="group")
    else:
        if by not in access.columns:
            raise ParameterError(
                f"kpi_table: no column {by!r} to group by; columns are {list(access.columns)}"
            )
        codes, labels = _group_codes(access[by])
        labels.name = by
    k = len(labels)
    if "n_points" in access.columns:
        backup = access["n_points"].to_numpy() >= 2
    elif "backup" in access.columns:
        backup = access["backup"].to_numpy(bool)
    else:
        raise ParameterError("kpi_table: access table needs 'n_points' or 'backup'")
    w = access["weight"].to_numpy(float)
    dist = access["distance_m"].to_numpy(float)
    drive = access["drive_s"].to_numpy(float) if "drive_s" in access.columns else None
    if drive is None and drive_from_distance is not None:
        drive = drive_from_distance(dist)
    sums = kpi_sums(
        w,
        access["covered"].to_numpy(bool),
        dist,
        backup,
        access["n_networks"].to_numpy(),
        drive,
        None if by is None else codes,
        k,
    )
    p50, p90 = weighted_quantile(dist, w, [0.5, 0.9], codes, k)
    p90_drive = None
    if drive_from_distance is None and drive is not None:
        p90_drive = weighted_quantile(drive, w, 0.9, codes, k)
    return kpis_from_sums(sums, labels, p50, p90, p90_drive, drive_from_distance)


def kpis_with_total(
    weight,
    covered,
    distance_m,
    backup,
    n_networks,
    drive_s,
    codes,
    labels: pd.Index,
    drive_from_distance=None,
) -> pd.DataFrame:
    """KPIs overall (first row, ``"all"``) then per group, from arrays (the KPIs of a time
    window, overall and per density class).

    Equal to :func:`kpi_table` without ``by`` stacked on :func:`kpi_table` by the groups.

    Parameters
    ----------
    weight, covered, distance_m, backup, n_networks, drive_s
        Per place, as in :func:`kpi_sums` (``drive_s`` may be ``None``).
    codes
        Integer group of every place (0 .. len(labels)-1).
    labels
        Group labels.
    drive_from_distance
        As in :func:`kpi_table`.

    Returns
    -------
    DataFrame indexed by ``"all"`` then ``labels``, with :data:`KPI_COLUMNS`.
    """
    k = len(labels)
    w = np.asarray(weight, dtype=float)
    dist = np.asarray(distance_m, dtype=float)
    drive = None if drive_s is None else np.asarray(drive_s, dtype=float)
    if drive is None and drive_from_distance is not None:
        drive = drive_from_distance(dist)
    columns = (w, covered, dist, backup, n_networks, drive)
    overall = kpi_sums(*columns)
    per_group = kpi_sums(*columns, codes, k)
    p50_all, p90_all = grouped_quantiles(dist, w, [0.5, 0.9])
    p50, p90 = grouped_quantiles(dist, w, [0.5, 0.9], codes, k)
    drive_all = drive_group = None
    if drive_from_distance is None and drive is not None:
        (drive_all,) = grouped_quantiles(drive, w, [0.9])
        (drive_group,) = grouped_quantiles(drive, w, [0.9], codes, k)
    return pd.concat(
        [
            kpis_from_sums(
                overall, pd.Index(["all"]), p50_all, p90_all, drive_all, drive_from_distance
            ),
            kpis_from_sums(per_group, labels, p50, p90, drive_group, drive_from_distance),
        ]
    )


def kpi_dict(row: pd.Series) -> dict[str, float | int | None]:
    """One KPI row as JSON-safe Python numbers (NaN and ±inf become ``None``)."""
    out: dict[str, float | int | None] = {}
    for key, value in row.items():
        if isinstance(value, bool | np.bool_):
            out[str(key)] = bool(value)
        elif isinstance(value, int | np.integer) or (
            str(key).startswith("n_") and isinstance(value, float) and float(value).is_integer()
        ):
            out[str(key)] = int(value)
        elif isinstance(value, float | np.floating):
            out[str(key)] = float(value) if np.isfinite(value) else None
        else:
            out[str(key)] = value
    return out


__all__ = [
    "KPI_COLUMNS",
    "SUM_COLUMNS",
    "kpi_dict",
    "kpi_sums",
    "kpi_table",
    "kpis_from_sums",
    "kpis_with_total",
    "weighted_quantile",
]
