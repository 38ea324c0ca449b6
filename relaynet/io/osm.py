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
Relations are not placed: they are reported as rejected rows.

Coordinates: a node whose ``lat``/``lon`` is not a number in range (``1e999``, ``nan``,
``inf``, ``91``, ``lon="200"``) is a rejected row with that value and the reason; a way
with such a member node is rejected naming the node. libosmium would stop at ``nan`` and
read ``1e99`` as 0, so XML files are checked first (:func:`checked_osm_file`) and, when a
coordinate is odd, read from a copy where it is written plainly or left out; the road
network readers (:mod:`relaynet.network`) read their files through the same check and
:func:`bad_node_coordinates`, leaving out the ways such a node belongs to. A file with
no relay object at all (``<osm/>``, an empty PBF, an extract with only roads) is an
:class:`~relaynet.errors.InputError`, like an empty CSV; so is a malformed file (bad XML,
truncated or oversized compression, :data:`relaynet.io.read.MAX_DECOMPRESSED_BYTES`).

:func:`relaynet.io.load_osm_points` validates the records like any other points table.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .read import decompressed_chunks, readable_file
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


# --------------------------------------------------------------------------- coordinates

_UNDEFINED = 2**31 - 1
"""libosmium's fixed-point value of a coordinate the file did not give."""

_SAFE = rb"-?1?\d{1,2}(?:\.\d*)?"
"""Coordinates libosmium reads exactly: plain decimals below 200 in absolute value (it
refuses ``+45``, ``nan``, ``300`` and reads ``1e99`` as 0)."""

