"""Coverage per network and what each network adds on top of the others.

Works on which networks cover each place (computed once by
:func:`~relaynet.coverage.assess`), so it needs no new distance computation:

* ``covered_weight`` of network N: weight of places covered by at least one point of
  N (N alone, as if the other networks did not exist);
* ``marginal_weight`` of N: weight covered by N and by *no other* network (what the
  coverage of all networks together would lose without N);
* the row ``"all networks"`` gives the coverage of every network together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALL_NETWORKS = "all networks"
"""Label of the row giving the coverage of every network together."""


def network_codes(points: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Integer network code of each point and the network names (missing → ``"unknown"``)."""
    if "network" in points.columns:
        values = points["network"].astype(object).where(points["network"].notna(), "unknown")
    else:
        values = pd.Series(["unknown"] * len(points), dtype=object)
    codes, names = pd.factorize(values.astype(str), sort=True)
    return codes.astype(np.int64), pd.Index(names, name="network")


NETWORK_SUM_COLUMNS = ("covered_weight", "marginal_weight")
"""Additive per-network sums (see :func:`network_sums`)."""


def network_sums(covered_by: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    """Additive per-network sums of some places (they add up over disjoint sets of places).

    Parameters
    ----------
    covered_by
        Boolean array, shape (n_networks, n_places): place covered by at least one eligible
        point of that network.
    weight
        Weight of every place, shape (n_places,).

    Returns
    -------
    DataFrame indexed by network code (0 .. n_networks-1): ``covered_weight`` (weight
    covered by the network) and ``marginal_weight`` (covered by it and no other network).
    """
    weight = np.asarray(weight, dtype=float)
    covered_by = np.asarray(covered_by, dtype=bool).reshape(-1, len(weight))
    only = covered_by & (covered_by.sum(axis=0) == 1)
    return pd.DataFrame(
        {"covered_weight": covered_by @ weight, "marginal_weight": only @ weight},
        index=pd.RangeIndex(len(covered_by)),
    )


def network_table(
    sums: pd.DataFrame,
    names: pd.Index,
    covered_weight: float,
    total_weight: float,
    eligible_per_network: np.ndarray | None = None,
) -> pd.DataFrame:
    """The per-network table from :func:`network_sums` (possibly summed over partitions).

    Parameters
    ----------
    sums
        :data:`NETWORK_SUM_COLUMNS` indexed by network code.
    names
        Network names by code.
    covered_weight
        Weight covered by all networks together.
    total_weight
        Weight of all places (denominator of the shares).
    eligible_per_network
        Number of eligible points per network (reported as ``n_points``).

    Returns
    -------
    DataFrame with one row per network plus ``"all networks"``: ``network, n_points,
    covered_weight, share_covered, marginal_weight, marginal_share`` (shares of the total
    weight; NaN when it is zero).
    """
    sums = sums.reindex(range(len(names)), fill_value=0.0)
    eligible = (
        np.zeros(len(names), dtype=np.int64)
        if eligible_per_network is None
        else np.asarray(eligible_per_network, dtype=np.int64)
    )
    out = pd.DataFrame(
        {
            "network": [*(str(x) for x in names), ALL_NETWORKS],
            "n_points": [*(int(x) for x in eligible), int(eligible.sum())],
            "covered_weight": [*sums["covered_weight"].astype(float), float(covered_weight)],
            "marginal_weight": [*sums["marginal_weight"].astype(float), float(covered_weight)],
        }
    )
    denominator = total_weight if total_weight > 0 else np.nan
    out.insert(3, "share_covered", out["covered_weight"] / denominator)
    out["marginal_share"] = out["marginal_weight"] / denominator
    return out


def network_contribution(
    covered_by: np.ndarray,
    weight: np.ndarray,
    names: pd.Index,
    eligible_per_network: np.ndarray | None = None,
) -> pd.DataFrame:
    """Coverage of each network alone and its marginal contribution.

    :func:`network_sums` then :func:`network_table`.

    Parameters
    ----------
    covered_by
        Boolean array, shape (n_networks, n_places): place covered by at least one eligible
        point of that network.
    weight
        Weight of every place, shape (n_places,).
    names
        Network names, in the order of ``covered_by``'s rows.
    eligible_per_network
        Number of eligible points per network (reported as ``n_points``).

    Returns
    -------
    DataFrame with one row per network plus ``"all networks"``: ``network, n_points,
    covered_weight, share_covered, marginal_weight, marginal_share`` (shares of the total
    weight).
    """
    weight = np.asarray(weight, dtype=float)
    covered_by = np.asarray(covered_by, dtype=bool).reshape(len(names), len(weight))
    covered = float(weight[covered_by.any(axis=0)].sum())
    return network_table(
        network_sums(covered_by, weight), names, covered, float(weight.sum()), eligible_per_network
    )


def networks_records(table: pd.DataFrame) -> list[dict]:
    """The per-network table as JSON-safe records (NaN and ±inf become ``None``)."""
    return [
        {k: (v if not isinstance(v, float) or np.isfinite(v) else None) for k, v in r.items()}
        for r in table.to_dict("records")
    ]


__all__ = [
    "ALL_NETWORKS",
    "NETWORK_SUM_COLUMNS",
    "network_codes",
    "network_contribution",
    "network_sums",
    "network_table",
    "networks_records",
]
