"""Folium maps for planners: relay points by network, coverage, gaps and proposed sites.

``network_map(points)`` and ``coverage_map(assessment, ...)`` return :class:`folium.Map`
objects; ``m.save(path)`` writes one HTML file, :func:`save_map` does it atomically and
can inline Leaflet and the other assets for offline use.
"""

from __future__ import annotations

from .assets import cdn_assets, inline_assets, map_html, save_map
from .coverage import coverage_map, radius_px
from .points import network_map, point_layers

__all__ = [
    "cdn_assets",
    "coverage_map",
    "inline_assets",
    "map_html",
    "network_map",
    "point_layers",
    "radius_px",
    "save_map",
]
