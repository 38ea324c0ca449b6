"""Exact weighted quantiles per group without sorting every value.

The q-quantile of a group is the inverted empirical CDF (numpy's ``method="inverted_cdf"``
with weights): sort the group's values, the quantile is the first value at which the
cumulated weight reaches ``q`` of the group's weight. Sorting a million distances for
each KPI table (overall, per area, per density class, per time window) was most of the
KPI cost, so the values are first put in *buckets* — a map that never decreases with
the value — and only the one bucket that holds each quantile is sorted:

1. every value gets a bucket from the bit pattern of ``value - min + 1`` (a float's bits
   grow with it, so buckets are narrow in relative terms: a few per thousand of the value
   whether it is 30 m or 300 km; ``+inf``, unreached places, has the last bucket and
   ``-inf`` the first);
2. one weighted count per (group, bucket) and a running sum over the buckets tell, for
   each group and quantile, the bucket where the cumulated weight reaches ``q``;
3. the places of those buckets alone are sorted by (group, value), and their running sum
   (started from the weight of the buckets before) gives the exact place.

Work is linear in the number of values plus a sort of the few candidates; the answer is
the sorted-order answer. Cumulated weights are summed bucket by bucket instead of place
by place, so a threshold within ~1e-12 (relative) of a cumulated weight is decided with
the tolerance below, as before.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

REL_TOL = 1e-12
"""Relative tolerance on ``q × group weight``: a cumulated weight within it counts as
reaching the quantile (sums of exact weights such as integers stay exact)."""

_MAX_BUCKETS = 4096
_MAX_CELLS = 1 << 22
"""At most this many (group, bucket) cells: fewer buckets when there are many groups."""


def grouped_quantiles(values, weights, qs, groups=None, n_groups: int = 1) -> np.ndarray:
    """Weighted quantiles (inverted empirical CDF) of each group.

    Parameters
    ----------
    values
        Float values; NaN counts as ``+inf``.
    weights
        Weights (≥ 0); places of zero weight never decide a quantile.
    qs
        Quantiles in (0, 1].
    groups
        Integer group of every value (0 .. n_groups-1); ``None``: one group.
    n_groups
        Number of groups.

    Returns
    -------
    ndarray of shape (len(qs), n_groups); NaN for a group of zero weight.
    """
    qs = np.atleast_1d(np.asarray(qs, dtype=float))
    if not ((qs > 0) & (qs <= 1)).all():
        raise ParameterError(f"q={qs.tolist()!r}: expected quantile(s) in (0, 1]")
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    k = int(n_groups) if groups is not None else 1
    g = np.zeros(len(v), dtype=np.int64) if groups is None else np.asarray(groups, np.int64)
    if len(g) != len(v) or len(w) != len(v):
        raise ParameterError("quantiles: values, weights and groups differ in length")
    if len(g) and (g.min() < 0 or g.max() >= k):
        raise ParameterError(f"quantiles: group codes must lie in 0 .. {k - 1} (n_groups={k})")
    keep = w > 0
    if not keep.all():
        v, w, g = v[keep], w[keep], g[keep]
    v = np.where(np.isnan(v), np.inf, v)
    out = np.full((len(qs), k), np.nan)
    if not len(v) or k == 0:
        return out
    n_buckets = int(max(3, min(_MAX_BUCKETS, len(v) // 8 + 3, _MAX_CELLS // k)))
    bucket = _buckets(v, n_buckets)
    cells = g * n_buckets + bucket
    cum = np.cumsum(np.bincount(cells, weights=w, minlength=k * n_buckets).reshape(k, -1), 1)
    total = cum[:, -1]
    has = total > 0
    for i, q in enumerate(qs):
        threshold = q * total * (1 - REL_TOL)
        # the bucket of each group where the cumulated weight first reaches the threshold
        hit = np.where(has, (cum >= threshold[:, None]).argmax(axis=1), -1)
        before = np.where(hit > 0, cum[np.arange(k), np.maximum(hit - 1, 0)], 0.0)
        pick = np.flatnonzero(bucket == hit[g])
        if not len(pick):
            continue
        order = np.lexsort((v[pick], g[pick]))
        pick = pick[order]
        owner = g[pick]
        size = np.bincount(owner, minlength=k)
        start = np.cumsum(size) - size
        running = np.cumsum(w[pick])
        within = running - np.concatenate([[0.0], running])[start][owner]
        short = np.bincount(
            owner[before[owner] + within < threshold[owner]], minlength=k
        )  # candidates short of the threshold: a prefix of the group's candidates
        found = np.flatnonzero(size > 0)
        # a rounding shortfall at the bucket's end: its last (largest) value
        at = start[found] + np.minimum(short[found], size[found] - 1)
        out[i, found] = v[pick[at]]
    return out


def _buckets(v: np.ndarray, n_buckets: int) -> np.ndarray:
    """Bucket of every value in ``0 .. n_buckets-1``, never decreasing with the value:
    ``-inf`` first, finite values over ``1 .. n_buckets-2`` by the bits of ``v - min + 1``,
    ``+inf`` last (``n_buckets`` ≥ 3)."""
    finite = np.isfinite(v)
    out = np.where(v < 0, 0, n_buckets - 1).astype(np.int64)  # the infinities
    if not finite.any():
        return out
    lo = v[finite].min()
    with np.errstate(over="ignore"):  # a span beyond the float range is +inf: still in order
        # ≥ 1 and never decreasing in v; positive floats' bit patterns grow with them
        bits = (np.where(finite, v, lo) - lo + 1.0).view(np.int64)
    base = np.int64(0x3FF0000000000000)  # bits of 1.0
    span = int(bits.max() - base)
    shift = max(0, (span // (n_buckets - 2)).bit_length())
    out[finite] = 1 + ((bits[finite] - base) >> shift)
    return out


__all__ = ["REL_TOL", "grouped_quantiles"]
