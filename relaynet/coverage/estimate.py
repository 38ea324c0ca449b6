"""Drive time estimated from straight-line distance, for when no road graph is given.

A national assessment (all of France offline) has no road graph; the French postal
rule still speaks of "20 minutes by car". :class:`DriveEstimate` turns a great-circle
distance into an *estimated* drive time::

    drive_s = distance_m * detour_factor / (speed_kmh / 3.6)

Defaults and where they come from
---------------------------------
``detour_factor = 1.3``
    Ratio of road distance to straight-line distance. Published circuity factors for
    road travel in Western Europe are about 1.2–1.4 (Ballou, Rahardja & Sakai, 2002,
    *Transportation Research A* 36: "Selected country circuity factors for road travel
    distance estimation"); rural trips to the nearest village sit in the upper half.
``speed_kmh = 50``
    Average door-to-door speed of a short rural car trip (village streets at 30–50 km/h,
    departmental roads at 80 km/h, start/stop). With both defaults, 20 minutes of driving
    is about 16.7 km of road, i.e. **12.8 km straight-line**.

Every result that uses this estimate says so (``drive_time_source == "estimated"``).
Give a :class:`relaynet.network.RoadNetwork` to :func:`relaynet.coverage.assess` for
real road times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

DETOUR_FACTOR = 1.3
"""Default road/straight-line distance ratio (dimensionless)."""

SPEED_KMH = 50.0
"""Default average door-to-door car speed for estimated drive times, km/h."""


@dataclass(frozen=True)
class DriveEstimate:
    """Estimated car travel from straight-line distance.

    Parameters
    ----------
    detour_factor
        Road distance / great-circle distance (≥ 1).
    speed_kmh
        Average speed over the road distance, km/h.
    """

    detour_factor: float = DETOUR_FACTOR
    speed_kmh: float = SPEED_KMH

    def __post_init__(self) -> None:
        if not (np.isfinite(self.detour_factor) and self.detour_factor >= 1.0):
            raise ParameterError(
                f"DriveEstimate.detour_factor must be a number ≥ 1, got {self.detour_factor!r}"
            )
        if not (np.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise ParameterError(
                f"DriveEstimate.speed_kmh must be a positive number, got {self.speed_kmh!r}"
            )

    @property
    def speed_ms(self) -> float:
        """Speed in metres per second."""
        return self.speed_kmh / 3.6

    def road_m(self, distance_m):
        """Estimated road distance in metres for straight-line ``distance_m`` (metres)."""
        return np.asarray(distance_m, dtype=float) * self.detour_factor

    def drive_s(self, distance_m):
        """Estimated drive time in seconds for straight-line ``distance_m`` (metres)."""
        return self.road_m(distance_m) / self.speed_ms

    def max_distance_m(self, drive_s: float) -> float:
        """Straight-line distance (metres) reachable within ``drive_s`` seconds."""
        return float(drive_s) * self.speed_ms / self.detour_factor

    def describe(self) -> str:
        """``"straight line × 1.3 at 50 km/h"``."""
        return f"straight line × {self.detour_factor:g} at {self.speed_kmh:g} km/h"


__all__ = ["DETOUR_FACTOR", "SPEED_KMH", "DriveEstimate"]
