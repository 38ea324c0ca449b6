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

from .datetimes import DEFAULT_TZ, parse_datetime, to_local, week_start_of
from .parsing import validate
from .queries import (
    UNKNOWN_POLICIES,
    describe_unknown,
    distinct_strings,
    hours_on,
    is_open,
    open_during,
    open_minutes,
    weekly_matrix,
    weekly_summary,
)
from .schedules import Schedules

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
