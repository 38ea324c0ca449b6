"""Words and numbers as a person reads them, shared by the maps, the report and the notebooks.

Machine names (``la_poste``, ``weekday_evening``, ``share_covered``) stay in CSV and JSON;
everything shown on a page goes through these helpers: networks and windows in words,
percentages with ``%``, differences of shares in percentage points, kilometres with one
decimal, thousands separated by a thin space. The functions return plain text (escape it
before putting it into HTML).
"""

from __future__ import annotations

import math

NETWORK_NAMES: dict[str, str] = {
    "la_poste": "La Poste",
    "mondial_relay": "Mondial Relay",
    "amazon": "Amazon",
    "inpost": "InPost",
    "dpd_pickup": "DPD Pickup",
    "chronopost": "Chronopost",
    "colissimo": "Colissimo",
    "ups": "UPS",
    "gls": "GLS",
    "relais_colis": "Relais Colis",
    "all networks": "All networks",
}
"""Spelling of the networks we know (others: first letter upper case, ``_`` as spaces)."""

KIND_NAMES: dict[str, str] = {
    "locker": "Locker",
    "counter": "Counter (shop or agency)",
    "post_office": "Post office",
    "hub": "Hub",
}

WINDOW_NAMES: dict[str, str] = {
    "weekday_daytime": "Weekday daytime (Tue 10:00)",
    "weekday_evening": "Weekday evening (Tue 19:00)",
    "saturday": "Saturday morning (Sat 10:00)",
    "sunday": "Sunday morning (Sun 10:00)",
}
"""The four standard time windows of :mod:`relaynet.coverage.windows`, in words."""

MODEL_NAMES: dict[str, str] = {
    "mclp": "maximal covering (MCLP)",
    "lscp": "set covering (LSCP)",
    "pmedian": "p-median",
    "backup": "backup covering",
}
"""The siting models of :mod:`relaynet.optimize`, in words."""

LOCATION_SOURCES: dict[str, str] = {
    "town_hall": "at the town hall",
    "centroid": "at the polygon centroid",
}
"""Where a demand place's point stands (``location_source`` of the demand), in words."""

DENSITY_NAMES: dict[str, str] = {
    "urban": "Urban",
    "intermediate": "Intermediate",
    "rural": "Rural",
    "all": "All places",
}


def _token(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def network_name(value: object) -> str:
    """``"la_poste"`` → ``"La Poste"``; unknown tokens → first letter up, ``_`` as spaces."""
    return NETWORK_NAMES.get(str(value), _token(value)) or "(none)"


def kind_name(value: object) -> str:
    """``"post_office"`` → ``"Post office"``."""
    return KIND_NAMES.get(str(value), _token(value)) or "(unknown kind)"


def window_name(value: object) -> str:
    """``"weekday_evening"`` → ``"Weekday evening (Tue 19:00)"``."""
    return WINDOW_NAMES.get(str(value), _token(value))


def density_name(value: object) -> str:
    """``"rural"`` → ``"Rural"``."""
    return DENSITY_NAMES.get(str(value), _token(value))


def model_name(value: object) -> str:
    """``"mclp"`` → ``"maximal covering (MCLP)"``; unknown models in upper case."""
    return MODEL_NAMES.get(str(value).lower(), str(value).upper())


def location_source(value: object) -> str:
    """``"town_hall"`` → ``"at the town hall"``; others ``"at the …"`` in words."""
    text = str(value).replace("_", " ").strip()
    return LOCATION_SOURCES.get(str(value), f"at the {text}" if text else "unknown")


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def count(value, digits: int = 0) -> str:
    """``12345.6`` → ``"12 346"`` (thin spaces between thousands); ``"—"`` when missing."""
    number = _number(value)
    if not math.isfinite(number):
        return "—"
    return f"{number:,.{digits}f}".replace(",", "\u202f")


def percent(share, digits: int = 1) -> str:
    """A share in [0, 1] as ``"98.9 %"``; ``"—"`` when missing."""
    number = _number(share)
    return "—" if not math.isfinite(number) else f"{100 * number:.{digits}f} %"


def points_diff(difference, digits: int = 1) -> str:
    """A difference of two shares in percentage points, signed: ``"+2.2 pp"``."""
    number = _number(difference)
    return "—" if not math.isfinite(number) else f"{100 * number:+.{digits}f} pp"


def km(metres, digits: int = 1, *, up: bool = False) -> str:
    """Metres as kilometres with one decimal: ``1856.3`` → ``"1.9 km"``.

    ``up``: rounded up (``5004`` → ``"5.1 km"``), for the distance of a place that is *not*
    covered: it never reads as within the standard (``"5.0 km"`` under a 5 km standard).
    """
    number = _number(metres)
    if not math.isfinite(number):
        return "—"
    if up:
        steps = 10**digits
        number = math.ceil(round(number * steps / 1000, 6)) * 1000 / steps
    return f"{number / 1000:.{digits}f} km"


def minutes(seconds, digits: int = 0) -> str:
    """Seconds as minutes: ``754`` → ``"13 min"``."""
    number = _number(seconds)
    return "—" if not math.isfinite(number) else f"{number / 60:.{digits}f} min"


__all__ = [
    "DENSITY_NAMES",
    "KIND_NAMES",
    "LOCATION_SOURCES",
    "MODEL_NAMES",
    "NETWORK_NAMES",
    "WINDOW_NAMES",
    "count",
    "density_name",
    "kind_name",
    "km",
    "location_source",
    "minutes",
    "model_name",
    "network_name",
    "percent",
    "points_diff",
    "window_name",
]
