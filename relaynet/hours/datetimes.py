"""Datetimes as users type them (ISO or day first) → naive local time; the week of a day."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from ..errors import ParameterError

DEFAULT_TZ = "Europe/Paris"
"""Timezone that timezone-aware datetimes are converted to before evaluation."""


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
    try:
        return index.as_unit("ns")
    except pd.errors.OutOfBoundsDatetime:
        raise ParameterError(f"datetime(s) {when!r}: outside the years 1677–2262") from None


def week_start_of(day=None) -> dt.datetime:
    """Midnight of the Monday starting the week that contains ``day`` (default: today)."""
    day = pd.Timestamp(dt.date.today() if day is None else day)
    if day.tz is not None:
        day = day.tz_convert(DEFAULT_TZ).tz_localize(None)
    monday = day.normalize() - pd.Timedelta(days=day.weekday())
    return monday.to_pydatetime()
