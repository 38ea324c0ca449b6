"""Shortest-path work on a road graph stored as arrays: CSR, multi-source searches, road length.

Everything here is on integer node indices ``0..n-1`` and float arrays; the
:class:`~relaynet.network.RoadNetwork` adapter maps places and points to these indices.

Times are seconds, lengths metres. Searches run on the *reversed* graph so that a distance at
node ``v`` is the time to travel *from* ``v`` *to* the nearest source (a customer driving to a
relay point on one-way streets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

_NO_PRED = -9999  # scipy's marker for "no predecessor"


@dataclass(frozen=True)
class Csr:
    """A directed graph in compressed sparse row form, with a sorted edge-key index.

    ``keys[i] = row * n_cols + col`` for the i-th stored edge, sorted, so that the position of
    edge ``(row, col)`` is found with :func:`numpy.searchsorted`.
    """

    matrix: sp.csr_array
    keys: np.ndarray
    n: int

    def position(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Stored position of each edge ``rows[i] -> cols[i]`` (edges must exist)."""
        return np.searchsorted(self.keys, rows.astype(np.int64) * self.n + cols)


def build_csr(
    rows: np.ndarray, cols: np.ndarray, weight: np.ndarray, n: int, presorted: bool = False
) -> tuple[Csr, np.ndarray]:
    """CSR of ``n`` nodes from unique edges; returns it and the edge order used for ``data``.

    ``order`` maps stored positions to input edges: attribute ``a`` of the input edges is
    ``a[order]`` in CSR order. ``presorted`` says the edges are already sorted by (row, col).
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    order = np.arange(len(rows)) if presorted else np.lexsort((cols, rows))
    r, c = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if n < 2**31 - 1 and len(r) < 2**31 - 1 else np.int64
    matrix = sp.csr_array(
        (
            np.asarray(weight, dtype=np.float64)[order],
            c.astype(idx_dtype),
            indptr.astype(idx_dtype),
        ),
        shape=(n, n),
    )
    return Csr(matrix=matrix, keys=r * n + c, n=n), order


def dedup_edges(
    u: np.ndarray, v: np.ndarray, time_s: np.ndarray, length_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep, for each ordered node pair, the fastest of its parallel edges (and its length).

    Self-loops are dropped: they never shorten a path.
    """
    keep = u != v
    u, v, time_s, length_m = u[keep], v[keep], time_s[keep], length_m[keep]
    order = np.lexsort((length_m, time_s, v, u))
    u, v, time_s, length_m = u[order], v[order], time_s[order], length_m[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[first], v[first], time_s[first], length_m[first]


def accumulate(base: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Sum ``base`` along pointer chains (pointer jumping, O(n log depth), vectorized).

    ``ptr[i]`` is the next node of ``i`` on its chain, ``-1`` at the end. Returns
    ``out[i] = base[i] + base[ptr[i]] + base[ptr[ptr[i]]] + ...``.
    """
    val = base.astype(np.float64, copy=True)
    ptr = ptr.astype(np.int64, copy=True)
    idx = np.flatnonzero(ptr >= 0)
    while idx.size:
        p = ptr[idx]
        val[idx] = val[idx] + val[p]
        ptr[idx] = ptr[p]
        idx = idx[ptr[idx] >= 0]
    return val


@dataclass(frozen=True)
class Labels:
    """k nearest distinct sources of every node.

    ``source[v, r]`` is the index (into the sources array) of the (r+1)-th nearest distinct
    source of node ``v`` (``-1`` if none within the limit), ``time_s`` the travel time from
    ``v`` to it and ``length_m`` the road length of that fastest path (NaN if none).
    """

    source: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray


@dataclass(frozen=True)
class _Graph:
    """A reversed road graph (CSR) and its edges in CSR order (forward tail ``ra``, head ``rb``)."""

    n: int
    rev: Csr
    ra: np.ndarray
    rb: np.ndarray
    rw: np.ndarray
    rl: np.ndarray

    def forward_length(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length in metres of the forward edge ``a -> b`` (which must exist)."""
        return self.rl[self.rev.position(b.astype(np.int64), a.astype(np.int64))]

    def with_virtual_sources(
        self,
        n_src: int,
        node: np.ndarray,
        src: np.ndarray,
        time_s: np.ndarray,
        length_m: np.ndarray,
    ) -> _Graph:
        """This graph plus ``n_src`` virtual nodes ``n + j``, reached from ``node`` in ``time_s``.

        Virtual node ``n + src[i]`` gets a forward edge ``node[i] -> n + src[i]`` (reversed:
        a row appended after the real ones, so the real rows are copied, not re-sorted).
        """
        order = np.lexsort((length_m, time_s, node, src))
        node, src, time_s, length_m = node[order], src[order], time_s[order], length_m[order]
        first = np.ones(len(node), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (node[1:] != node[:-1])
        node, src, time_s, length_m = node[first], src[first], time_s[first], length_m[first]
        n2 = self.n + int(n_src)
        m = self.rev.matrix
        indptr = np.concatenate(
            [m.indptr.astype(np.int64), m.indptr[-1] + np.cumsum(np.bincount(src, minlength=n_src))]
        )
        idx_dtype = np.int32 if n2 < 2**31 - 1 and indptr[-1] < 2**31 - 1 else np.int64
        matrix = sp.csr_array(
            (
                np.concatenate([m.data, time_s]),
                np.concatenate([m.indices, node]).astype(idx_dtype),
                indptr.astype(idx_dtype),
            ),
            shape=(n2, n2),
        )
        rows = self.n + src
        keys = np.concatenate([self.rb * n2 + self.ra, rows * n2 + node])
        return _Graph(
            n=n2,
            rev=Csr(matrix=matrix, keys=keys, n=n2),
            ra=np.concatenate([self.ra, node]),
            rb=np.concatenate([self.rb, rows]),
            rw=np.concatenate([self.rw, time_s]),
            rl=np.concatenate([self.rl, length_m]),
        )


class Router:
    """Multi-source searches on one road graph.

    Parameters
    ----------
    u, v : array of int
        Forward edges (a customer can drive from ``u`` to ``v``), node indices ``0..n-1``.
    time_s, length_m : array of float
        Edge travel time in seconds and length in metres. Parallel edges keep the fastest.
    n : int
        Number of nodes.
    """

    def __init__(
        self, u: np.ndarray, v: np.ndarray, time_s: np.ndarray, length_m: np.ndarray, n: int
    ) -> None:
        fu, fv, fw, fl = dedup_edges(
            np.asarray(u, np.int64),
            np.asarray(v, np.int64),
            np.asarray(time_s, np.float64),
            np.asarray(length_m, np.float64),
        )
        self.n = int(n)
        # forward edges, sorted by (u, v): the customer's direction
        self.fu, self.fv, self.fw, self.fl = fu, fv, fw, fl
        self.forward_keys = fu * self.n + fv
        # reversed graph: an edge v -> u for every road u -> v; search from the sources
        self.rev, order = build_csr(fv, fu, fw, self.n)
        # the same edges in reversed-CSR order (sorted by head, then tail)
        self.ra, self.rb, self.rw, self.rl = fu[order], fv[order], fw[order], fl[order]
        self._graph = _Graph(self.n, self.rev, self.ra, self.rb, self.rw, self.rl)

    @property
    def n_edges(self) -> int:
        """Number of directed edges after merging parallel edges."""
        return len(self.fu)

    def forward_length(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length in metres of the forward edge ``a -> b`` (which must exist)."""
        return self.fl[np.searchsorted(self.forward_keys, a.astype(np.int64) * self.n + b)]

    # -- k nearest distinct sources -------------------------------------------------------

    def nearest_sources(self, sources: np.ndarray, k: int = 1, limit: float = np.inf) -> Labels:
        """The ``k`` nearest distinct sources of every node, one Dijkstra per rank.

        Rank 1 is one multi-source Dijkstra (``min_only``) on the reversed graph. Rank r > 1
        solves the Bellman equation of "nearest source not among my r-1 nearest":

            d_r(a) = min over roads a -> b of  w(a, b) + d_r(b)        if X(b) == X(a)
                                               w(a, b) + d_j(b)        otherwise, j = first rank
                                                                        of b whose source is
                                                                        not in X(a)

        where X(a) is the set of a's r-1 nearest sources. It is again a shortest-path
        problem, solved by one more ``min_only`` Dijkstra on an augmented graph: one virtual
        start node per source, joined to ``a`` by the "otherwise" terms. Cost: k Dijkstra runs
        plus O(k² E) vectorized work; memory O(n k + E).

        Parameters
        ----------
        sources : array of int
            Distinct node indices of the sources.
        k : int
            Number of distinct sources wanted per node.
        limit : float
            Maximum travel time in seconds; farther sources are not returned.
        """
        return _nearest(self._graph, np.asarray(sources, dtype=np.int64), k, limit)

    def nearest_seeded(
        self,
        n_src: int,
        node: np.ndarray,
        src: np.ndarray,
        time_s: np.ndarray,
        length_m: np.ndarray,
        k: int = 1,
        limit: float = np.inf,
    ) -> Labels:
        """:meth:`nearest_sources` for sources lying *on* edges rather than at nodes.

        Source ``src[i]`` (``0..n_src-1``) is reached from node ``node[i]`` after ``time_s[i]``
        seconds and ``length_m[i]`` metres (a relay point part-way along a road, reached from
        either end); a source may have several such seeds. Each source becomes a virtual node
        of a copy of the reversed graph, and the same k-rank searches run from those.
        """
        if n_src == 0:
            return _nearest(self._graph, np.zeros(0, np.int64), k, limit)
        graph = self._graph.with_virtual_sources(
            n_src,
            np.asarray(node, np.int64),
            np.asarray(src, np.int64),
            np.asarray(time_s, np.float64),
            np.asarray(length_m, np.float64),
        )
        lab = _nearest(graph, self.n + np.arange(n_src, dtype=np.int64), k, limit)
        return Labels(lab.source[: self.n], lab.time_s[: self.n], lab.length_m[: self.n])

    # -- bounded searches -----------------------------------------------------------------

    def pairs_within(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        limit: float,
        xyz: np.ndarray | None = None,
        reach_m: float = np.inf,
        chunk: int = 64,
        max_cells: int = 2**24,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (source, target) pairs with travel time target -> source within ``limit``.

        One bounded Dijkstra per chunk of spatially close sources, run on the subgraph of the
        nodes within ``reach_m`` metres (straight line) of the chunk: no path of at most
        ``limit`` seconds can leave that ball when ``reach_m`` bounds the straight-line
        distance covered in ``limit`` seconds, so the answer is exact.

        Parameters
        ----------
        sources, targets : array of int
            Distinct node indices.
        limit : float
            Maximum travel time in seconds.
        xyz : (n, 3) array, optional
            Node coordinates on a sphere in metres (earth-centred); enables the subgraph cut.
        reach_m : float
            Upper bound of the straight-line distance reachable within ``limit``.

        Returns
        -------
        source_index, target_index, time_s : arrays
            Indices into ``sources`` and ``targets``, and the travel time in seconds.
        """
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        out_s, out_t, out_d = [], [], []
        if sources.size == 0 or targets.size == 0:
            empty = np.array([], dtype=np.int64)
            return empty, empty, np.array([], dtype=np.float64)
        use_cut = xyz is not None and np.isfinite(reach_m)
        if use_cut:
            tree = cKDTree(xyz)
            order = cKDTree(xyz[sources]).indices  # leaf order: neighbours stay together
        else:
            order = np.arange(len(sources))
        t_order = np.argsort(targets)
        t_sorted = targets[t_order]
        for start in range(0, len(order), chunk):
            sel = order[start : start + chunk]
            if use_cut:
                centre = xyz[sources[sel]].mean(axis=0)
                radius = np.sqrt(((xyz[sources[sel]] - centre) ** 2).sum(axis=1)).max()
                nodes = np.asarray(
                    tree.query_ball_point(centre, radius + reach_m + 1.0, return_sorted=True),
                    dtype=np.int64,
                )
                graph = self.rev.matrix[nodes][:, nodes]
            else:
                nodes = np.arange(self.n)
                graph = self.rev.matrix
            src_local = np.searchsorted(nodes, sources[sel])
            lo, hi = np.searchsorted(t_sorted, [nodes[0], nodes[-1] + 1])
            tgt = t_sorted[lo:hi]
            tgt_local = np.searchsorted(nodes, tgt)
            inside = nodes[tgt_local.clip(0, len(nodes) - 1)] == tgt
            tgt_idx = t_order[lo:hi][inside]
            tgt_local = tgt_local[inside]
            if tgt_local.size == 0:
                continue
            step = max(1, max_cells // max(len(nodes), 1))
            for s0 in range(0, len(sel), step):
                dist = dijkstra(
                    graph, directed=True, indices=src_local[s0 : s0 + step], limit=limit
                )
                block = dist[:, tgt_local]
                i, j = np.nonzero(np.isfinite(block))
                out_s.append(sel[s0 + i])
                out_t.append(tgt_idx[j])
                out_d.append(block[i, j])
        if not out_s:
            empty = np.array([], dtype=np.int64)
            return empty, empty, np.array([], dtype=np.float64)
        return np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_d)

    def times_from(self, sources: np.ndarray, limit: float, max_cells: int = 2**24) -> np.ndarray:
        """Dense travel times (seconds) from every node to each source, ``(len(sources), n)``.

        Runs on the reversed graph in chunks of sources so that each dense block holds at most
        ``max_cells`` floats. Entries beyond ``limit`` are ``inf``.
        """
        sources = np.asarray(sources, dtype=np.int64)
        out = np.empty((len(sources), self.n))
        step = max(1, max_cells // max(self.n, 1))
        for start in range(0, len(sources), step):
            chunk = sources[start : start + step]
            out[start : start + len(chunk)] = dijkstra(
                self.rev.matrix, directed=True, indices=chunk, limit=limit
            )
        return out


def _nearest(g: _Graph, sources: np.ndarray, k: int, limit: float) -> Labels:
    """k nearest distinct sources of every node of ``g`` (see Router.nearest_sources)."""
    n = g.n
    lab = np.full((n, k), -1, dtype=np.int64)
    tim = np.full((n, k), np.inf)
    rd = np.full((n, k), np.nan)
    if sources.size == 0:
        return Labels(lab, tim, rd)
    src_pos = np.full(n, -1, dtype=np.int64)
    src_pos[sources] = np.arange(len(sources))

    dist, pred, origin = dijkstra(
        g.rev.matrix,
        directed=True,
        indices=sources,
        min_only=True,
        return_predecessors=True,
        limit=limit,
    )
    reached = np.isfinite(dist)
    lab[reached, 0] = src_pos[origin[reached]]
    tim[:, 0] = dist
    has_pred = pred >= 0
    base = np.zeros(n)
    nodes = np.flatnonzero(has_pred)
    base[nodes] = g.forward_length(nodes, pred[nodes].astype(np.int64))
    road = accumulate(base, np.where(has_pred, pred, -1))
    rd[reached, 0] = road[reached]

    for r in range(1, min(k, len(sources))):
        _next_rank(g, r, sources, src_pos, lab, tim, rd, limit)
    return Labels(lab, tim, rd)


def _next_rank(
    g: _Graph,
    r: int,
    sources: np.ndarray,
    src_pos: np.ndarray,
    lab: np.ndarray,
    tim: np.ndarray,
    rd: np.ndarray,
    limit: float,
) -> None:
    """Fill column ``r`` of the labels from columns ``0..r-1`` (see nearest_sources)."""
    n, n_src = g.n, len(sources)
    # edges a -> b in reversed-CSR order, so that any subset stays sorted by (b, a)
    a, b, w, ln = g.ra, g.rb, g.rw, g.rl
    xa = lab[a, :r]
    lb = lab[b, :r]
    a_full = (xa >= 0).all(axis=1)
    # first rank j of b whose source is valid and not among a's r nearest
    usable = (lb >= 0) & ~(lb[:, :, None] == xa[:, None, :]).any(axis=2)
    has_usable = usable.any(axis=1)
    jstar = usable.argmax(axis=1)
    internal = a_full & ~has_usable & (lb >= 0).all(axis=1)
    boundary = a_full & has_usable

    bi = np.flatnonzero(boundary)
    jb = jstar[bi]
    v_rows = n + lab[b[bi], jb]
    v_cols = a[bi]
    v_w = w[bi] + tim[b[bi], jb]
    v_base = ln[bi] + rd[b[bi], jb]
    # a source node whose own source is not among its r nearest (ties at distance 0)
    own = src_pos >= 0
    own[own] = ~(lab[own, :r] == src_pos[own][:, None]).any(axis=1)
    own &= (lab[:, :r] >= 0).all(axis=1)
    on = np.flatnonzero(own)
    v_rows = np.concatenate([v_rows, n + src_pos[on]])
    v_cols = np.concatenate([v_cols, on])
    v_w = np.concatenate([v_w, np.zeros(len(on))])
    v_base = np.concatenate([v_base, np.zeros(len(on))])
    v_keep = v_w <= limit
    v_rows, v_cols, v_w, v_base = v_rows[v_keep], v_cols[v_keep], v_w[v_keep], v_base[v_keep]
    # one virtual edge per (source, node): the cheapest
    order = np.lexsort((v_w, v_cols, v_rows))
    v_rows, v_cols, v_w, v_base = v_rows[order], v_cols[order], v_w[order], v_base[order]
    first = np.ones(len(v_rows), dtype=bool)
    first[1:] = (v_rows[1:] != v_rows[:-1]) | (v_cols[1:] != v_cols[:-1])
    v_rows, v_cols, v_w, v_base = v_rows[first], v_cols[first], v_w[first], v_base[first]
    if v_rows.size == 0:
        return

    ii = np.flatnonzero(internal)
    rows = np.concatenate([b[ii], v_rows])  # reversed: b -> a
    cols = np.concatenate([a[ii], v_cols])
    wt = np.concatenate([w[ii], v_w])
    bs = np.concatenate([ln[ii], v_base])
    virt = np.concatenate([np.zeros(len(ii), bool), np.ones(len(v_rows), bool)])
    big = n + n_src
    # internal edges keep the (b, a) order, virtual rows (>= n) come after, sorted
    aug, order = build_csr(rows, cols, wt, big, presorted=True)
    bs, virt = bs[order], virt[order]

    starts = np.unique(v_rows)
    dist, pred, origin = dijkstra(
        aug.matrix,
        directed=True,
        indices=starts,
        min_only=True,
        return_predecessors=True,
        limit=limit,
    )
    dist, pred, origin = dist[:n], pred[:n].astype(np.int64), origin[:n]
    reached = np.isfinite(dist)
    lab[reached, r] = origin[reached] - n
    tim[:, r] = dist
    nodes = np.flatnonzero(reached & (pred >= 0))
    pos = aug.position(pred[nodes], nodes)
    base = np.zeros(n)
    base[nodes] = bs[pos]
    ptr = np.full(n, -1, dtype=np.int64)
    ptr[nodes] = np.where(virt[pos], -1, pred[nodes])
    road = accumulate(base, ptr)
    rd[reached, r] = road[reached]
