"""Opening hours: each distinct OSM ``opening_hours`` string parsed once, queries vectorized.

The grammar, public holidays (``PH``, country ``"FR"`` by default) and dated exceptions
(``"Dec 24 off"``, ``"2026 May 20 off"``, ``"week 02-53/2 Sa …"``) are all handled by
`opening-hours-py <https://github.com/remi-dupre/opening-hours-rs>`_; this module only
deduplicates and broadcasts: a network of 100 000 points typically shares a few thousand
strings, so every query evaluates one schedule per distinct string and indexes the
result with one integer code per point.

Conventions
-----------
* Datetimes are local wall-clock times of the points (naive). Timezone-aware datetimes
  are converted to ``tz`` (``"Europe/Paris"`` by default) and made naive first.
* A point whose hours are missing, empty, unparseable, or only comments
  (``'"on appointment"'``, ``'"only after registration"; PH off'``) has *unknown* hours. With
  ``unknown="exclude"`` (default) it is never open; with ``unknown="include"`` it is
  treated as open. :attr:`Schedules.n_unknown` counts them.
* A parsed schedule can itself be in state ``UNKNOWN`` at some times (``"Mo 10:00-12:00
  unknown"``). Like ``OpeningHours.is_open``, that state counts as *not open*; the
  ``unknown`` policy applies only to unknown hours as above.
* ``sunrise``/``sunset``/``dawn``/``dusk`` are computed at each point's coordinates in
  ``tz`` when the points are a GeoDataFrame (see :class:`Schedules`).
* Dated ``off`` rules from before the current year that the parser rejects
  (``"Mo-Fr 09:00-12:00; PH off; 2022 Mar 11,25 off"``) are dropped before parsing: they
  cannot change any answer from today on. Nothing else is rewritten.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain, compress

import numpy as np
import opening_hours as _oh
import pandas as pd
import shapely

from .errors import ParameterError

log = logging.getLogger(__name__)

UNKNOWN_POLICIES = ("exclude", "include")
"""Accepted values of the ``unknown`` argument."""

DEFAULT_TZ = "Europe/Paris"
"""Timezone that timezone-aware datetimes are converted to before evaluation."""

_NS_PER_MIN = 60 * 10**9
_CHUNK = 4096
"""Schedules evaluated together over a window (bounds the temporary memory)."""
_DAY_NAMES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


_SUN = re.compile(r"sunrise|sunset|dawn|dusk", re.IGNORECASE)
_SUN_ROUND = 1
"""Decimals of the coordinates grouping strings with sun events (0.1° ≈ 25 s of sun time)."""
_COMMENT = re.compile(r'"[^"]*"')
_OFF_WORDS = re.compile(r"(?:\S.*\s)?(?:off|closed)", re.IGNORECASE)
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = rf"(?:\d{{4}}\s*)?(?:{_MONTH}\s*)?\d{{1,2}}"
_DAYS_ITEM = rf"{_DAY}(?:\s*-\s*{_DAY})?"
_DATED_OFF = re.compile(
    rf"(?P<dates>\d{{4}}\s*{_MONTH}\s*{_DAYS_ITEM}(?:\s*,\s*{_DAYS_ITEM})*)\s+(?:off|closed)"
)
"""A rule closed on explicit dates, the first with a year: ``2022 Mar 09,May 02-06,27 off``."""


@lru_cache(maxsize=200_000)
def _comment_only(text: str) -> bool:
    """True when no rule of ``text`` gives times or days: only comments and ``off`` rules.

    opening-hours-py reads such a string (``'"on appointment"'``) as open 24/7.
    """
    rules = [r.strip() for r in re.split(r";|\|\|", _COMMENT.sub("", text))]
    has_comment_rule = any(not r for r in rules)
    return has_comment_rule and all(not r or _OFF_WORDS.fullmatch(r) for r in rules)


def _is_past_dated_off(rule: str, today: dt.date) -> bool:
    """A rule such as ``"2022 Mar 11,25 off"`` whose every date is before ``today``.

    Every year is explicit in such a rule; an item without a year continues the year
    before it, and a range ending on a month name may run into the next year.
    """
    match = _DATED_OFF.fullmatch(rule.strip())
    if not match:
        return False
    latest = max(int(y) for y in re.findall(r"\d{4}", match["dates"]))
    may_wrap = re.search(rf"-\s*{_MONTH}", match["dates"]) is not None
    return latest + (1 if may_wrap else 0) < today.year


def _drop_past_off_rules(text: str, today: dt.date) -> str | None:
    """``text`` without the past dated ``off`` rules the parser rejects; None if none.

    Such rules (``"Mo-Fr 09:00-12:00; PH off; 2022 Mar 11,25 off"``: a day list after a
    month is not in the grammar opening-hours-py implements) cannot change any answer
    from ``today`` on, so dropping them keeps the meaning of the string for the future.
    """
    if '"' in text:
        return None
    parts = re.split(r"(;|\|\|)", text)
    pairs = list(zip(["", *parts[1::2]], parts[0::2], strict=True))
    kept = [
        (sep, rule)
        for sep, rule in pairs
        if not (_is_past_dated_off(rule, today) and not _oh.validate(rule.strip()))
    ]
    if len(kept) == len(pairs) or not kept:
        return None
    return "".join(sep + rule for sep, rule in kept).lstrip(";|").strip()


@lru_cache(maxsize=200_000)
def _parse(
    text: str, country: str | None, coords: tuple[float, float] | None = None, tz: str = ""
) -> tuple[_oh.OpeningHours | None, bool]:
    """Parse one string (cached for the process).

    Returns
    -------
    (schedule, recovered)
        ``schedule`` is None when the string is not valid; ``recovered`` is True when it
        parsed only after dropping past dated ``off`` rules (:func:`_drop_past_off_rules`).
    """
    options: dict = {"country": country} if country else {}
    if coords is not None:
        options.update(coords=coords, timezone=_zone(tz), auto_country=False)
    try:
        return _oh.OpeningHours(text, **options), False
    except _oh.UnknownCountryError:
        raise ParameterError(
            f"unknown country code {country!r} for public holidays "
            "(expected an ISO 3166 code such as 'FR')"
        ) from None
    except (_oh.ParserError, SyntaxError, ValueError):
        pass
    cleaned = _drop_past_off_rules(text, dt.date.today())
    if cleaned is None:
        return None, False
    try:
        return _oh.OpeningHours(cleaned, **options), True
    except (_oh.ParserError, SyntaxError, ValueError):
        return None, False


def _zone(tz: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParameterError(f"unknown time zone {tz!r} (expected e.g. 'Europe/Paris')") from None


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


# -- argument normalization ----------------------------------------------------------------


def _check_unknown(unknown: str) -> bool:
    if unknown not in UNKNOWN_POLICIES:
        raise ParameterError(f"unknown={unknown!r}: expected one of {UNKNOWN_POLICIES}")
    return unknown == "include"


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


_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T]+(.*))?")
_ISO_DATE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})(?:[ T]+(.*))?")
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?|h(\d{2})?)")
_AMBIGUOUS = re.compile(r"\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{1,4})?(?=\s|T|$)")
_FORMS = "'2026-11-28 18:30' (ISO) or '28/11/2026 18:30' (day first, as in France)"


def parse_datetime(text: str, *, require_time: bool = False) -> pd.Timestamp:
    """Read one date or datetime typed by a user, day first as French users write it.

    Accepted: ISO ``"2026-11-28 18:30"`` (``T`` separator, seconds and a UTC offset
    allowed), and day-first ``"28/11/2026 18:30"``, ``"28.11.2026 18h30"``,
    ``"28-11-2026 18h"``. ``"05/12/2026"`` is 5 December. Ambiguous forms (two-digit
    year, year first with slashes, no year) raise :class:`ParameterError`.

    Parameters
    ----------
    text
        The date or datetime.
    require_time
        Refuse a date without a time of day (``"2026-11-28"`` would silently mean
        midnight).

    Returns
    -------
    Timestamp
        Naive local time, or timezone-aware when an ISO offset was given.
    """
    value = text.strip()
    day_first = _DAY_FIRST.fullmatch(value)
    iso = _ISO_DATE.fullmatch(value)
    if not (day_first or iso):
        ambiguous = _AMBIGUOUS.match(value)
        why = f"{ambiguous[0]!r} is ambiguous; " if ambiguous else ""
        raise ParameterError(f"cannot read datetime {text!r}: {why}expected {_FORMS}")
    try:
        if day_first:
            day = dt.date(int(day_first[4]), int(day_first[3]), int(day_first[1]))
            clock = day_first[5]
        else:
            day = dt.date(*(int(x) for x in iso[1].split("-")))
            clock = iso[2]
    except ValueError:
        hint = " (read day first: dd/mm/yyyy)" if day_first else ""
        raise ParameterError(f"cannot read datetime {text!r}: no such date{hint}") from None
    if not clock:
        if require_time:
            raise ParameterError(
                f"datetime {text!r} has no time of day: give one, e.g. '{day:%Y-%m-%d} 10:30'"
            )
        return pd.Timestamp(day)
    if iso:
        try:
            return pd.Timestamp(f"{day.isoformat()} {clock.strip()}")
        except ValueError:
            raise ParameterError(f"cannot read datetime {text!r}: expected {_FORMS}") from None
    match = _CLOCK.fullmatch(clock.strip())
    if not match:
        raise ParameterError(f"cannot read time {clock!r} in {text!r}: expected '18:30' or '18h30'")
    hour, minute = int(match[1]), int(match[2] or match[4] or 0)
    second = int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ParameterError(f"datetime {text!r}: invalid time of day {clock!r}")
    return pd.Timestamp(dt.datetime.combine(day, dt.time(hour, minute, second)))


def to_local(when, tz: str = DEFAULT_TZ, *, require_time: bool = False) -> pd.DatetimeIndex:
    """Datetimes (one or many) → naive local DatetimeIndex.

    Parameters
    ----------
    when
        ``datetime``, ``Timestamp``, ``numpy.datetime64`` or a string read by
        :func:`parse_datetime` (ISO or day-first ``dd/mm/yyyy``), or a sequence of them.
    tz
        Timezone-aware values are converted to ``tz`` then made naive.
    require_time
        Refuse strings and ``date`` objects without a time of day.
    """
    scalar = isinstance(when, str | dt.date | pd.Timestamp | np.datetime64)
    values = [when] if scalar else list(when)
    for i, value in enumerate(values):
        if isinstance(value, str):
            values[i] = parse_datetime(value, require_time=require_time)
        elif require_time and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            raise ParameterError(f"{value!r} is a date without a time of day: give a datetime")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(values))
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"cannot read datetime(s) {when!r}: {exc}") from None
    if index.hasnans:
        raise ParameterError(f"missing datetime in {when!r}")
    if index.tz is not None:
        index = index.tz_convert(tz).tz_localize(None)
    return index.as_unit("ns")


def _is_scalar_time(when) -> bool:
    return isinstance(when, str | dt.date | pd.Timestamp | np.datetime64)


def _schedules(points, country, tz: str = DEFAULT_TZ) -> Schedules:
    return points if isinstance(points, Schedules) else Schedules(points, country=country, tz=tz)


def week_start_of(day=None) -> dt.datetime:
    """Midnight of the Monday starting the week that contains ``day`` (default: today)."""
    day = pd.Timestamp(dt.date.today() if day is None else day)
    if day.tz is not None:
        day = day.tz_convert(DEFAULT_TZ).tz_localize(None)
    monday = day.normalize() - pd.Timedelta(days=day.weekday())
    return monday.to_pydatetime()


# -- public API ------------------------------------------------------------------------------


def is_open(
    points, when, *, unknown: str = "exclude", country: str | None = "FR", tz: str = DEFAULT_TZ
) -> np.ndarray:
    """Whether each point is open at ``when``.

    Parameters
    ----------
    points
        GeoDataFrame with an ``opening_hours`` column, a Series of strings, or a
        :class:`Schedules` (to reuse parsing across calls).
    when
        One datetime (``datetime``, ``Timestamp`` or a string such as
        ``"2026-11-28 18:30"`` or ``"28/11/2026 18:30"``, see :func:`parse_datetime`),
        local wall-clock time, or a sequence of them. A date without a time is refused.
    unknown
        ``"exclude"``: points with missing/unparseable hours are reported closed;
        ``"include"``: reported open.
    country
        ISO code for public holidays (``"FR"``), ``None``, or one code per point.
    tz
        Timezone that timezone-aware datetimes are converted to.

    Returns
    -------
    ndarray of bool
        Shape (n,) for one datetime, (n, t) for a sequence of t datetimes.
    """
    fill = _check_unknown(unknown)
    sched = _schedules(points, country, tz)
    times = to_local(when, tz, require_time=True)
    if _is_scalar_time(when):
        return sched.broadcast(sched.open_at(times[0].to_pydatetime()), fill)
    return sched.broadcast(sched.open_matrix(times), fill)


def open_minutes(
    points, start, end, *, country: str | None = "FR", tz: str = DEFAULT_TZ
) -> np.ndarray:
    """Minutes each point is open within ``[start, end)``; NaN when its hours are unknown.

    Returns
    -------
    ndarray of float, shape (n,)
        Open time in minutes.
    """
    sched = _schedules(points, country, tz)
    begin, stop = _window(start, end, tz)
    return sched.broadcast(sched.open_minutes(begin, stop), np.nan)


def open_during(
    points,
    start,
    end,
    *,
    min_minutes: float | None = None,
    unknown: str = "exclude",
    country: str | None = "FR",
    tz: str = DEFAULT_TZ,
) -> np.ndarray:
    """Whether each point is open during the window ``[start, end)``.

    Parameters
    ----------
    start, end
        Window bounds, local datetimes (``end`` > ``start``).
    min_minutes
        ``None`` (default): open *throughout* the window. A number: open for at least
        that many minutes in total within the window.
    unknown
        Policy for points whose hours are unknown (see :func:`is_open`).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    fill = _check_unknown(unknown)
    sched = _schedules(points, country, tz)
    begin, stop = _window(start, end, tz)
    minutes = sched.open_minutes(begin, stop)
    if min_minutes is None:
        need = (stop - begin).total_seconds() / 60
    else:
        if not np.isfinite(min_minutes) or min_minutes < 0:
            raise ParameterError(f"min_minutes={min_minutes!r}: expected a number ≥ 0")
        need = float(min_minutes)
    return sched.broadcast(minutes >= need - 1e-9, fill)


