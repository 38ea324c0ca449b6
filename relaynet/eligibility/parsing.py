"""Criterion values as users give them → canonical values: time windows
(:func:`parse_window`), service, kind and network names, numeric thresholds."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from .. import hours
from ..errors import ParameterError
from ..io.schema import normalize_network, normalize_token

_DAY_NAMES = (
    ("mo", "mon", "monday", "lu", "lun", "lundi"),
    ("tu", "tue", "tues", "tuesday", "ma", "mar", "mardi"),
    ("we", "wed", "wednesday", "me", "mer", "mercredi"),
    ("th", "thu", "thur", "thurs", "thursday", "je", "jeu", "jeudi"),
    ("fr", "fri", "friday", "ve", "ven", "vendredi"),
    ("sa", "sat", "saturday", "sam", "samedi"),
    ("su", "sun", "sunday", "di", "dim", "dimanche"),
)
_WEEKDAY = {name: i for i, names in enumerate(_DAY_NAMES) for name in names}
_CLOCK = r"(\d{1,2})(?::(\d{2})|h(\d{2})?)"
_WINDOW = re.compile(rf"\s*(?P<day>\S.*?)\s+{_CLOCK}\s*-\s*{_CLOCK}\s*")
_WINDOW_FORMS = (
    "'Sa 18:00-19:00', 'samedi 18:00-19:00', 'Mo-Fr 18:00-19:00', "
    "'2026-12-24 10:00-12:00' or '24/12/2026 10:00-12:00'"
)


def _tokens(
    value, aliases: dict[str, str] | None, known: tuple[str, ...] | None, what: str
) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else list(value)
    out: set[str] = set()
    bad: list[str] = []
    for item in items:
        for raw in re.split(r"[;,]", str(item)):
            token = normalize_token(raw) if aliases is not None else normalize_network(raw)
            if not token:
                continue
            if aliases is not None:
                if token not in aliases:
                    bad.append(raw.strip())
                    continue
                token = aliases[token]
            out.add(token)
    if bad:
        raise ParameterError(f"{what}: unknown value(s) {bad}; expected some of {list(known)}")
    return frozenset(out)


def _number(value, name: str, *, minimum: float = 0.0) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r}: expected a number") from None
    if not np.isfinite(number) or number < minimum:
        raise ParameterError(f"{name}={value!r}: expected a finite number ≥ {minimum:g}")
    return number


def parse_window(spec, reference=None) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """Time windows from ``"Sa 18:00-19:00"``, ``"Mo-Fr 18:00-19:00"``, a date, or a pair.

    The day is a date (ISO ``2026-12-24`` or day-first ``24/12/2026``) or weekdays in OSM,
    English or French spelling (``Sa``, ``sat``, ``Saturday``, ``samedi``), as a range
    (``Mo-Fr``, ``lundi-vendredi``) or a list (``Mo,We``). A weekday means the *next* such
    day on or after ``reference`` (default: today), so that holidays and dated exceptions
    of that date apply; several weekdays give one window per day.

    The end must be after the start: ``"Sa 19:00-18:00"`` is refused. A window past
    midnight is written with hours after 24, as in OSM ``opening_hours``:
    ``"Fr 22:00-26:00"`` is Friday 22:00 to Saturday 02:00.

    Returns
    -------
    tuple of (start, end)
        Naive local datetimes, sorted by start.
    """
    if not isinstance(spec, str):
        try:
            start, end = spec
        except (TypeError, ValueError):
            raise ParameterError(
                f"open_during={spec!r}: expected e.g. {_WINDOW_FORMS}, or a (start, end) "
                "pair of datetimes"
            ) from None
        bounds = hours.to_local([start, end])
        if bounds[1] <= bounds[0]:
            raise ParameterError(f"open_during={spec!r}: end is not after start")
        return ((bounds[0].to_pydatetime(), bounds[1].to_pydatetime()),)
    match = _WINDOW.fullmatch(spec)
    if not match:
        raise ParameterError(
            f"open_during={spec!r}: expected a day and a time range such as {_WINDOW_FORMS}"
        )
    h0, m0 = int(match[2]), int(match[3] or match[4] or 0)
    h1, m1 = int(match[5]), int(match[6] or match[7] or 0)
    if h0 > 23 or h1 > 48 or m0 > 59 or m1 > 59 or (h1 == 48 and m1):
        raise ParameterError(f"open_during={spec!r}: invalid time")
    if (h1, m1) <= (h0, m0):
        raise ParameterError(
            f"open_during={spec!r}: the window ends before it starts; for a window past "
            "midnight write the end after 24:00 ('Fr 22:00-26:00' is Friday 22:00 to "
            "Saturday 02:00)"
        )
    start = dt.timedelta(hours=h0, minutes=m0)
    end = dt.timedelta(hours=h1, minutes=m1)
    days = _window_days(match["day"], spec, reference)
    return tuple(
        (dt.datetime.combine(day, dt.time()) + start, dt.datetime.combine(day, dt.time()) + end)
        for day in days
    )


def _window_days(text: str, spec: str, reference) -> list[dt.date]:
    """The calendar days of a window spec's day part (a date or weekdays), sorted."""
    if any(c.isdigit() for c in text):
        try:
            return [hours.parse_datetime(text).date()]
        except ParameterError as exc:
            raise ParameterError(f"open_during={spec!r}: {exc}") from None
    weekdays: set[int] = set()
    for item in text.lower().replace(" ", "").split(","):
        first, _, last = item.partition("-")
        if first not in _WEEKDAY or (last and last not in _WEEKDAY):
            raise ParameterError(
                f"open_during={spec!r}: {item!r} is not a weekday (Mo…Su, Monday…, "
                "lundi…) or a range of them"
            )
        a = _WEEKDAY[first]
        b = _WEEKDAY[last] if last else a
        weekdays.update((a + k) % 7 for k in range((b - a) % 7 + 1))
    ref = pd.Timestamp(dt.date.today() if reference is None else reference).date()
    return sorted(ref + dt.timedelta(days=(w - ref.weekday()) % 7) for w in weekdays)
