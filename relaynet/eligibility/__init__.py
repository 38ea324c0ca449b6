"""Which relay points work for a given customer need: one frozen object → a boolean mask.

``Eligibility(open_at="2026-11-28 18:30", services={"returns"}, parcel_weight_kg=25)``
is the same object for nearest queries, coverage, maps, reports and the CLI.

Missing values
--------------
A criterion on a value the data does not give is *unknown*, never silently satisfied:

* hours missing/unparseable: excluded from hour criteria unless ``unknown_hours="include"``;
* other attributes (services, parcel limits, rating, parking, step-free, capacity) with a
  missing value (NaN/NA/empty): excluded unless ``unknown_attributes="include"``;
* an optional attribute column (``rating``, ``parking`` …) absent from the points
  altogether: every point is unknown for it, and a :class:`UserWarning` says so (the
  canonical loaders always create the columns, so this only happens with hand-built
  tables);
* an ``opening_hours``, ``services``, ``kind`` or ``network`` column absent under a filter
  that needs it: :class:`ParameterError` naming the column and the filter.

``services`` may hold the canonical ``';'``-joined text (``"pickup;returns"``) or Python
sets, lists or tuples of names (hand-built tables).

:meth:`Eligibility.report` counts, per criterion, the points that pass, fail and are unknown.
"""

from __future__ import annotations

from .criteria import Eligibility, masks
from .parsing import parse_window

__all__ = ["Eligibility", "masks", "parse_window"]
