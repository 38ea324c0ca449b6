"""Points within reach of every place, found once, then read under every eligibility mask.

Coverage by straight-line reach asks the same spatial question for the base eligibility,
every time window and every network: *which eligible points lie within the standard's
reach of this place, and which is the nearest?* :func:`evaluate_masks` answers all of
them from **one** radius query:

1. the places are taken in chunks of at most 65 536; for each chunk, one dual-tree radius
   query (:meth:`scipy.spatial.cKDTree.sparse_distance_matrix`, chord distances on the
   unit sphere) gives the sparse (place, point, metres) pairs within reach, over the
   points eligible under *any* of the masks;
2. each mask is then a boolean over those pairs: the number of eligible points in reach
   (``n_points``; backup = at least two), the nearest of them, and which networks reach
   the place (fragility). The masks are packed as bits per point; the points share few
   distinct bit *patterns* (a handful for a base and four time windows), so **one** pass
   over the chunk's pairs counts them per (place, network, pattern) and finds each
   (place, pattern)'s first pair; every mask's counts and nearest point are then sums
   and minima over its patterns, per place, not per pair (many patterns: one pass per
   mask instead);
3. only places with no eligible point in reach need more: their nearest eligible point
   (and its distance, beyond the reach) comes from a k=1 query on that mask's own index
   (:func:`fill_unreached`, :meth:`relaynet.nearest.Locator.query`), so every place
   gets its nearest point — up to a search limit (:data:`SEARCH_LIMIT_M`, 100 km):
   beyond it, on another island or continent, the place is *unreached*.

Memory is bounded by one chunk's pairs (a dense city gives a place hundreds of points
within 5 km), not by the whole demand; time grows linearly with the number of places.
A pair is in reach when its great-circle distance (from the chord, as every distance in
:mod:`relaynet.geo`) is ≤ the reach in metres; ties between equally distant points are
broken by the lower point row.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..errors import ParameterError
from ..geo import chord_to_metres, metres_to_chord, unit_vectors

CHUNK = 1 << 16
"""Places per chunk (place positions inside a chunk fit in 16 bits)."""

_LEAFSIZE = 32

SEARCH_LIMIT_M = 100_000.0
"""Default farthest nearest point (metres) that still counts as reachable: a place whose
nearest eligible point is farther — on another island or continent, e.g. Réunion when the
only points open on a Sunday evening are in mainland France — is *unreached*."""

_MAX_CELLS = 256
"""Most (network, mask pattern) cells per place counted in one pass over the pairs."""


@dataclass(frozen=True)
class MaskReach:
    """What one eligibility mask gives every place (arrays of length n_places).

    Attributes
    ----------
    nearest_row
        Row (into the points) of the nearest eligible point, ``-1`` when none is eligible
        (within the search limit: unreached).
    distance_m
        Great-circle metres to it (NaN when none).
    n_points
        Eligible points within reach.
    n_networks
        Distinct networks among them.
    covered_by
        Boolean, shape (n_networks, n_places): an eligible point of that network in reach.
    """

    nearest_row: np.ndarray
    distance_m: np.ndarray
    n_points: np.ndarray
    n_networks: np.ndarray
    covered_by: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        """At least one eligible point within reach."""
        return self.n_points > 0

    @property
    def backup(self) -> np.ndarray:
        """At least two eligible points within reach."""
        return self.n_points >= 2


def evaluate_masks(
    locator,
    lat: np.ndarray,
    lon: np.ndarray,
    radius_m: float | np.ndarray,
    masks: Sequence[np.ndarray],
    network_code: np.ndarray,
    n_networks: int,
    *,
    chunk: int = CHUNK,
    unreached: bool = True,
    search_limit_m: float | None = SEARCH_LIMIT_M,
) -> list[MaskReach]:
    """Reach of every place under every mask, from one radius query per chunk of places.

    Parameters
    ----------
    locator
        :class:`relaynet.nearest.Locator` over the points (its unit vectors ``xyz_`` and
        its k=1 query for places with nothing in reach).
    lat, lon
        Places, degrees (validated by the caller).
    radius_m
        Straight-line reach, great-circle metres (≥ 0): one for all places, or one per
        place (a reach that depends on the place's density class).
    masks
        Boolean masks over the points, one per eligibility to evaluate.
    network_code
        Integer network code of every point (0 .. n_networks-1).
    n_networks
        Number of networks.
    chunk
        Places per chunk (≤ 65 536).
    unreached
        Also find the nearest eligible point of places with none in reach (one k=1 query
        per mask). ``False`` leaves them at ``-1`` / NaN, for :func:`fill_unreached` later
        (e.g. in a thread per mask).
    search_limit_m
        Farthest nearest point that counts (:data:`SEARCH_LIMIT_M`, 100 km); ``None``:
        no limit.

    Returns
    -------
    One :class:`MaskReach` per mask, in order.
    """
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    n = len(lat)
    radius = np.asarray(radius_m, dtype=float)
    if radius.ndim not in (0, 1) or (radius.ndim == 1 and len(radius) != n):
        raise ParameterError(f"radius_m: expected one value or one per place ({n})")
    if not (np.isfinite(radius) & (radius >= 0)).all():
        raise ParameterError("radius_m: expected finite metres ≥ 0")
    chunk = int(chunk)
    if not 1 <= chunk <= CHUNK:
        raise ParameterError(f"chunk={chunk!r}: expected 1 .. {CHUNK}")
    n_masks = len(masks)
    if n_masks > 64:
        raise ParameterError(f"{n_masks} masks: at most 64 are evaluated together")
    masks = [np.asarray(m, dtype=bool) for m in masks]
    # one bit per mask for every point; pairs are found among points eligible under any
    bits = np.zeros(len(locator.xyz_), dtype=np.uint64 if n_masks > 8 else np.uint8)
    for k, mask in enumerate(masks):
        bits |= mask.astype(bits.dtype) << bits.dtype.type(k)
    rows = np.flatnonzero(bits)
    patterns, pattern_code = np.unique(bits[rows], return_inverse=True)
    member = (patterns[:, None] >> np.arange(n_masks, dtype=patterns.dtype)) & 1 == 1
    nearest_row = np.full((n_masks, n), -1, dtype=np.int64)
    distance = np.full((n_masks, n), np.nan)
    counts = np.zeros((n_masks, n, n_networks), dtype=np.int32)
    if len(rows) and n:
        tree = cKDTree(locator.xyz_[rows], leafsize=_LEAFSIZE, balanced_tree=False)
        shared = _Shared(
            lat,
            lon,
            radius,
            tree,
            rows,
            bits[rows],
            (pattern_code.reshape(-1) * n_networks + np.asarray(network_code)[rows]).astype(
                np.int32
            ),
            member,
            np.asarray(network_code)[rows],
            n_networks,
            nearest_row,
            distance,
            counts,
        )
        spans = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
        threads = thread_count(getattr(locator, "workers", 1), len(spans))
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(shared.run, spans))
        else:
            for span in spans:
                shared.run(span)
    out = []
    for k, mask in enumerate(masks):
        reach = MaskReach(
            nearest_row=nearest_row[k],
            distance_m=distance[k],
            n_points=counts[k].sum(axis=1, dtype=np.int64),
            n_networks=(counts[k] > 0).sum(axis=1, dtype=np.int64),
            covered_by=(counts[k] > 0).T,
        )
        if unreached:
            reach = fill_unreached(reach, locator, lat, lon, mask, search_limit_m)
        out.append(reach)
    return out


def check_search_limit(value: float | None) -> float | None:
    """``value`` as metres (a number > 0), or None (no limit); else a ParameterError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"search_limit_m={value!r}: expected metres > 0, or None")
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"search_limit_m={value!r}: expected metres > 0, or None")
    return float(value)


