"""Relay-point records of an OpenStreetMap file (.osm, .osm.gz, .osm.bz2, .osm.pbf).

Read with pyosmium. Kept objects (nodes, and ways placed at the mean of their nodes):

- ``amenity=parcel_locker`` → ``kind="locker"``;
- ``amenity=post_office`` → ``"post_office"``, or ``"counter"`` when
  ``post_office=post_partner`` (a shop acting as post office);
- ``amenity=parcel_pickup`` or any ``shop=*`` with ``parcel_pickup=yes|only`` or
  ``post_office=post_partner`` → ``"counter"``;
- ``amenity=post_depot`` → ``"hub"``.

``network`` is the ``operator`` tag, else ``brand``, else ``network``, as a token
(``"Mondial Relay"`` → ``"mondial_relay"``). ``opening_hours`` tags are kept verbatim and
validated like any other input (``hours_source="osm"``). Services: ``pickup`` unless
``parcel_pickup=no``; ``dropoff`` for post offices and when ``parcel_mail_in=yes``.
Relations are not placed: they are reported as rejected rows. A malformed file (bad XML,
a coordinate such as ``lat="nan"``, truncated compression) stops libosmium's reader at
that object, so it is one :class:`~relaynet.errors.InputError`, not a rejected row.

:func:`relaynet.io.load_osm_points` validates the records like any other points table.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .text import one_line


def _kind(tags: dict[str, str]) -> str | None:
    amenity = tags.get("amenity", "")
    if amenity == "parcel_locker":
        return "locker"
    if amenity == "post_office":
        return "counter" if tags.get("post_office") == "post_partner" else "post_office"
    if amenity == "post_depot":
        return "hub"
    if amenity == "parcel_pickup":
        return "counter"
    if "shop" in tags and (
        tags.get("parcel_pickup") in ("yes", "only") or tags.get("post_office") == "post_partner"
    ):
        return "counter"
    return None


def _services(tags: dict[str, str], kind: str) -> str:
    services = set()
    if tags.get("parcel_pickup", "yes") != "no":
        services.add("pickup")
    if kind == "post_office" or tags.get("parcel_mail_in") in ("yes", "only"):
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
        "network": tags.get("operator") or tags.get("brand") or tags.get("network") or "",
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