def _window(start, end, tz: str) -> tuple[dt.datetime, dt.datetime]:
    bounds = to_local([start, end], tz)
    begin, stop = bounds[0].to_pydatetime(), bounds[1].to_pydatetime()
    if stop <= begin:
        raise ParameterError(f"window end {stop} is not after its start {begin}")
    return begin, stop


def weekly_matrix(
    points,
    week_start=None,
    *,
    step_minutes: int = 15,
    unknown: str = "exclude",
    country: str | None = "FR",
) -> np.ndarray:
    """Open/closed matrix over one week, one column per ``step_minutes`` slot.

    Parameters
    ----------
    week_start
        First slot (default: Monday 00:00 of the current week). Holidays and dated
        exceptions of that particular week are applied.
    step_minutes
        Slot length in minutes; 15 gives 672 slots.

    Returns
    -------
    ndarray of bool, shape (n, 7 * 1440 // step_minutes)
        Column ``j`` is the state at ``week_start + j * step_minutes`` minutes.
    """
    if step_minutes <= 0 or 1440 % step_minutes:
        raise ParameterError(f"step_minutes={step_minutes!r}: expected a divisor of 1440")
    start = pd.Timestamp(week_start_of() if week_start is None else week_start)
    times = pd.date_range(start, periods=7 * 1440 // step_minutes, freq=f"{step_minutes}min")
    return is_open(points, times, unknown=unknown, country=country)


def weekly_summary(points, week_start=None, *, country: str | None = "FR") -> pd.DataFrame:
    """Per-point summary of one week of opening hours.

    Parameters
    ----------
    week_start
        Start of the 7-day week evaluated (default: Monday 00:00 of the current week).

    Returns
    -------
    DataFrame, one row per point (index of ``points`` when it has one), columns
        ``hours_known`` (bool), ``weekly_hours`` (hours open in the week, float),
        ``days_open`` (days with any opening), ``open_saturday``, ``open_sunday``,
        ``open_24_7`` (nullable booleans), ``latest_weekday_close`` (``"HH:MM"``, latest
        closing time Monday–Friday, ``"24:00"`` when open past midnight) and
        ``latest_weekday_close_min`` (same, minutes after midnight). Values are NA when
        the hours are unknown.
    """
    sched = _schedules(points, country)
    start = pd.Timestamp(week_start_of() if week_start is None else week_start)
    begin, end = start.to_pydatetime(), (start + pd.Timedelta(days=7)).to_pydatetime()
    owner, a, b = sched.open_intervals(begin, end)
    d = len(sched.schedules_)
    day_ns = 1440 * _NS_PER_MIN
    t0 = _to_ns(begin)
    # split intervals at midnights so each piece belongs to one day
    first_day = (a - t0) // day_ns
    last_day = (b - 1 - t0) // day_ns
    pieces = np.maximum(last_day - first_day + 1, 0)
    rep = np.repeat(np.arange(len(owner)), pieces)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    day = first_day[rep] + offset
    pa = np.maximum(a[rep], t0 + day * day_ns)
    pb = np.minimum(b[rep], t0 + (day + 1) * day_ns)
    po = owner[rep]
    minutes = np.zeros((d, 7))
    np.add.at(minutes, (po, day), (pb - pa) / _NS_PER_MIN)
    weekday = (start.weekday() + day) % 7
    close = np.full(d, -1.0)
    wk = weekday < 5
    np.maximum.at(close, po[wk], (pb[wk] - (t0 + day[wk] * day_ns)) / _NS_PER_MIN)
    day_weekday = (start.weekday() + np.arange(7)) % 7
    known = sched.known
    frame = pd.DataFrame(
        {
            "hours_known": known,
            "weekly_hours": sched.broadcast(minutes.sum(axis=1) / 60, np.nan),
            "days_open": sched.broadcast((minutes > 0).sum(axis=1).astype(float), np.nan),
            "open_saturday": sched.broadcast((minutes[:, day_weekday == 5] > 0).any(axis=1), False),
            "open_sunday": sched.broadcast((minutes[:, day_weekday == 6] > 0).any(axis=1), False),
            "open_24_7": sched.broadcast(minutes.sum(axis=1) >= 7 * 1440 - 1e-9, False),
            "latest_weekday_close_min": sched.broadcast(np.where(close < 0, np.nan, close), np.nan),
        },
        index=points.index if isinstance(points, pd.Series | pd.DataFrame) else None,
    )
    for column in ("open_saturday", "open_sunday", "open_24_7"):
        frame[column] = frame[column].astype("boolean").mask(~known)
    frame["days_open"] = frame["days_open"].astype("Int64")
    frame["latest_weekday_close"] = _format_minutes(frame["latest_weekday_close_min"])
    return frame


def _format_minutes(minutes: pd.Series) -> pd.Series:
    values = minutes.to_numpy(float)
    ok = np.isfinite(values)
    whole = np.where(ok, np.round(values), 0).astype(int)
    text = np.char.add(
        np.char.zfill((whole // 60).astype(str), 2),
        np.char.add(":", np.char.zfill((whole % 60).astype(str), 2)),
    )
    out = pd.Series(text, index=minutes.index, dtype=object)
    out[~ok] = None
    return out.astype("string")


def hours_on(points, day, *, country: str | None = "FR") -> pd.Series:
    """Opening hours of each point on one calendar day, as text.

    Returns
    -------
    Series of str
        ``"09:00-12:00,14:00-18:00"``, ``"closed"``, or ``"unknown"`` when the point's
        hours are unknown. Holidays and dated exceptions of that day are applied.
    """
    sched = _schedules(points, country)
    begin = pd.Timestamp(day).normalize().to_pydatetime()
    end = begin + dt.timedelta(days=1)
    owner, a, b = sched.open_intervals(begin, end)
    t0 = _to_ns(begin)
    text = ["closed"] * len(sched.schedules_)
    spans: dict[int, list[str]] = {}
    for o, x, y in zip(
        owner.tolist(),
        ((a - t0) // _NS_PER_MIN).tolist(),
        ((b - t0) // _NS_PER_MIN).tolist(),
        strict=True,
    ):
        spans.setdefault(o, []).append(f"{x // 60:02d}:{x % 60:02d}-{y // 60:02d}:{y % 60:02d}")
    for o, items in spans.items():
        text[o] = ",".join(items)
    values = sched.broadcast(np.asarray(text, dtype=object), "unknown")
    index = points.index if isinstance(points, pd.Series | pd.DataFrame) else None
    return pd.Series(values, index=index, dtype=object)


def describe_unknown(points, *, country: str | None = "FR") -> str:
    """One line such as ``"1 662 of 17 703 points have unknown opening hours"``."""
    sched = _schedules(points, country)
    return f"{sched.n_unknown} of {len(sched)} points have unknown opening hours"


def validate(text: str, country: str | None = "FR") -> bool:
    """True when ``text`` gives known opening hours as relaynet reads them.

    Like ``opening_hours.validate``, and also True for strings recovered by dropping past
    dated ``off`` rules; False for comment-only strings (unknown hours).
    """
    text = str(text).strip()
    return bool(text) and not _comment_only(text) and _parse(text, country)[0] is not None


def distinct_strings(points: Iterable[str] | pd.DataFrame) -> list[str]:
    """Distinct non-empty opening-hours strings of ``points`` (parsed or not), sorted."""
    text = _hours_values(points)
    return sorted({s.strip() for s in text if isinstance(s, str) and s.strip()})


__all__ = [
    "DEFAULT_TZ",
    "Schedules",
    "UNKNOWN_POLICIES",
    "describe_unknown",
    "distinct_strings",
    "hours_on",
    "is_open",
    "open_during",
    "open_minutes",
    "parse_datetime",
    "to_local",
    "validate",
    "week_start_of",
    "weekly_matrix",
    "weekly_summary",
]
