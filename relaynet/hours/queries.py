"""The public queries over points' opening hours: open at an instant or during a window,
minutes open, a week's matrix and summary, one day's hours as text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .datetimes import DEFAULT_TZ, to_local, week_start_of
from .schedules import _NS_PER_MIN, Schedules, _hours_values, _to_ns

UNKNOWN_POLICIES = ("exclude", "include")
"""Accepted values of the ``unknown`` argument."""


# -- argument normalization ----------------------------------------------------------------


def _check_unknown(unknown: str) -> bool:
    if unknown not in UNKNOWN_POLICIES:
        raise ParameterError(f"unknown={unknown!r}: expected one of {UNKNOWN_POLICIES}")
    return unknown == "include"


def _is_scalar_time(when) -> bool:
    return isinstance(when, str | dt.date | pd.Timestamp | np.datetime64)


def _schedules(points, country, tz: str = DEFAULT_TZ) -> Schedules:
    return points if isinstance(points, Schedules) else Schedules(points, country=country, tz=tz)


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


def distinct_strings(points: Iterable[str] | pd.DataFrame) -> list[str]:
    """Distinct non-empty opening-hours strings of ``points`` (parsed or not), sorted."""
    text = _hours_values(points)
    return sorted({s.strip() for s in text if isinstance(s, str) and s.strip()})
