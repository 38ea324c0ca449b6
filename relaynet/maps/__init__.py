"""Folium maps for planners: relay points by network, coverage, gaps and proposed sites.

``network_map(points)`` and ``coverage_map(assessment, ...)`` return :class:`RelayMap`
objects (a :class:`folium.Map`); ``m.save(path)`` writes one HTML file, :func:`save_map`
does it atomically; ``offline=True`` inlines Leaflet for Jupyter and saved pages.
:func:`esc` is the escaping to use for your own popups and tooltips (data text never goes
into a folium element unescaped). :mod:`relaynet.maps.labels` has the words and units,
:mod:`relaynet.maps.areas` the département shapes and choropleth classes.
"""

from __future__ import annotations

from ._html import esc
from ._page import RelayMap
from .assets import cdn_assets, inline_assets, map_html, save_map
from .comparison import comparison_map
from .coverage import coverage_map, radius_px
from .points import network_map, point_layers

__all__ = [
    "comparison_map",
    "RelayMap",
    "cdn_assets",
    "coverage_map",
    "esc",
    "inline_assets",
    "map_html",
    "network_map",
    "point_layers",
    "radius_px",
    "save_map",
]