def fill_unreached(
    reach: MaskReach,
    locator,
    lat,
    lon,
    mask: np.ndarray,
    search_limit_m: float | None = SEARCH_LIMIT_M,
) -> MaskReach:
    """Give the places with no eligible point in reach their nearest eligible point (and
    its metres, beyond the reach) from one k=1 query on ``mask``'s index, if it lies
    within ``search_limit_m`` (``None``: anywhere); ``reach`` is completed in place and
    returned. Places with none (an empty mask, or none within the limit) keep ``-1`` /
    NaN: unreached."""
    far = np.flatnonzero(reach.n_points == 0)
    if len(far) and np.any(mask):
        found, metres = locator.query(
            np.asarray(lat, float)[far],
            np.asarray(lon, float)[far],
            k=1,
            where=mask,
            max_distance_m=search_limit_m,
        )
        reach.nearest_row[far] = found[:, 0]
        reach.distance_m[far] = metres[:, 0]
    return reach


def thread_count(workers: int | None, tasks: int) -> int:
    """Threads for ``tasks`` independent numpy tasks: ``workers`` (a Locator's; ``-1`` or
    ``None``: one per core), at most one per task, at least one."""
    cores = os.cpu_count() or 1
    wanted = cores if workers is None or workers < 1 else workers
    return max(1, min(int(wanted), tasks))


