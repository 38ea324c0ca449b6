"""Coverage per network and what each network adds on top of the others.

Works on the *covering pairs* of an assessment — every (place, eligible point) pair
within the service standard — so it needs no new distance computation:

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


def networks_per_place(
    place: np.ndarray, point_network: np.ndarray, n_places: int, n_networks: int
) -> np.ndarray:
    """Number of distinct networks among each place's covering pairs.

    Parameters
    ----------
    place
        Place position of each covering pair.
    point_network
        Network code of each pair's point.
    """
    if n_networks <= 1:
        return (np.bincount(place, minlength=n_places) > 0).astype(np.int64)
    keys = np.unique(place * np.int64(n_networks) + point_network)
    return np.bincount(keys // n_networks, minlength=n_places).astype(np.int64)


def network_contribution(
    place: np.ndarray,
    point_network: np.ndarray,
    weight: np.ndarray,
    names: pd.Index,
    eligible_per_network: np.ndarray | None = None,
) -> pd.DataFrame:
    """Coverage of each network alone and its marginal contribution.

    Parameters
    ----------
    place
        Place position (into ``weight``) of each covering pair.
    point_network
        Network code (into ``names``) of each covering pair's point.
    weight
        Weight of every place.
    names
        Network names by code.
    eligible_per_network
        Number of eligible points per network code (reported as ``n_points``).

    Returns
    -------
    DataFrame with one row per network plus ``"all networks"``: ``network, n_points,
    covered_weight, share_covered, marginal_weight, marginal_share`` (shares of the total
    weight).
    """
    n = len(weight)
    k = len(names)
    total = float(weight.sum())
    counts = np.zeros((k, n), dtype=np.int64)
    for j in range(k):
        counts[j] = np.bincount(place[point_network == j], minlength=n)
    any_count = counts.sum(axis=0)
    covered_all = any_count > 0
    rows = []
    for j, name in enumerate(names):
        alone = counts[j] > 0
        without = (any_count - counts[j]) > 0
        rows.append(
            {
                "network": str(name),
                "n_points": int(eligible_per_network[j]) if eligible_per_network is not None else 0,
                "covered_weight": float(weight[alone].sum()),
                "marginal_weight": float(weight[covered_all & ~without].sum()),
            }
        )
    rows.append(
        {
            "network": ALL_NETWORKS,
            "n_points": int(eligible_per_network.sum()) if eligible_per_network is not None else 0,
            "covered_weight": float(weight[covered_all].sum()),
            "marginal_weight": float(weight[covered_all].sum()),
        }
    )
    out = pd.DataFrame(rows)
    denominator = total if total > 0 else np.nan
    out.insert(3, "share_covered", out["covered_weight"] / denominator)
    out["marginal_share"] = out["marginal_weight"] / denominator
    return out


__all__ = ["ALL_NETWORKS", "network_codes", "network_contribution", "networks_per_place"]
