"""Snapping places to the nearest road *edge*, on the sphere.

A road network is stored as :class:`Roads`: pieces of road between two graph nodes ``a`` and
``b``, each with its shape (interior vertices, none for a straight piece), its length and its
travel time in each direction it may be travelled (``NaN`` when it may not: one-way streets).

A place is projected onto the nearest point of the nearest road piece. Distances are exact
great-circle distances on the sphere of radius :data:`relaynet.geo.EARTH_RADIUS_M`: each
straight piece of a shape is taken as the great-circle arc between its two vertices, and the
place is projected onto that arc (no map projection). The position along the road is the
fraction ``f`` of its length from ``a``; costs along the road are prorated by length (one
speed per road piece). Road pieces within :data:`TIE_M` of the nearest one count as equally
near, so a place on a two-way road (stored as two pieces) or at a junction sees every way out.

From there a place enters the graph at ``b`` after ``(1 - f) × time(a→b)`` and at ``a`` after
``f × time(b→a)`` (only the directions allowed); a relay point is reached from ``a`` after
``f × time(a→b)`` and from ``b`` after ``(1 - f) × time(b→a)``; a place and a point on the same
road piece also reach each other directly along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..geo import EARTH_RADIUS_M, unit_vectors

TIE_M = 1e-3
"""Road pieces whose distance to a place is within this many metres of the nearest one's are
equally near (a two-way road and its reverse, the roads of a junction)."""

SAMPLE_M = 50.0
"""Spacing in metres of the sample points indexing road shapes for the nearest-edge search
(a memory/speed trade-off only: the search is exact for any spacing)."""


@dataclass(frozen=True)
class Roads:
    """Road pieces between graph nodes (positions ``0..n-1``).

    ``fwd_s`` / ``bwd_s`` are the travel times in seconds from ``a`` to ``b`` / ``b`` to ``a``
    (``NaN``: not allowed); ``length_m`` the length in metres along the shape; the interior
    vertices of piece ``i`` (degrees, from ``a`` to ``b``, endpoints excluded) are
    ``vlat[vptr[i]:vptr[i + 1]]``, ``vlon[...]``.
    """

    a: np.ndarray
    b: np.ndarray
    fwd_s: np.ndarray
    bwd_s: np.ndarray
    length_m: np.ndarray
    vptr: np.ndarray
    vlat: np.ndarray
    vlon: np.ndarray

    @classmethod
    def one_way(
        cls,
        u: np.ndarray,
        v: np.ndarray,
        time_s: np.ndarray,
        length_m: np.ndarray,
        shapes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> Roads:
        """One piece per directed edge ``u → v`` (a two-way street is two pieces)."""
        m = len(u)
        if shapes is None:
            vptr, vlat, vlon = np.zeros(m + 1, np.int64), np.zeros(0), np.zeros(0)
        else:
            vptr, vlat, vlon = (np.asarray(x) for x in shapes)
            vptr = vptr.astype(np.int64)
            if len(vptr) != m + 1 or vptr[0] != 0 or (np.diff(vptr) < 0).any():
                raise ValueError("shapes offsets must start at 0, rise, and number edges + 1")
            if not (len(vlat) == len(vlon) == vptr[-1]):
                raise ValueError("shapes lat/lon must hold offsets[-1] vertices")
        return cls(
            np.asarray(u, np.int64),
            np.asarray(v, np.int64),
            np.asarray(time_s, np.float64),
            np.full(m, np.nan),
            np.asarray(length_m, np.float64),
            vptr,
            np.asarray(vlat, np.float64),
            np.asarray(vlon, np.float64),
        )

    def __len__(self) -> int:
        return len(self.a)

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed edges ``(u, v, time_s, length_m)``: forward pieces then backward ones."""
        f, b = np.isfinite(self.fwd_s), np.isfinite(self.bwd_s)
        return (
            np.concatenate([self.a[f], self.b[b]]),
            np.concatenate([self.b[f], self.a[b]]),
            np.concatenate([self.fwd_s[f], self.bwd_s[b]]),
            np.concatenate([self.length_m[f], self.length_m[b]]),
        )


@dataclass(frozen=True)
class Snapped:
    """Nearest road pieces of some places: one row per (place, equally near piece).

    ``owner`` is the place position, ``road`` the piece, ``frac`` the position along it
    (0 at ``a``, 1 at ``b``, by length), ``lat``/``lon`` the snapped location; ``snap_m[i]``
    is the great-circle distance in metres from place ``i`` to its nearest piece.
    """

    owner: np.ndarray
    road: np.ndarray
    frac: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    snap_m: np.ndarray

    def keep(self, mask: np.ndarray) -> Snapped:
        """Only the rows of places where ``mask[owner]``."""
        k = mask[self.owner]
        return Snapped(
            self.owner[k], self.road[k], self.frac[k], self.lat[k], self.lon[k], self.snap_m
        )


def _norm(x: np.ndarray) -> np.ndarray:
    return np.sqrt((x * x).sum(axis=1))


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x * y).sum(axis=1)


