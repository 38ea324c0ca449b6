"""The JavaScript/CSS that folium links from CDNs, served from a local dependency.

Folium maps load Leaflet, Leaflet.markercluster, jQuery, Bootstrap, awesome-markers and
Font Awesome from public CDNs. A planner without internet, and our browser tests (CI has
no internet), need them locally. The `folium-offline <https://pypi.org/project/folium-offline/>`_
package ships the exact files folium links, keyed by their CDN URL; this module reads them
from there (nothing is copied into this repository) to

* inline them into a saved map (:func:`inline_assets`, ``save_map(..., offline=True)``),
* answer the browser's requests for them in tests (:func:`cdn_assets`).

Map tiles are not assets: they still need a tile server.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import folium

from ..errors import ParameterError
from ..io import atomic_path

_SCRIPT = re.compile(r'<script\s+src="(?P<url>https?://[^"]+)"\s*>\s*</script>')
_CSS = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>https?://[^"]+)"\s*/?>')


@functools.lru_cache(maxsize=1)
def cdn_assets() -> dict[str, str]:
    """``{CDN URL: file text}`` for every JS/CSS file folium and its plugins link.

    Raises
    ------
    ImportError
        When ``folium-offline`` is not installed (``pip install folium-offline``).
    """
    try:
        from offlinefolium import elements
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "offline maps need the folium-offline package: pip install folium-offline"
        ) from exc
    resources = getattr(elements, "_res", None)
    if not isinstance(resources, dict) or not resources:  # pragma: no cover
        raise ImportError("folium-offline does not expose its embedded resources (_res)")
    return dict(resources)


def linked_assets(html: str) -> list[str]:
    """CDN URLs of the ``<script src>`` and stylesheet ``<link>`` tags of a page, in order."""
    return [m.group("url") for m in _SCRIPT.finditer(html)] + [
        m.group("url") for m in _CSS.finditer(html)
    ]


def inline_assets(html: str, *, strict: bool = True) -> str:
    """Replace the CDN ``<script src>`` / stylesheet links of ``html`` by inline copies.

    Parameters
    ----------
    html
        A rendered folium page.
    strict
        Raise :class:`~relaynet.errors.ParameterError` when a linked file has no local
        copy (otherwise leave that link as it is).

    Returns
    -------
    str
        The page with every known asset inlined (``</script`` inside scripts escaped).
    """
    assets = cdn_assets()
    missing = [url for url in linked_assets(html) if url not in assets]
    if missing and strict:
        raise ParameterError(
            f"no offline copy of {missing} in folium-offline; folium {folium.__version__} "
            "links files that the installed folium-offline does not ship"
        )

    def script(match: re.Match) -> str:
        text = assets.get(match.group("url"))
        if text is None:
            return match.group(0)
        return "<script>" + re.sub(r"</(script)", r"<\\/\1", text, flags=re.I) + "</script>"

    def css(match: re.Match) -> str:
        text = assets.get(match.group("url"))
        if text is None:
            return match.group(0)
        return "<style>" + re.sub(r"</(style)", r"<\\/\1", text, flags=re.I) + "</style>"

    return _CSS.sub(css, _SCRIPT.sub(script, html))


def map_html(m: folium.Map, *, offline: bool = False) -> str:
    """The full HTML page of a folium map, with its assets inlined when ``offline``.

    Every element is named from its place in the map, also for a plain :class:`folium.Map`,
    and a second rendering replaces what the first one added to the page
    (:func:`relaynet.maps._page.render_page`): the same map gives the same page, byte for
    byte.
    """
    from ._page import render_page

    html = render_page(m)
    return inline_assets(html) if offline else html


def save_map(m: folium.Map, path: str | os.PathLike, *, offline: bool = False) -> Path:
    """Write a map as one HTML file, atomically.

    Parameters
    ----------
    m
        The map.
    path
        Target file.
    offline
        Inline Leaflet and the other JS/CSS (about 1.5 MB more) so the markers, popups and
        layer control work without internet; tiles still need a tile server.

    Returns
    -------
    Path
        ``path``.
    """
    if not isinstance(m, folium.Map):
        raise ParameterError(f"save_map expects a folium.Map, got {type(m).__name__}")
    html = map_html(m, offline=offline)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path)
