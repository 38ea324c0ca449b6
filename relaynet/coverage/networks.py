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


def network_contribution(
    covered_by: np.ndarray,
    weight: np.ndarray,
    names: pd.Index,
    eligible_per_network: np.ndarray | None = None,
) -> pd.DataFrame:
    """Coverage of each network alone and its marginal contribution.

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
    covered_by = np.asarray(covered_by, dtype=bool).reshape(len(names), len(weight))
    total = float(weight.sum())
    count = covered_by.sum(axis=0)
    covered_all = count > 0
    rows = []
    for j, name in enumerate(names):
        only = covered_by[j] & (count == 1)
        rows.append(
            {
                "network": str(name),
                "n_points": int(eligible_per_network[j]) if eligible_per_network is not None else 0,
                "covered_weight": float(weight[covered_by[j]].sum()),
                "marginal_weight": float(weight[only].sum()),
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


__all__ = ["ALL_NETWORKS", "network_codes", "network_contribution"]
