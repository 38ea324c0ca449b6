"""Road-network access: drive and walk times from every place to its nearest relay points.

``RoadNetwork`` wraps an osmnx road graph converted once to a scipy CSR matrix. Every query
(``nearest``, ``within``, ``isochrones``) runs a few multi-source shortest-path searches for all
places at once — never one search per place.

>>> net = RoadNetwork.from_osm_file("data/osm/andorra.osm.gz", mode="drive")  # doctest: +SKIP
>>> access = net.nearest(demand, points, k=2, max_time_s=1200)                 # doctest: +SKIP
"""

from __future__ import annotations

from ._build import (
    ACCESS_SPEED_KMH,
    DEFAULT_SPEEDS_KMH,
    DRIVE_HIGHWAYS,
    FALLBACK_SPEED_KMH,
    MODES,
    WALK_HIGHWAYS,
    WALK_SPEED_KMH,
    BadCoordinatesWarning,
    ClippedExtractWarning,
)
from ._road import RoadNetwork
from ._search import Router

__all__ = [
    "ACCESS_SPEED_KMH",
    "DEFAULT_SPEEDS_KMH",
    "DRIVE_HIGHWAYS",
    "FALLBACK_SPEED_KMH",
    "MODES",
    "WALK_HIGHWAYS",
    "WALK_SPEED_KMH",
    "BadCoordinatesWarning",
    "ClippedExtractWarning",
    "RoadNetwork",
    "Router",
]