def _angle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Angle in radians between unit vectors, accurate for tiny angles."""
    return np.arctan2(_norm(np.cross(x, y)), _dot(x, y))


def project_on_arcs(
    p: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest point of each great-circle arc ``a[i]b[i]`` to ``p[i]`` (unit vectors).

    Returns the angular distance (radians), the position along the arc as a fraction of its
    angle (0 at ``a``) and the nearest point (unit vectors).
    """
    n = np.cross(a, b)
    nn = _norm(n)
    ab = np.arctan2(nn, _dot(a, b))
    flat = nn < 1e-15  # a == b: a point, not an arc
    nh = n / np.where(flat, 1.0, nn)[:, None]
    s = _dot(p, nh)
    c = p - s[:, None] * nh
    cn = _norm(c)
    c = c / np.where(cn > 0, cn, 1.0)[:, None]
    inside = ~flat & (_dot(np.cross(a, c), nh) >= 0) & (_dot(np.cross(c, b), nh) >= 0) & (cn > 0)
    d_in = np.arctan2(np.abs(s), cn)
    t_in = np.clip(_angle(a, c) / np.where(ab > 0, ab, 1.0), 0.0, 1.0)
    da, db = _angle(p, a), _angle(p, b)
    to_a = da <= db
    # an endpoint at least as near wins: exact on vertices (the arc formula is ~1e-13 rad off)
    inside &= d_in < np.minimum(da, db)
    dist = np.where(inside, d_in, np.minimum(da, db))
    t = np.where(inside, t_in, np.where(to_a, 0.0, 1.0))
    near = np.where(inside[:, None], c, np.where(to_a[:, None], a, b))
    return dist, t, near


class SnapIndex:
    """Exact nearest-road-piece search over :class:`Roads` (KD-tree of shape samples).

    Every straight piece of every shape is sampled at the midpoints of ``ceil(len / sample_m)``
    equal parts. With ``m0`` the distance from a place to its nearest sample, every piece at
    most as far as the nearest one has a sample within ``m0 + h`` (``h`` the largest
    half-part, plus the arc/chord gap): those candidates are measured exactly.
    """

    def __init__(
        self, roads: Roads, node_lat: np.ndarray, node_lon: np.ndarray, sample_m: float = SAMPLE_M
    ) -> None:
        n_roads = len(roads)
        inner = np.diff(roads.vptr)
        count = inner + 2  # vertices of each piece: a, interior…, b
        first = np.zeros(n_roads + 1, np.int64)
        np.cumsum(count, out=first[1:])
        total = int(first[-1])
        is_end = np.zeros(total, bool)
        is_end[first[:-1]] = True
        is_end[first[1:] - 1] = True
        lat, lon = np.empty(total), np.empty(total)
        lat[first[:-1]], lon[first[:-1]] = node_lat[roads.a], node_lon[roads.a]
        lat[first[1:] - 1], lon[first[1:] - 1] = node_lat[roads.b], node_lon[roads.b]
        lat[~is_end], lon[~is_end] = roads.vlat, roads.vlon
        vec = unit_vectors(lat, lon)
        last = np.zeros(total, bool)
        last[first[1:] - 1] = True
        start = np.flatnonzero(~last)  # segment j runs from vertex start[j] to start[j] + 1
        self.seg_road = np.repeat(np.arange(n_roads), count - 1)
        self.seg_a, self.seg_b = vec[start], vec[start + 1]
        seg_len = _angle(self.seg_a, self.seg_b) * EARTH_RADIUS_M
        # length of the shape before each segment, and of each piece
        cum = np.cumsum(seg_len) - seg_len
        seg_first = first[:-1] - np.arange(n_roads)  # first segment of each piece
        self.seg_before = cum - np.repeat(cum[seg_first], count - 1)
        self.seg_len = seg_len
        self.road_len = np.bincount(self.seg_road, weights=seg_len, minlength=n_roads)
        parts = np.maximum(np.ceil(seg_len / sample_m), 1).astype(np.int64)
        samp_seg = np.repeat(np.arange(len(seg_len)), parts)
        k = np.arange(len(samp_seg)) - np.repeat(np.cumsum(parts) - parts, parts)
        t = (k + 0.5) / parts[samp_seg]
        pts = self.seg_a[samp_seg] + t[:, None] * (self.seg_b - self.seg_a)[samp_seg]
        self.samp_seg = samp_seg
        self.tree = cKDTree(pts * EARTH_RADIUS_M)
        chord = seg_len / parts  # part length (arc ≈ chord)
        sagitta = (seg_len**2 / (8 * EARTH_RADIUS_M)).max(initial=0.0)
        self.slack = float((chord / 2).max(initial=0.0) + sagitta + 1.0)
        self.node_lat, self.node_lon = node_lat, node_lon

    def snap(self, lat: np.ndarray, lon: np.ndarray) -> Snapped:
        """The nearest road pieces of every coordinate (degrees), ties within :data:`TIE_M`."""
        m = len(lat)
        if m == 0:
            e = np.zeros(0)
            return Snapped(e.astype(np.int64), e.astype(np.int64), e, e, e, e)
        p = unit_vectors(lat, lon)
        m0, _ = self.tree.query(p * EARTH_RADIUS_M)
        balls = self.tree.query_ball_point(p * EARTH_RADIUS_M, m0 + self.slack)
        sizes = np.fromiter((len(x) for x in balls), np.int64, count=m)
        owner = np.repeat(np.arange(m), sizes)
        seg = self.samp_seg[np.concatenate([np.asarray(x, np.int64) for x in balls])]
        pair = np.unique(owner * len(self.seg_len) + seg)  # distinct (place, segment)
        owner, seg = np.divmod(pair, len(self.seg_len))
        ang, t, near = project_on_arcs(p[owner], self.seg_a[seg], self.seg_b[seg])
        dist = ang * EARTH_RADIUS_M
        best = np.full(m, np.inf)
        np.minimum.at(best, owner, dist)
        ok = dist <= best[owner] + TIE_M
        owner, seg, t, near, dist = owner[ok], seg[ok], t[ok], near[ok], dist[ok]
        road = self.seg_road[seg]
        length = self.road_len[road]
        frac = np.where(
            length > 0,
            (self.seg_before[seg] + t * self.seg_len[seg]) / np.where(length > 0, length, 1),
            0.0,
        )
        frac = np.where(frac < 1e-9, 0.0, np.where(frac > 1 - 1e-9, 1.0, frac))
        # one row per (place, piece): the nearest of its segments (shapes may fold back)
        order = np.lexsort((dist, road, owner))
        owner, road, frac, near = owner[order], road[order], frac[order], near[order]
        first = np.ones(len(owner), bool)
        first[1:] = (owner[1:] != owner[:-1]) | (road[1:] != road[:-1])
        owner, road, frac, near = owner[first], road[first], frac[first], near[first]
        slat = np.degrees(np.arcsin(np.clip(near[:, 2], -1.0, 1.0)))
        slon = np.degrees(np.arctan2(near[:, 1], near[:, 0]))
        return Snapped(owner, road, frac, slat, slon, best)


