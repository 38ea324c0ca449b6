"""Schedules: the distinct opening-hours strings of a set of points, each parsed once, and
their open state, intervals and minutes evaluated per distinct string."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
from collections.abc import Sequence
from contextlib import contextmanager
from itertools import chain, compress

import numpy as np
import opening_hours as _oh
import pandas as pd
import shapely

from ..errors import ParameterError
from .datetimes import DEFAULT_TZ
from .parsing import _comment_only, _parse

log = logging.getLogger(__package__)  # one logger for the package: "relaynet.hours"

_NS_PER_MIN = 60 * 10**9
_CHUNK = 4096
"""Schedules evaluated together over a window (bounds the temporary memory)."""
_SUN = re.compile(r"sunrise|sunset|dawn|dusk", re.IGNORECASE)
_SUN_ROUND = 1
"""Decimals of the coordinates grouping strings with sun events (0.1° ≈ 25 s of sun time)."""


def _latlon(points, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitude, longitude (degrees) of each point; NaN without a usable point geometry."""
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    geometry = getattr(points, "geometry", None) if isinstance(points, pd.DataFrame) else None
    if geometry is None or not hasattr(geometry, "crs"):
        return lat, lon
    if geometry.crs is not None and not geometry.crs.equals("EPSG:4326"):
        geometry = geometry.to_crs("EPSG:4326")
    values = geometry.to_numpy()
    ok = shapely.is_valid_input(values) & ~shapely.is_empty(values)
    ok &= shapely.get_type_id(values) == 0
    lat[ok] = shapely.get_y(values[ok])
    lon[ok] = shapely.get_x(values[ok])
    return lat, lon


def _hours_values(points) -> np.ndarray:
    """The opening-hours strings of ``points`` as an object array (None when missing)."""
    if isinstance(points, pd.DataFrame):
        if "opening_hours" not in points.columns:
            raise ParameterError("points have no 'opening_hours' column")
        values = points["opening_hours"]
    elif isinstance(points, pd.Series):
        values = points
    elif isinstance(points, str):
        values = pd.Series([points])
    else:
        values = pd.Series(list(points), dtype=object)
    text = values.astype(object).to_numpy()
    missing = pd.isna(text)
    text = np.where(missing, "", text).astype(object)
    return text


