"""Relay-point records of an OpenStreetMap file (.osm, .osm.gz, .osm.bz2, .osm.pbf).

Read with pyosmium. Kept objects (nodes, and ways placed at the mean of their nodes):

- ``amenity=parcel_locker`` → ``kind="locker"``;
- ``amenity=post_office`` → ``"post_office"``, or ``"counter"`` when
  ``post_office=post_partner`` (a shop acting as post office);
- ``amenity=post_partner``, ``amenity=parcel_pickup``, and any ``shop=*`` with
  ``parcel_pickup=yes|only``, ``post_office=post_partner|yes`` or a ``post_office:*`` tag
  (``post_office:brand``, ``post_office:parcel_to`` …) → ``"counter"``;
- ``amenity=post_depot`` → ``"hub"``.

``network`` is the relay network, normalised by :func:`network_of`: the tags that name the
parcel service (``post_office:brand``, ``post_office:operator``,
``post_office:service_provider``, ``post_office:parcel_to``/``parcel_from`` when they
name a brand), then ``brand``, ``operator`` and ``network``, are matched against
:data:`OSM_NETWORKS` (``"Mondial Relay"``, ``"InPost"``, ``"Amazon Hub Locker"``,
``"La Poste"``, ``"UPS Access Point"`` …) and the first known network wins. When none is
known, the first of those tags present becomes a token (``"Vinted Go"`` →
``"vinted_go"``), except a shop's own ``brand``/``operator``: those name the shop chain
(``"Carrefour City"``), not its relay network, so such a shop's network stays empty.

``opening_hours`` tags are kept verbatim and validated like any other input
(``hours_source="osm"``); a point without one has unknown hours — a locker is ``24/7`` only
when tagged ``opening_hours=24/7``, never by default. Services: ``pickup`` unless
``parcel_pickup=no`` (or ``post_office:parcel_to=no``); ``dropoff`` for post offices, when
``parcel_mail_in=yes|only``, or when ``post_office:parcel_from`` is present and not ``no``.
Relations are not placed: they are reported as rejected rows. A malformed file (bad XML,
a coordinate such as ``lat="nan"``, truncated compression) stops libosmium's reader at
that object, so it is one :class:`~relaynet.errors.InputError`, not a rejected row.

:func:`relaynet.io.load_osm_points` validates the records like any other points table.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .schema import normalize_token
from .text import one_line

OSM_NETWORKS: tuple[tuple[str, str], ...] = (
    ("mondial relay", "mondial_relay"),
    ("relais colis", "relais_colis"),
    ("inpost", "inpost"),
    ("paczkomat", "inpost"),
    ("amazon", "amazon"),
    ("ups", "ups_access_point"),
    ("chronopost", "chronopost"),
    ("shop2shop", "chronopost"),
    ("colissimo", "colissimo"),
    ("la poste", "la_poste"),
    ("laposte", "la_poste"),
    ("relais poste", "la_poste"),
    ("dpd", "dpd_pickup"),
    ("gls", "gls"),
    ("dhl", "dhl"),
    ("packstation", "dhl"),
    ("pickup", "pickup"),
    ("pick up", "pickup"),
)
"""Words of an OSM ``brand``/``operator`` value (lower case, accents and punctuation
removed, matched as whole words, first match wins) → network token. Carriers come before
the generic ``pickup`` so that ``"DPD Pickup"`` is ``dpd_pickup`` and ``"Chronopost
Pickup"`` is ``chronopost``; the tokens are those of the carrier formats
(:mod:`relaynet.formats`), so OSM points and a carrier's export of the same network
merge."""

_NETWORK_WORDS = [(re.compile(rf"\b{re.escape(w)}\b"), token) for w, token in OSM_NETWORKS]
_SERVICE_TAGS = (
    "post_office:brand",
    "post_office:operator",
    "post_office:service_provider",
    "post_office:parcel_to",
    "post_office:parcel_from",
)
_YES_NO = frozenset(("yes", "no", "only", "limited"))


def _is_shop_relay(tags: dict[str, str]) -> bool:
    return "shop" in tags and (
        tags.get("parcel_pickup") in ("yes", "only")
        or tags.get("post_office") in ("post_partner", "yes")
        or any(k.startswith("post_office:") for k in tags)
    )


def _kind(tags: dict[str, str]) -> str | None:
    amenity = tags.get("amenity", "")
    if amenity == "parcel_locker":
        return "locker"
    if amenity == "post_office":
        return "counter" if tags.get("post_office") == "post_partner" else "post_office"
    if amenity == "post_depot":
        return "hub"
    if amenity in ("parcel_pickup", "post_partner") or _is_shop_relay(tags):
        return "counter"
    return None


def _words(value: str) -> str:
    return " ".join(normalize_token(value).split("_"))


def network_of(tags: dict[str, str]) -> str:
    """The relay network an OSM object belongs to, as a token (``""`` when no tag says).

    Examples
    --------
    >>> network_of({"amenity": "parcel_locker", "brand": "Amazon Hub Locker"})
    'amazon'
    >>> network_of({"shop": "tobacco", "brand": "Tabac Presse",
    ...             "post_office:brand": "Relais Pickup"})
    'pickup'
    """
    service = [tags.get(k, "") for k in _SERVICE_TAGS]
    service = [n for n in service if n and n.strip().lower() not in _YES_NO]
    own = [tags[k] for k in ("brand", "operator", "network") if tags.get(k)]
    for name in [*service, *own]:
        for part in re.split(r"[;,]", name):  # "DHL; Hermes": several brands
            words = _words(part)
            for pattern, token in _NETWORK_WORDS:
                if pattern.search(words):
                    return token
    # an unknown name: a shop's own brand/operator is the shop chain, not its relay network
    names = [*service, *([tags.get("network", "")] if "shop" in tags else own)]
    names = [n for n in names if n]
    return normalize_token(names[0].split(";")[0]) if names else ""


def _services(tags: dict[str, str], kind: str) -> str:
    services = set()
    if tags.get("parcel_pickup", "yes") != "no" and tags.get("post_office:parcel_to") != "no":
        services.add("pickup")
    sends = tags.get("post_office:parcel_from", "no") != "no"
    if kind == "post_office" or tags.get("parcel_mail_in") in ("yes", "only") or sends:
        services.add("dropoff")
    return ";".join(sorted(services))


def _record(obj_type: str, osm_id: int, tags: dict[str, str], lon, lat) -> dict | None:
    kind = _kind(tags)
    if kind is None:
        return None
    street = " ".join(x for x in (tags.get("addr:housenumber"), tags.get("addr:street")) if x)
    return {
        "point_id": f"{obj_type}{osm_id}",
        "name": tags.get("name", ""),
        "network": network_of(tags),
        "kind": kind,
        "opening_hours": tags.get("opening_hours", ""),
        "hours_source": "osm",
        "services": _services(tags, kind),
        "step_free": {"yes": "yes", "no": "no", "limited": "yes"}.get(
            tags.get("wheelchair", ""), ""
        ),
        "address": street,
        "postcode": tags.get("addr:postcode", ""),
        "city": tags.get("addr:city", ""),
        "country": tags.get("addr:country", ""),
        "lon": lon,
        "lat": lat,
        "osm_tags": ";".join(f"{k}={v}" for k, v in sorted(tags.items())),
    }


def read_osm_relay_records(path: str | os.PathLike) -> tuple[pd.DataFrame, list[dict]]:
    """Relay-point records of an OSM file, plus the relations that could not be placed."""
    import osmium

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file does not exist")
    records: list[dict] = []
    unplaced: list[dict] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("amenity", "shop"))
        )
        for obj in processor:
            tags = {t.k: t.v for t in obj.tags}
            if obj.is_node():
                lon, lat = (
                    (obj.location.lon, obj.location.lat) if obj.location.valid() else ("", "")
                )
                record = _record("n", obj.id, tags, lon, lat)
            elif obj.is_way():
                coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                lon, lat = np.mean(coords, axis=0) if coords else ("", "")
                record = _record("w", obj.id, tags, lon, lat)
            else:
                record = _record("r", obj.id, tags, "", "")
                if record is not None:
                    unplaced.append(record)
                    continue
            if record is not None:
                records.append(record)
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:
        # libosmium stops at the first malformed object (e.g. lat="nan"): no row to reject.
        raise InputError(f"{path}: cannot read as an OSM file ({one_line(exc)})") from None
    return pd.DataFrame(records), unplaced