def entries(
    roads: Roads, snapped: Snapped, extra_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where snapped places enter the graph: ``(owner, node, time_s, length_m)`` rows.

    Forward to ``b`` after ``(1 - f) × fwd_s``, backward to ``a`` after ``f × bwd_s``, plus
    ``extra_s[owner]`` (the access leg).
    """
    r, f = snapped.road, snapped.frac
    return _ends(roads, snapped.owner, r, roads.b[r], roads.a[r], 1 - f, f, extra_s)


def seeds(
    roads: Roads, snapped: Snapped, extra_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where travel reaches snapped points from the graph: ``(owner, node, time_s, length_m)``.

    From ``a`` after ``f × fwd_s``, from ``b`` after ``(1 - f) × bwd_s``, plus
    ``extra_s[owner]`` (the access leg).
    """
    r, f = snapped.road, snapped.frac
    return _ends(roads, snapped.owner, r, roads.a[r], roads.b[r], f, 1 - f, extra_s)


def _ends(roads, owner, r, fnode, bnode, fshare, bshare, extra_s):
    fw, bw, length = roads.fwd_s[r], roads.bwd_s[r], roads.length_m[r]
    ok_f, ok_b = np.isfinite(fw), np.isfinite(bw)
    own = np.concatenate([owner[ok_f], owner[ok_b]])
    node = np.concatenate([fnode[ok_f], bnode[ok_b]])
    time = np.concatenate([(fshare * fw)[ok_f], (bshare * bw)[ok_b]]) + extra_s[own]
    metres = np.concatenate([(fshare * length)[ok_f], (bshare * length)[ok_b]])
    return own, node, time, metres


def same_road(
    roads: Roads,
    places: Snapped,
    place_extra_s: np.ndarray,
    points: Snapped,
    point_extra_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Place → point trips along one road piece: ``(place, point, time_s, length_m)`` rows.

    Forward when the point lies at or after the place (``f_point ≥ f_place``), backward when
    at or before, each only where allowed; access legs of both included.
    """
    order = np.argsort(points.road, kind="stable")
    proad = points.road[order]
    lo = np.searchsorted(proad, places.road, side="left")
    hi = np.searchsorted(proad, places.road, side="right")
    n = hi - lo
    i = np.repeat(np.arange(len(places.road)), n)
    j = order[np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)]
    r = places.road[i]
    g, f = places.frac[i], points.frac[j]
    fw, bw, length = roads.fwd_s[r], roads.bwd_s[r], roads.length_m[r]
    t = np.full(len(i), np.inf)
    ahead = np.isfinite(fw) & (f >= g)
    t[ahead] = ((f - g) * fw)[ahead]
    behind = np.isfinite(bw) & (f <= g)
    t[behind] = np.minimum(t[behind], ((g - f) * bw)[behind])
    ok = np.isfinite(t)
    q, p = places.owner[i[ok]], points.owner[j[ok]]
    time = t[ok] + place_extra_s[q] + point_extra_s[p]
    return q, p, time, (np.abs(f - g) * length)[ok]
