"""Drive time and road distance estimated from straight-line distance (no road graph).

The estimate lives in :mod:`relaynet.costs` (one travel cost source for assess and solve):
``drive_s = distance_m * detour_factor / (speed_kmh / 3.6)`` with the defaults ×1.3 at
50 km/h, their sources, and per density class values. This module keeps the names
importable from ``relaynet.coverage``.
"""

from __future__ import annotations

from ..costs import DETOUR_FACTOR, SPEED_KMH, DriveEstimate

__all__ = ["DETOUR_FACTOR", "SPEED_KMH", "DriveEstimate"]