class Schedules:
    """The distinct opening-hours strings of a set of points, each parsed once.

    Parameters
    ----------
    points
        GeoDataFrame/DataFrame with an ``opening_hours`` column, or a Series/sequence of
        strings.
    country
        ISO 3166 country code for public holidays (``"FR"``); ``None`` for none; or one
        code per point (array-like of length n).
    tz
        Time zone of the points' wall-clock times. With the point coordinates (WGS84
        geometry of a GeoDataFrame, rounded to 0.1°), it places ``sunrise``, ``sunset``,
        ``dawn`` and ``dusk``; such strings are parsed once per distinct (string, rounded
        place), every other string once. Without coordinates the parser's fixed
        07:00/19:00 apply.

    Attributes
    ----------
    codes_ : ndarray of int64, shape (n,)
        Index of each point's schedule in :attr:`schedules_`, ``-1`` when unknown.
    strings_ : ndarray of str, shape (d,)
        The distinct parsed strings.
    schedules_ : list of ``opening_hours.OpeningHours``
        One parsed schedule per distinct string.
    n_unparsed_, n_comment_only_ : int
        Distinct strings with unknown hours: not valid, or only comments and ``off`` rules
        (``'"on appointment"'``, which the parser would read as open 24/7).
    n_recovered_ : int
        Points whose string parsed only after dropping past dated ``off`` rules the parser
        rejects (``"…; 2022 Mar 11,25 off"``); the original string is kept in
        :attr:`strings_`.
    """

    def __init__(
        self, points, country: str | Sequence[str] | None = "FR", tz: str = DEFAULT_TZ
    ) -> None:
        text = _hours_values(points)
        stripped = pd.Series(text, dtype=object).astype(str).str.strip()
        n = len(stripped)
        texts = stripped.to_numpy(object)
        keys = texts
        countries = None
        if country is not None and not isinstance(country, str):
            countries = np.asarray(list(country), dtype=object)
            if len(countries) != n:
                raise ParameterError(
                    f"country: expected one code per point ({n}), got {len(countries)}"
                )
            keys = (stripped + "\x00" + pd.Series(countries).astype(str)).to_numpy(object)
        # sun events depend on the place: those strings are grouped by rounded coordinates
        sun = stripped.str.contains(_SUN).to_numpy(bool)
        lat = lon = np.full(n, np.nan)
        if sun.any():
            lat, lon = (np.round(v, _SUN_ROUND) for v in _latlon(points, n))
            place = np.where(np.isfinite(lat), lat.astype(str) + "," + lon.astype(str), "")
            keys = np.where(sun, (pd.Series(keys) + "\x00" + place).to_numpy(object), keys)
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
        first = np.empty(len(uniques), dtype=np.int64)
        first[codes[::-1]] = np.arange(n)[::-1]  # first point of each distinct key
        remap = np.full(len(uniques) + 1, -1, dtype=np.int64)
        strings: list[str] = []
        schedules: list[_oh.OpeningHours] = []
        n_bad = n_comment = 0
        recovered = np.zeros(len(uniques), dtype=bool)
        for i, row in enumerate(first.tolist()):
            text_i = texts[row]
            if not text_i:
                continue
            if _comment_only(text_i):
                n_comment += 1
                continue
            coords = (lat[row], lon[row]) if sun[row] and np.isfinite(lat[row]) else None
            country_i = country if countries is None else countries[row]
            parsed, recovered[i] = _parse(text_i, country_i or None, coords, tz)
            if parsed is None:
                n_bad += 1
                continue
            remap[i] = len(schedules)
            strings.append(text_i)
            schedules.append(parsed)
        self.codes_ = remap[codes]
        self.strings_ = np.asarray(strings, dtype=object)
        self.schedules_ = schedules
        self.n_unparsed_ = n_bad
        self.n_comment_only_ = n_comment
        self.n_recovered_ = int(recovered[codes[codes >= 0]].sum())
        if n_bad:
            log.info("%d distinct opening-hours strings could not be parsed (hours unknown)", n_bad)
        if n_comment:
            log.info(
                "%d distinct opening-hours strings are only comments (hours unknown)", n_comment
            )
        if self.n_recovered_:
            log.info(
                "%d points' opening hours parsed after dropping past dated 'off' rules "
                "the parser rejects (%d distinct strings)",
                self.n_recovered_,
                int(recovered.sum()),
            )
        if (sun & ~np.isfinite(lat)).any():
            log.info(
                "%d points with sunrise/sunset hours have no coordinates: the parser's "
                "default sun times (07:00/19:00) apply",
                int((sun & ~np.isfinite(lat)).sum()),
            )

    @property
    def n_unknown(self) -> int:
        """Number of points whose hours are missing, empty, unparseable or only comments."""
        return int((self.codes_ < 0).sum())

    @property
    def known(self) -> np.ndarray:
        """Boolean mask, shape (n,): the point has parsed opening hours."""
        return self.codes_ >= 0

    def __len__(self) -> int:
        return len(self.codes_)

    def broadcast(self, per_schedule: np.ndarray, fill) -> np.ndarray:
        """Values per distinct schedule (first axis) → values per point, ``fill`` if unknown."""
        per_schedule = np.asarray(per_schedule)
        if not len(per_schedule):
            shape = (len(self.codes_), *per_schedule.shape[1:])
            return np.full(shape, fill, dtype=per_schedule.dtype)
        out = per_schedule[np.maximum(self.codes_, 0)]
        unknown = self.codes_ < 0
        if unknown.any():
            out[unknown] = fill
        return out

    # -- evaluation per distinct schedule -------------------------------------------------

    def open_intervals(self, start: dt.datetime, end: dt.datetime) -> tuple[np.ndarray, ...]:
        """Open intervals of every distinct schedule within ``[start, end)``.

        Returns
        -------
        (schedule, begin_ns, end_ns)
            Flat int64 arrays: schedule index and interval bounds (ns since epoch, naive
            local time), one entry per ``OPEN`` interval, clipped to the window.
        """
        parts = list(self._open_interval_chunks(start, end))
        if not parts:
            return tuple(np.empty(0, dtype=np.int64) for _ in range(3))
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def _open_interval_chunks(
        self, start: dt.datetime, end: dt.datetime, first: int = 0, stop: int | None = None
    ):
        """:meth:`open_intervals` of schedules ``first:stop`` by blocks of ``_CHUNK``:
        yields (schedule, begin_ns, end_ns) per block, so that only one block's Python
        interval objects are alive at a time (a week of 100 000 schedules has about a
        million intervals)."""
        lo, hi = _to_ns(start), _to_ns(end)
        is_open = _oh.State.OPEN
        stop = len(self.schedules_) if stop is None else stop
        for at in range(first, stop, _CHUNK):
            block = self.schedules_[at : min(at + _CHUNK, stop)]
            with _gc_paused():  # ~10 tuples and 20 datetimes per schedule, no cycles
                spans = [list(schedule.intervals(start, end)) for schedule in block]
                lengths = np.fromiter(map(len, spans), dtype=np.int64, count=len(spans))
                flat = list(chain.from_iterable(spans))
                if not flat:
                    continue
                begins, ends, states, _ = zip(*flat, strict=True)
                keep = np.fromiter((s == is_open for s in states), dtype=bool, count=len(flat))
                owner = np.repeat(np.arange(at, at + len(block), dtype=np.int64), lengths)
                begin_ns = _ns_array(list(compress(begins, keep)))
                end_ns = _ns_array(list(compress(ends, keep)), missing=hi)
                del spans, flat, begins, ends, states
            yield owner[keep], np.clip(begin_ns, lo, hi), np.clip(end_ns, lo, hi)

    def open_at(self, when: dt.datetime) -> np.ndarray:
        """Open state of every distinct schedule at one datetime, shape (d,)."""
        return np.fromiter(
            (s.is_open(when) for s in self.schedules_), dtype=bool, count=len(self.schedules_)
        )

    def open_matrix(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Open state of every distinct schedule at each time, shape (d, t).

        Uses one ``intervals()`` sweep per schedule over the span of ``times`` when that
        is cheaper than one ``is_open`` call per time (e.g. a week of quarter-hours): each
        open interval becomes a +1/-1 pair at the first time inside it and the first
        after it, and a running sum along the times gives the state. Work and memory are
        d × t plus a block of schedules at a time, whatever the number of points.
        """
        d, t = len(self.schedules_), len(times)
        if d == 0 or t == 0:
            return np.zeros((d, t), dtype=bool)
        ns = times.asi8
        span_days = (ns.max() - ns.min()) / (86_400 * 10**9) + 1
        if t < 1.5 * span_days + 4:  # sparse times: direct calls are cheaper
            py = list(times.to_pydatetime())
            out = np.empty((d, t), dtype=bool)
            for i, schedule in enumerate(self.schedules_):
                out[i] = [schedule.is_open(x) for x in py]
            return out
        order = np.argsort(ns, kind="stable")
        sorted_ns = ns[order]
        start = pd.Timestamp(sorted_ns[0]).to_pydatetime()
        end = pd.Timestamp(sorted_ns[-1] + _NS_PER_MIN).to_pydatetime()
        in_order = bool((order == np.arange(t)).all())
        out = np.empty((d, t), dtype=bool)
        width = t + 1
        for first in range(0, d, _CHUNK):
            rows = min(_CHUNK, d - first)
            diff = np.zeros((rows, width), dtype=np.int8)
            for owner, begin, stop in self._open_interval_chunks(start, end, first, first + rows):
                i0 = np.searchsorted(sorted_ns, begin, side="left")
                i1 = np.searchsorted(sorted_ns, stop, side="left")
                keep = i1 > i0  # disjoint intervals: the running sum stays 0 or 1
                flat = diff.reshape(-1)
                base = (owner[keep] - first) * width
                np.add.at(flat, base + i0[keep], 1)
                np.add.at(flat, base + i1[keep], -1)
            block = np.cumsum(diff[:, :t], axis=1, dtype=np.int8) > 0
            if in_order:
                out[first : first + rows] = block
            else:
                out[first : first + rows, order] = block
        return out

    def open_minutes(self, start: dt.datetime, end: dt.datetime) -> np.ndarray:
        """Minutes open within ``[start, end)`` for every distinct schedule, shape (d,)."""
        owner, begin, stop = self.open_intervals(start, end)
        return np.bincount(
            owner, weights=(stop - begin) / _NS_PER_MIN, minlength=len(self.schedules_)
        )


@contextmanager
def _gc_paused():
    """Cyclic garbage collection off for a block that creates many small acyclic objects
    (a week of intervals of 100 000 schedules: the collector's passes over them took half
    of the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ns_array(values: list[dt.datetime | None], missing: int = 0) -> np.ndarray:
    """Datetimes → int64 nanoseconds since the epoch of their wall-clock time (vectorized
    by pandas); timezone-aware ones (schedules placed at coordinates) lose their zone,
    None becomes ``missing``."""
    if not values:
        return np.empty(0, dtype=np.int64)
    try:
        index = pd.DatetimeIndex(values)
    except (TypeError, ValueError):  # mixed zones: wall-clock time of each
        index = pd.DatetimeIndex([v if v is None else v.replace(tzinfo=None) for v in values])
    if index.tz is not None:
        index = index.tz_localize(None)
    out = index.as_unit("ns").asi8
    if index.hasnans:
        out = np.where(index.isna(), missing, out)
    return out


def _to_ns(value: dt.datetime) -> int:
    return int(np.datetime64(value, "ns").astype(np.int64))