_ODD_COORDINATE = re.compile(rb"l(?:at|on)\s*=\s*(?:\"(?!" + _SAFE + rb"\")|'(?!" + _SAFE + rb"'))")
_NODE_TAG = re.compile(rb"<node\b((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)(\s*/?>)")
_ATTRIBUTE = re.compile(rb"(\s+)([^\s=/>]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_LIMITS = {b"lat": 90.0, b"lon": 180.0}


def _xml_pieces(path: Path) -> Iterator[bytes]:
    """The inflated bytes of an OSM XML file, cut before a ``<`` so that no tag is split."""
    carry = b""
    for chunk in decompressed_chunks(path):
        data = carry + chunk
        cut = data.rfind(b"<")
        if cut <= 0:
            carry = data
            continue
        yield data[:cut]
        carry = data[cut:]
    if carry:
        yield carry


def _plain_coordinate(raw: bytes, limit: float) -> bytes | None:
    """``raw`` as a decimal libosmium reads exactly, or None when it is not a number within
    ``±limit``."""
    if re.fullmatch(_SAFE, raw):
        return raw if abs(float(raw)) <= limit else None
    text = raw.decode("utf-8", "replace").strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return f"{value:.7f}".encode() if np.isfinite(value) and abs(value) <= limit else None


def _clean_node(match: re.Match, bad: dict[int, dict[str, str]]) -> bytes:
    """A ``<node …>`` start tag with odd coordinates written plainly, or, when one is not a
    number in range, with neither (``bad`` then keeps both texts, by node id)."""
    attributes = _ATTRIBUTE.findall(match.group(1))
    values = {name: quoted[1:-1] for _, name, _, quoted in attributes}
    plain = {
        name: _plain_coordinate(values[name], limit) if name in values else None
        for name, limit in _LIMITS.items()
    }
    if any(name in values and plain[name] is None for name in _LIMITS):
        try:
            node_id = int(values.get(b"id", b""))
        except ValueError:  # libosmium refuses the node id itself
            return match.group(0)
        bad[node_id] = {k.decode(): v.decode("utf-8", "replace") for k, v in values.items()}
        plain = dict.fromkeys(_LIMITS)  # no location: the loader sees the texts
    kept = [
        space + name + equals + (quoted if name not in _LIMITS else b'"' + plain[name] + b'"')
        for space, name, equals, quoted in attributes
        if name not in _LIMITS or plain[name] is not None
    ]
    return b"<node" + b"".join(kept) + match.group(2)


@contextmanager
def checked_osm_file(path: str | os.PathLike) -> Iterator[tuple[Path, dict[int, dict[str, str]]]]:
    """An OSM file libosmium can read without misreading a coordinate, and the nodes whose
    coordinates were not numbers in range: ``{node id: {"lat": "1e999"}}``.

    PBF files store coordinates as integers and are given back as they are. XML files
    (``.osm``, ``.osm.gz``, ``.osm.bz2``) are scanned once for ``lat``/``lon`` values that
    are not plain decimals; when there is one, the file is copied to a temporary plain
    ``.osm`` where those values are written as decimals, or left out when they are not
    numbers in range (the node then has no location), and that copy is given. Inflating
    stops at :data:`relaynet.io.read.MAX_DECOMPRESSED_BYTES`.
    """
    path = Path(path)
    if path.name.lower().endswith(".pbf") or not any(
        _ODD_COORDINATE.search(piece) for piece in _xml_pieces(path)
    ):
        yield path, {}
        return
    bad: dict[int, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="relaynet-osm-") as folder:
        copy = Path(folder) / "checked.osm"
        with open(copy, "wb") as out:
            for piece in _xml_pieces(path):
                out.write(_NODE_TAG.sub(lambda m: _clean_node(m, bad), piece))
        yield copy, bad


def _node_coordinates(obj, bad: dict[int, dict[str, str]]) -> tuple[object, object]:
    """A node's ``(lon, lat)`` for the loader: degrees, the file's texts when one of them is
    not a number in range (the loader rejects the row naming the value), or ``""`` when the
    file gives none."""
    if obj.id in bad:
        return bad[obj.id].get("lon", ""), bad[obj.id].get("lat", "")
    location = obj.location
    if location.x == _UNDEFINED or location.y == _UNDEFINED:
        return "", ""
    # out of range but given (lat="91" in a PBF): the loader names the value
    return location.lon_without_check(), location.lat_without_check()


def bad_node_coordinates(
    node_id: int, location, bad: dict[int, dict[str, str]]
) -> tuple[str | None, str | None] | None:
    """``(lat, lon)`` as the file gives them when a node's coordinates are not numbers in
    range, else None: the node is in ``bad`` (:func:`checked_osm_file` took its coordinates
    out), or libosmium read a location outside ±90/±180 (``lat="91"``, a PBF). A node the
    file gives no coordinates at all is not bad (an extract may leave them out).

    ``location`` is the node's ``osmium.osm.Location`` (a way's node ref's, with
    locations). For every reader of OSM files: relay points and road networks alike.
    """
    if node_id in bad:
        return bad[node_id].get("lat"), bad[node_id].get("lon")
    if not location.valid() and _UNDEFINED not in (location.x, location.y):
        return f"{location.lat_without_check():g}", f"{location.lon_without_check():g}"
    return None


def _bad_member(obj, bad: dict[int, dict[str, str]]) -> str | None:
    """The reason to reject a way one of whose nodes has coordinates that are not numbers
    in range, else None (nodes missing from an extract are left out, as osmnx does)."""
    for node in obj.nodes:
        coordinates = bad_node_coordinates(node.ref, node.location, bad)
        if coordinates is not None:
            lat, lon = coordinates
            return (
                f"a node of the way has coordinates out of range (n{node.ref}: "
                f"lat={lat!r}, lon={lon!r})"
            )
    return None


def read_osm_relay_records(
    path: str | os.PathLike,
) -> tuple[pd.DataFrame, list[dict], dict[int, str]]:
    """Relay-point records of an OSM file, the relations that could not be placed, and the
    reasons to reject records the loader cannot see (``{record position: reason}``, for
    ways whose nodes have bad coordinates).

    Raises
    ------
    InputError
        The file cannot be read, or holds no relay object (see the module docstring).
    """
    import osmium

    path = readable_file(path, kind="an OSM file", content="an OSM extract")
    records: list[dict] = []
    unplaced: list[dict] = []
    problems: dict[int, str] = {}
    try:
        with checked_osm_file(path) as (readable, bad):
            processor = (
                osmium.FileProcessor(str(readable))
                .with_locations()
                .with_filter(osmium.filter.KeyFilter("amenity", "shop"))
            )
            for obj in processor:
                tags = {t.k: t.v for t in obj.tags}
                if obj.is_node():
                    record = _record("n", obj.id, tags, *_node_coordinates(obj, bad))
                elif obj.is_way():
                    if _kind(tags) is None:
                        continue
                    reason = _bad_member(obj, bad)
                    coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                    lon, lat = np.mean(coords, axis=0) if coords and not reason else ("", "")
                    record = _record("w", obj.id, tags, lon, lat)
                    if reason:
                        problems[len(records)] = reason
                else:
                    record = _record("r", obj.id, tags, "", "")
                    if record is not None:
                        unplaced.append(record)
                        continue
                if record is not None:
                    records.append(record)
    except InputError as exc:  # from inflating: truncated, corrupt or too large
        detail = str(exc).removeprefix(f"{path}: ")
        raise InputError(f"{path}: cannot read as an OSM file ({detail})") from None
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:
        # libosmium stops at the first malformed object: no row to reject.
        raise InputError(f"{path}: cannot read as an OSM file ({one_line(exc)})") from None
    if not records and not unplaced:
        raise InputError(
            f"{path}: no relay points in this OSM file (no node or way tagged "
            "amenity=parcel_locker, post_office, post_partner, parcel_pickup, post_depot, or "
            "shop with parcel_pickup/post_office tags)"
        )
    return pd.DataFrame(records), unplaced, problems
