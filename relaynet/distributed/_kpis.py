"""KPI tables from combined partial sums: exact weights, histogram quantiles.

Every KPI of :func:`relaynet.coverage.kpis.kpi_table` is a ratio of additive sums over the
places of a group, so partitions return the sums (never averages) and the client divides
once. Quantiles come from the combined distance histogram:

Quantile method and error bound
-------------------------------
Each partition rounds the nearest distance *up* to the next multiple of ``resolution_m``
(1 m by default) and sums weights per (group, rounded distance). The combined histogram
is a weighted sample, and :func:`relaynet.coverage.kpis.weighted_quantile` (inverted
empirical CDF, the local definition) is applied to it. Rounding up (``ceil``) is
non-decreasing and left-continuous, so it commutes with the inverted-CDF quantile: the
result is exactly ``ceil(q_local / resolution_m) * resolution_m``, i.e.
``q_local ≤ q_dask < q_local + resolution_m`` (unreached places count as ``+inf`` in both).
The estimated-drive quantile is the estimate applied to that distance (error below
``resolution_m × detour / speed``: 0.094 s for 1 m at 1.3 and 50 km/h).
Memory: one row per distinct (group, rounded distance), independent of the number of places.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..coverage.estimate import DriveEstimate
from ..coverage.kpis import KPI_COLUMNS, weighted_quantile
from ..coverage.networks import ALL_NETWORKS
from ._tasks import Partials


def kpi_from_partials(
    partials: Partials,
    key: tuple[str, str],
    resolution_m: float,
    drive: DriveEstimate | None,
) -> pd.DataFrame:
    """KPI table (same columns and index as ``kpi_table``) for ``(window, grouping)``."""
    sums = partials.sums[key].sort_index()
    name = key[1] if key[1] != "all" else "group"
    labels = pd.Index(sums.index.tolist(), name=name)
    k = len(labels)
    hist = partials.hist[key]
    codes = labels.get_indexer(hist["group"].to_numpy(object))
    bins = hist["bin"].to_numpy(np.int64)
    values = np.where(bins < 0, np.inf, bins * float(resolution_m))
    weights = hist["weight"].to_numpy(float)
    p50 = np.asarray(weighted_quantile(values, weights, 0.5, codes, k), dtype=float)
    p90 = np.asarray(weighted_quantile(values, weights, 0.9, codes, k), dtype=float)
    weight = sums["weight"].to_numpy(float)
    covered = sums["covered_weight"].to_numpy(float)
    reached = sums["reached_weight"].to_numpy(float)
    positive = np.where(weight > 0, weight, np.nan)
    reached_pos = np.where(reached > 0, reached, np.nan)
    out = {
        "n_places": np.rint(sums["n_places"].to_numpy(float)).astype(np.int64),
        "weight": weight,
        "covered_weight": covered,
        "uncovered_weight": weight - covered,
        "share_covered": covered / positive,
        "mean_distance_m": sums["distance_weight"].to_numpy(float) / reached_pos,
        "p50_distance_m": p50,
        "p90_distance_m": p90,
        "mean_drive_s": np.full(k, np.nan),
        "p90_drive_s": np.full(k, np.nan),
        "fragile_weight": sums["fragile_weight"].to_numpy(float),
        "backup_weight": sums["backup_weight"].to_numpy(float),
        "unreached_weight": weight - reached,
    }
    if drive is not None:
        out["mean_drive_s"] = sums["drive_weight"].to_numpy(float) / reached_pos
        with np.errstate(invalid="ignore"):
            out["p90_drive_s"] = np.where(np.isfinite(p90), drive.drive_s(p90), p90)
    out["fragile_share"] = out["fragile_weight"] / positive
    out["backup_share"] = out["backup_weight"] / positive
    return pd.DataFrame(out, index=labels, columns=list(KPI_COLUMNS))


def networks_from_partials(
    partials: Partials, names: tuple[str, ...], eligible_per_network: np.ndarray, total: float
) -> pd.DataFrame:
    """Per-network coverage table, same layout as ``coverage.network_contribution``."""
    table = partials.networks.reindex(range(len(names)), fill_value=0.0)
    covered = partials.sums[("", "all")]["covered_weight"].sum()
    rows = [
        {
            "network": name,
            "n_points": int(eligible_per_network[j]),
            "covered_weight": float(table["covered_weight"].iloc[j]),
            "marginal_weight": float(table["marginal_weight"].iloc[j]),
        }
        for j, name in enumerate(names)
    ]
    if len(names) == 1:
        rows[0]["covered_weight"] = rows[0]["marginal_weight"] = float(covered)
    rows.append(
        {
            "network": ALL_NETWORKS,
            "n_points": int(np.sum(eligible_per_network)),
            "covered_weight": float(covered),
            "marginal_weight": float(covered),
        }
    )
    out = pd.DataFrame(rows)
    denominator = total if total > 0 else np.nan
    out.insert(3, "share_covered", out["covered_weight"] / denominator)
    out["marginal_share"] = out["marginal_weight"] / denominator
    return out


__all__ = ["kpi_from_partials", "networks_from_partials"]
