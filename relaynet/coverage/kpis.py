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
    weight of places with no eligible point at all (distance NaN).
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

_REL_TOL = 1e-12


def weighted_quantile(values, weights, q, groups=None, n_groups: int | None = None):
    """Weighted q-quantile (inverted empirical CDF), overall or per group.

    Parameters
    ----------
    values
        Values (e.g. metres); NaN counts as ``+inf`` (unreached).
    weights
        Non-negative weights, same length.
    q
        Quantile in (0, 1], or a sequence of them (one sort serves them all).
    groups
        Optional integer group code per value (0 .. n_groups-1).
    n_groups
        Number of groups (default ``groups.max() + 1``).

    Returns
    -------
    float, or ndarray of shape (n_groups,) — with a leading axis of len(q) when ``q`` is
    a sequence. NaN for a group whose total weight is zero.
    """
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if not ((qs > 0) & (qs <= 1)).all():
        raise ParameterError(f"q={q!r}: expected quantile(s) in (0, 1]")
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    v = np.where(np.isnan(v), np.inf, v)
    single = groups is None
    g = np.zeros(len(v), dtype=np.int64) if single else np.asarray(groups, dtype=np.int64)
    k = 1 if single else int(n_groups if n_groups is not None else (g.max() + 1 if len(g) else 0))
    out = np.full((len(qs), k), np.nan)
    keep = w > 0
    v, w, g = v[keep], w[keep], g[keep]
    if len(v):
        order = np.argsort(v, kind="stable")
        if not single:  # stable sort by group keeps value order within each group
            small = g[order].astype(np.int16 if k < 2**15 else np.int64)
            order = order[np.argsort(small, kind="stable")]
        v, w, g = v[order], w[order], g[order]
        total = np.bincount(g, weights=w, minlength=k)
        cum = np.cumsum(w)
        start = np.searchsorted(g, np.arange(k))  # first row of each group
        before = np.concatenate([[0.0], cum])[start]
        within = cum - before[g]
        for i, quantile in enumerate(qs):
            hit = np.flatnonzero(within >= quantile * total[g] * (1 - _REL_TOL))
            first_groups, first = np.unique(g[hit], return_index=True)
            out[i, first_groups] = v[hit[first]]
    if np.ndim(q) == 0:
        return float(out[0, 0]) if single else out[0]
    return out[:, 0] if single else out


def _sums(values: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=k)


def kpi_table(
    access: pd.DataFrame, by: str | None = None, drive_from_distance=None
) -> pd.DataFrame:
    """KPIs overall (``by=None``: one row labelled ``"all"``) or per value of column ``by``.

    Parameters
    ----------
    access
        Per-demand table with ``weight``, ``covered``, ``distance_m``, ``n_points``,
        ``n_networks`` and optionally ``drive_s``.
    by
        Grouping column (``"area_id"``, ``"density_class"`` …).
    drive_from_distance
        When drive times are a linear function of distance (estimated drive times), that
        function: drive KPIs are then derived from the distance KPIs instead of re-sorting.

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
        codes, uniques = pd.factorize(access[by].astype(object).fillna("unknown"), sort=True)
        labels = pd.Index(uniques, name=by)
    k = len(labels)
    w = access["weight"].to_numpy(float)
    covered = access["covered"].to_numpy(bool)
    dist = access["distance_m"].to_numpy(float)
    reached = np.isfinite(dist)
    n_net = access["n_networks"].to_numpy()
    if "n_points" in access.columns:
        backup = access["n_points"].to_numpy() >= 2
    elif "backup" in access.columns:
        backup = access["backup"].to_numpy(bool)
    else:
        raise ParameterError("kpi_table: access table needs 'n_points' or 'backup'")
    weight = _sums(w, codes, k)
    covered_w = _sums(w * covered, codes, k)
    reached_w = _sums(w * reached, codes, k)
    quantiles = weighted_quantile(dist, w, [0.5, 0.9], codes, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "n_places": np.bincount(codes, minlength=k),
            "weight": weight,
            "covered_weight": covered_w,
            "uncovered_weight": weight - covered_w,
            "share_covered": covered_w / np.where(weight > 0, weight, np.nan),
            "mean_distance_m": _sums(w * np.where(reached, dist, 0.0), codes, k)
            / np.where(reached_w > 0, reached_w, np.nan),
            "p50_distance_m": quantiles[0],
            "p90_distance_m": quantiles[1],
            "mean_drive_s": np.full(k, np.nan),
            "p90_drive_s": np.full(k, np.nan),
        }
        if drive_from_distance is not None:
            out["mean_drive_s"] = drive_from_distance(out["mean_distance_m"])
            out["p90_drive_s"] = drive_from_distance(out["p90_distance_m"])
        elif "drive_s" in access.columns:
            drive = access["drive_s"].to_numpy(float)
            driven = np.isfinite(drive)
            driven_w = _sums(w * driven, codes, k)
            out["mean_drive_s"] = _sums(w * np.where(driven, drive, 0.0), codes, k) / np.where(
                driven_w > 0, driven_w, np.nan
            )
            out["p90_drive_s"] = weighted_quantile(drive, w, 0.9, codes, k)
        positive = np.where(weight > 0, weight, np.nan)
        out["fragile_weight"] = _sums(w * (n_net == 1), codes, k)
        out["fragile_share"] = out["fragile_weight"] / positive
        out["backup_weight"] = _sums(w * backup, codes, k)
        out["backup_share"] = out["backup_weight"] / positive
        out["unreached_weight"] = weight - reached_w
    return pd.DataFrame(out, index=labels, columns=list(KPI_COLUMNS))


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


__all__ = ["KPI_COLUMNS", "kpi_dict", "kpi_table", "weighted_quantile"]