@dataclass(frozen=True)
class _Shared:
    """Inputs and outputs of the chunks; each chunk writes its own slice of the outputs."""

    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray
    tree: cKDTree
    rows: np.ndarray
    bits: np.ndarray
    cell: np.ndarray  # pattern × n_networks + network of every point in the tree
    member: np.ndarray
    code: np.ndarray
    n_networks: int
    nearest_row: np.ndarray
    distance: np.ndarray
    counts: np.ndarray

    def run(self, span: tuple[int, int]) -> None:
        start, stop = span
        radius = self.radius if self.radius.ndim == 0 else self.radius[start:stop]
        place, sub, dist = _pairs(
            unit_vectors(self.lat[start:stop], self.lon[start:stop]), self.tree, radius
        )
        if len(place) == 0:
            return
        if len(self.member) * self.n_networks <= _MAX_CELLS:
            self._by_pattern(start, stop, place, sub, dist)
        else:
            self._by_mask(start, stop, place, sub, dist)

    def _by_pattern(self, start, stop, place, sub, dist) -> None:
        """Every mask from one pass over the pairs: counts per (place, network, pattern)
        and the first pair of each (place, pattern); a mask is the union of its patterns."""
        size = stop - start
        n_pat, n_net = len(self.member), self.n_networks
        # cell of a pair: (place, pattern, network), from the point's (pattern, network)
        key = place.astype(np.int32) * np.int32(n_pat * n_net) + self.cell[sub]
        cells = np.bincount(key, minlength=size * n_pat * n_net).reshape(size, n_pat, n_net)
        per_net = cells.transpose(0, 2, 1).reshape(size * n_net, n_pat)
        counts = per_net @ self.member.astype(np.int64)  # (size * n_net, masks)
        self.counts[:, start:stop] = np.moveaxis(counts.reshape(size, n_net, -1), 2, 0)
        none = len(place)
        first = np.full(size * n_pat, none, dtype=np.int64)
        np.minimum.at(first, key // np.int32(n_net), np.arange(none, dtype=np.int64))
        first = first.reshape(size, n_pat)
        for k in range(len(self.counts)):
            # pairs are sorted by place then distance: a place's first pair under one of
            # the mask's patterns is its nearest eligible point
            nearest = first[:, self.member[:, k]].min(axis=1, initial=none)
            found = np.flatnonzero(nearest < none)
            pair = nearest[found]
            self.nearest_row[k, start + found] = self.rows[sub[pair]]
            self.distance[k, start + found] = dist[pair]

    def _by_mask(self, start, stop, place, sub, dist) -> None:
        """Every mask by its own pass over the pairs (when the masks form many patterns)."""
        size = stop - start
        heads = np.flatnonzero(np.r_[True, place[1:] != place[:-1]])
        net_key = place.astype(np.int64) * self.n_networks + self.code[sub]
        pair_bits = self.bits[sub]
        for k in range(len(self.counts)):
            ok = (pair_bits & pair_bits.dtype.type(1 << k)) != 0
            if not ok.any():
                continue
            if ok.all():
                keys, nearest = net_key, heads
            else:
                keys = net_key[ok]
                # pairs are sorted by place then distance: the first eligible pair of a
                # place is its nearest eligible point
                nearest = np.flatnonzero(ok)
                owner = place[nearest]
                nearest = nearest[np.r_[True, owner[1:] != owner[:-1]]]
            self.counts[k, start:stop] = np.bincount(
                keys, minlength=size * self.n_networks
            ).reshape(size, self.n_networks)
            where = start + place[nearest].astype(np.int64)
            self.nearest_row[k, where] = self.rows[sub[nearest]]
            self.distance[k, where] = dist[nearest]


def _pairs(xyz: np.ndarray, tree: cKDTree, radius_m: np.ndarray):
    """(place in chunk, point position in the tree, metres) within ``radius_m`` (one, or
    one per place of the chunk), sorted by place, then distance, then point."""
    if radius_m.size == 0:
        return np.empty(0, np.uint16), np.empty(0, np.intp), np.empty(0)
    chord = metres_to_chord(float(radius_m.max())) * (1 + 1e-9) + 1e-15
    places = cKDTree(xyz, leafsize=_LEAFSIZE, balanced_tree=False)
    found = places.sparse_distance_matrix(tree, chord, output_type="ndarray")
    dist = chord_to_metres(found["v"])
    keep = np.flatnonzero(dist <= (radius_m if radius_m.ndim == 0 else radius_m[found["i"]]))
    keep = keep[np.argsort(dist[keep])]  # by distance (ties fixed below) …
    keep = keep[np.argsort(found["i"][keep].astype(np.uint16), kind="stable")]  # … per place
    place = found["i"][keep].astype(np.uint16)
    sub = found["j"][keep]
    dist = dist[keep]
    # equal distances (points at the same spot) in point order, so the lower row wins
    tied = np.flatnonzero((place[1:] == place[:-1]) & (dist[1:] == dist[:-1]))
    if len(tied):
        members = np.union1d(tied, tied + 1)
        linked = np.isin(members[:-1], tied) & (np.diff(members) == 1)
        run = np.cumsum(np.r_[True, ~linked])
        members = members[np.lexsort((sub[members], run))]
        spots = np.sort(members)
        sub[spots] = sub[members]
    return place, sub, dist
