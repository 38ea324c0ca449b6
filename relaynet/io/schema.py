"""Canonical columns, kinds, services and density classes: one source of truth.

Coordinates are WGS84 (EPSG:4326). Relay points and demand points are GeoDataFrames
whose first columns are :data:`POINT_COLUMNS` / :data:`DEMAND_COLUMNS` in that order;
loaders keep any other input column after them, unchanged.

``services`` is stored as one string of sorted tokens joined by ``";"``
(``"dropoff;pickup;returns"``) so that it survives CSV, GeoJSON and Parquet alike;
:func:`parse_services` and :func:`has_services` convert and test it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import pandas as pd

CRS = "EPSG:4326"
"""CRS of every geometry relaynet returns."""

METRIC_CRS_FRANCE = "EPSG:2154"
"""Lambert-93, metres: used where planar geometry is needed in metropolitan France."""

POINT_COLUMNS: dict[str, str] = {
    "point_id": "str",
    "name": "str",
    "network": "str",
    "kind": "str",
    "opening_hours": "str",
    "hours_source": "str",
    "services": "str",
    "max_weight_kg": "float64",
    "max_length_cm": "float64",
    "capacity": "float64",
    "rating": "float64",
    "parking": "boolean",
    "step_free": "boolean",
    "address": "str",
    "postcode": "str",
    "city": "str",
    "country": "str",
}
"""Canonical relay-point columns (besides ``geometry``) and their dtypes."""

DEMAND_COLUMNS: dict[str, str] = {
    "demand_id": "str",
    "name": "str",
    "weight": "float64",
    "area_id": "str",
    "area_name": "str",
    "density_class": "str",
}
"""Canonical demand-point columns (besides ``geometry``) and their dtypes."""

KINDS = ("locker", "counter", "post_office", "hub")
"""Kinds of relay point."""

SERVICES = ("pickup", "dropoff", "returns")
"""Services a relay point can offer."""

DENSITY_CLASSES = ("urban", "intermediate", "rural")
"""Three-level density classes (INSEE grouping of its 7-level grid)."""

HOURS_SOURCES = ("osm", "carrier", "operator", "illustrative", "unknown")
"""Where a point's opening hours come from; ``unknown`` when it has none."""

INSEE_DENS_TO_CLASS = {
    1: "urban",
    2: "intermediate",
    3: "intermediate",
    4: "intermediate",
    5: "rural",
    6: "rural",
    7: "rural",
}
"""INSEE 7-level density grid to the 3-level classes (INSEE's own grouping)."""

KIND_ALIASES: dict[str, str] = {
    "locker": "locker",
    "parcel_locker": "locker",
    "consigne": "locker",
    "casier": "locker",
    "lockers": "locker",
    "counter": "counter",
    "shop": "counter",
    "relay": "counter",
    "relais": "counter",
    "point_relais": "counter",
    "pickup_point": "counter",
    "parcel_pickup": "counter",
    "post_partner": "counter",
    "relais_poste_commercant": "counter",
    "agence_postale_communale": "counter",
    "agence_postale_intercommunale": "counter",
    "agence_postale_militaire": "counter",
    "post_office": "post_office",
    "bureau_de_poste": "post_office",
    "bureau_de_poste_principal": "post_office",
    "hub": "hub",
    "depot": "hub",
    "post_depot": "hub",
}
"""Spellings accepted for ``kind`` (after :func:`normalize_token`)."""

SERVICE_ALIASES: dict[str, str] = {
    "pickup": "pickup",
    "pick_up": "pickup",
    "collect": "pickup",
    "retrait": "pickup",
    "dropoff": "dropoff",
    "drop_off": "dropoff",
    "depot": "dropoff",
    "send": "dropoff",
    "envoi": "dropoff",
    "returns": "returns",
    "return": "returns",
    "retour": "returns",
    "retours": "returns",
}
"""Spellings accepted for each service token (after :func:`normalize_token`)."""

DENSITY_ALIASES: dict[str, str] = {
    "urban": "urban",
    "urbain": "urban",
    "dense": "urban",
    "1": "urban",
    "intermediate": "intermediate",
    "intermediaire": "intermediate",
    "2": "intermediate",
    "3": "intermediate",
    "4": "intermediate",
    "rural": "rural",
    "5": "rural",
    "6": "rural",
    "7": "rural",
}
"""Spellings accepted for ``density_class``: names or INSEE's 1–7 levels."""


def normalize_token(value: object) -> str:
    """Lower-case ASCII token with ``_`` for separators: ``"Relais poste commerçant"`` →
    ``"relais_poste_commercant"``. Empty string for missing values."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def normalize_network(value: object) -> str:
    """Network/carrier name as a token: ``"Mondial Relay"`` → ``"mondial_relay"``."""
    return normalize_token(value)


def parse_services(value: object) -> tuple[str, list[str]]:
    """Parse a services cell (``"pickup, returns"``, ``"retrait;depot"`` …).

    Returns
    -------
    (canonical, unknown)
        ``canonical`` is the sorted ``";"``-joined set of known services ("" if none),
        ``unknown`` the tokens that are not a known service.
    """
    text = "" if value is None or value is pd.NA else str(value)
    if text.lower() == "nan":
        text = ""
    found: set[str] = set()
    unknown: list[str] = []
    for raw in re.split(r"[;,|/+]", text):
        token = normalize_token(raw)
        if not token:
            continue
        if token in SERVICE_ALIASES:
            found.add(SERVICE_ALIASES[token])
        else:
            unknown.append(raw.strip())
    return ";".join(sorted(found)), unknown


def has_services(services: pd.Series, required: Iterable[str]) -> np.ndarray:
    """Boolean mask: rows of a ``services`` column offering every service in ``required``."""
    required = [SERVICE_ALIASES.get(normalize_token(s), s) for s in required]
    mask = np.ones(len(services), dtype=bool)
    tokens = services.fillna("").astype(str)
    for service in required:
        mask &= tokens.str.split(";").map(lambda items, s=service: s in items).to_numpy(bool)
    return mask
