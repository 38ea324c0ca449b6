"""KPI tables from combined partial sums: exact weights, histogram quantiles.

Every KPI of :func:`relaynet.coverage.kpis.kpi_table` is a ratio of additive sums over the
places of a group, so partitions return the sums of
:func:`relaynet.coverage.kpis.kpi_sums` (never averages) and the client turns them into
KPIs with the local engine's own :func:`relaynet.coverage.kpis.kpis_from_sums`: this
module has no formula of its own. Quantiles come from the combined distance histogram:

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
from ..coverage.kpis import kpis_from_sums, weighted_quantile
from ..coverage.networks import network_table
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
    p50, p90 = weighted_quantile(values, weights, [0.5, 0.9], codes, k)
    return kpis_from_sums(
        sums, labels, p50, p90, drive_from_distance=None if drive is None else drive.drive_s
    )


def networks_from_partials(
    partials: Partials, names: tuple[str, ...], eligible_per_network: np.ndarray, total: float
) -> pd.DataFrame:
    """Per-network coverage table, same layout as ``coverage.network_contribution``."""
    covered = float(partials.sums[("", "all")]["covered_weight"].sum())
    return network_table(partials.networks, pd.Index(names), covered, total, eligible_per_network)


__all__ = ["kpi_from_partials", "networks_from_partials"]
