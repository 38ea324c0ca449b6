"""Time windows: coverage "when", each window one :class:`~relaynet.eligibility.Eligibility`.

A time window is a snapshot instant of a concrete *reference week*, so that public
holidays and the dated exceptions of real opening hours ("2024 May 20 off") apply exactly
as they would on that day. The default reference week is **Monday 10 – Sunday 16 June
2024**:

* no French public holiday falls in it (2024 holidays: 1 Jan, 1 Apr, 1 May, 8 May,
  9 May, 20 May, 14 Jul, 15 Aug, 1 Nov, 11 Nov, 25 Dec) and no school holiday
  (zones A/B/C were all in class);
* it is the vintage of the bundled La Poste hours (rules computed in 2024).

Windows (:data:`TIME_WINDOWS`, built by :func:`time_windows`):

=================== ==================================== ===========================
name                meaning                              instant (reference week)
=================== ==================================== ===========================
``weekday_daytime`` open on a weekday mid-morning        Tuesday 10:00
``weekday_evening`` open after 19:00 on a weekday        Tuesday 19:00
``saturday``        open on Saturday morning             Saturday 10:00
``sunday``          open on Sunday morning               Sunday 10:00
=================== ==================================== ===========================

"Open at 19:00" means open in the minute starting at 19:00, i.e. still open *after*
19:00 ("Mo-Fr 09:00-19:00" closes at 19:00 and does not count). Points with unknown
hours are excluded (``unknown_hours="exclude"``), never silently counted as open.
Give your own windows as ``{"saturday_afternoon": Eligibility(open_at="2024-06-15
15:00")}`` to :func:`relaynet.coverage.assess`.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from ..eligibility import Eligibility
from ..errors import ParameterError

REFERENCE_WEEK = dt.date(2024, 6, 10)
"""Monday of the default reference week (no French public or school holiday)."""

_INSTANTS = {
    "weekday_daytime": (1, dt.time(10, 0), "open Tuesday 10:00"),
    "weekday_evening": (1, dt.time(19, 0), "open after 19:00 (Tuesday 19:00)"),
    "saturday": (5, dt.time(10, 0), "open Saturday 10:00"),
    "sunday": (6, dt.time(10, 0), "open Sunday 10:00"),
}


def time_windows(
    week_start: dt.date = REFERENCE_WEEK,
    *,
    unknown_hours: str = "exclude",
    country: str | None = "FR",
) -> MappingProxyType:
    """The four standard windows as Eligibility objects for the week starting ``week_start``.

    Parameters
    ----------
    week_start
        A Monday (local date).
    unknown_hours
        Policy for points without usable hours (``"exclude"`` or ``"include"``).
    country
        ISO code for public holidays in the hours.

    Returns
    -------
    Read-only mapping ``name -> Eligibility`` in the order weekday daytime, weekday
    evening, Saturday, Sunday.
    """
    if not isinstance(week_start, dt.date) or week_start.weekday() != 0:
        raise ParameterError(f"week_start={week_start!r}: expected a Monday (datetime.date)")
    out = {}
    for name, (offset, clock, _) in _INSTANTS.items():
        day = week_start + dt.timedelta(days=offset)
        out[name] = Eligibility(
            open_at=dt.datetime.combine(day, clock),
            unknown_hours=unknown_hours,
            country=country,
            reference=week_start,
        )
    return MappingProxyType(out)


def describe_window(name: str, where: Eligibility) -> str:
    """Human label of a window: the standard meaning, then its concrete criterion."""
    label = _INSTANTS.get(name, (None, None, name))[2]
    return f"{label}: {where.describe()}"


TIME_WINDOWS = time_windows()
"""The four standard windows for the default :data:`REFERENCE_WEEK`."""


__all__ = ["REFERENCE_WEEK", "TIME_WINDOWS", "describe_window", "time_windows"]
