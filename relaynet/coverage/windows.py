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

import pandas as pd

from ..eligibility import Eligibility
from ..errors import ParameterError
from .kpis import kpi_dict

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


WINDOW_KEYS = ("window", "description", "group")
"""Leading columns of a windows table (then :data:`~relaynet.coverage.kpis.KPI_COLUMNS`)."""


def window_table(blocks: list[tuple[str, object, pd.DataFrame]], columns) -> pd.DataFrame:
    """The windows table: one row per window and group (``"all"``, then density classes).

    Parameters
    ----------
    blocks
        ``(name, eligibility, kpis)`` per window: the window's Eligibility (or a mask) and
        its KPI table indexed by group, ``"all"`` first.
    columns
        KPI columns (used for the empty table).

    Returns
    -------
    DataFrame with ``window``, ``description``, ``group`` then the KPIs.
    """
    frames = []
    for name, eligibility, kpis in blocks:
        block = kpis.copy()
        block.index.name = "group"
        block = block.reset_index()
        description = (
            describe_window(name, eligibility)
            if isinstance(eligibility, Eligibility)
            else f"{name}: custom mask"
        )
        block.insert(0, "description", description)
        block.insert(0, "window", name)
        frames.append(block)
    if not frames:
        return pd.DataFrame(columns=[*WINDOW_KEYS, *columns])
    return pd.concat(frames, ignore_index=True)


def window_kpis_dict(table) -> dict:
    """JSON-safe KPIs per window (the ``windows`` block of ``kpis.json``).

    ``table`` has columns ``window``, ``description``, ``group`` then the KPIs (the
    ``windows`` table of an assessment, local or dask). Returns ``{window: {"description":
    …, group: {kpi: value}}}`` in the table's order.
    """
    out: dict = {}
    for name, group in table.groupby("window", sort=False):
        out[str(name)] = {
            "description": str(group["description"].iloc[0]),
            **{
                str(row["group"]): kpi_dict(row.drop(list(WINDOW_KEYS)))
                for _, row in group.iterrows()
            },
        }
    return out


TIME_WINDOWS = time_windows()
"""The four standard windows for the default :data:`REFERENCE_WEEK`."""


__all__ = [
    "REFERENCE_WEEK",
    "TIME_WINDOWS",
    "WINDOW_KEYS",
    "describe_window",
    "time_windows",
    "window_kpis_dict",
    "window_table",
]
