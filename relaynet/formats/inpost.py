"""InPost points API (``GET /v1/points``: ``items[]``), saved as JSON.

Read: ``name`` (the point's code, kept as ``point_id`` and ``name``), ``type[]``
(``parcel_locker`` → locker, ``pop`` → counter), ``status`` (points not ``Operating`` are
rejected with their status), ``location.latitude/longitude``, ``opening_hours``
(``"24/7"``, OSM-like text or InPost's own ``"PN-PT 10-19 SB 10-14"`` with Polish or English
day names), ``location_247`` (open 24/7 when no hours are given), ``functions[]``
(``*parcel_collect`` → pickup, ``*parcel_send`` → dropoff, ``*reverse_return_send`` →
returns), ``address.line1`` / ``address_details`` (street, building number, post code,
city) and ``country`` when present.

Assumed: network ``inpost``. No parcel limits are assumed (the API gives none).
"""

from __future__ import annotations

import re

from .. import hours as _hours
from ._base import CarrierTable, Records, as_list, build, days_to_osm, flag, join_text
from ._base import text as t

NAME = "inpost"
RECORD_KEYS = ("items",)
RECORD_ID_KEYS = ()
MARKERS = (("items",), ("location_247", "functions", "address_details", "physical_type"))
CONTAINERS = ()
ASSUMED = {"network": "inpost"}

_DAY_TOKENS = {
    "pn": "Mo", "pon": "Mo", "mo": "Mo", "mon": "Mo",
    "wt": "Tu", "tu": "Tu", "tue": "Tu",
    "sr": "We", "śr": "We", "we": "We", "wed": "We",
    "cz": "Th", "czw": "Th", "th": "Th", "thu": "Th",
    "pt": "Fr", "pi": "Fr", "fr": "Fr", "fri": "Fr",
    "sb": "Sa", "so": "Sa", "sob": "Sa", "sa": "Sa", "sat": "Sa",
    "nd": "Su", "ndz": "Su", "nie": "Su", "su": "Su", "sun": "Su",
}  # fmt: skip
_ORDER = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY = r"(?:" + "|".join(sorted(map(re.escape, _DAY_TOKENS), key=len, reverse=True)) + r")\.?"
_TIME = r"\d{1,2}(?:[:.]\d{2})?"
_SPAN = rf"{_TIME}\s*-\s*{_TIME}"
_RULE = re.compile(
    rf"(?P<days>{_DAY}(?:\s*-\s*{_DAY})?(?:\s*,\s*{_DAY}(?:\s*-\s*{_DAY})?)*)\s*:?\s*"
    rf"(?P<spans>{_SPAN}(?:\s*,\s*{_SPAN})*)",
    re.IGNORECASE,
)
_FUNCTIONS = (("parcel_collect", "pickup"), ("parcel_send", "dropoff"), ("return_send", "returns"))


def _clock(value: str) -> tuple[int, int]:
    hour, _, minute = value.replace(".", ":").partition(":")
    return int(hour), int(minute or 0)


def _day(token: str) -> str:
    return _DAY_TOKENS[token.lower().rstrip(".")]


def inpost_hours(value: str) -> str | None:
    """InPost ``"PN-PT 10-19 SB 10-14"`` → ``"Mo-Fr 10:00-19:00; Sa 10:00-14:00"``.

    ``None`` when the text is not made of day groups followed by time spans only.
    """
    spans: dict[str, list[str]] = {}
    rest = _RULE.sub("", value)
    if re.sub(r"[\s;,|/]+", "", rest) or not _RULE.search(value):
        return None
    for match in _RULE.finditer(value):
        days: list[str] = []
        for group in match["days"].split(","):
            ends = [_day(x.strip()) for x in re.split(r"\s*-\s*", group.strip())]
            a, b = _ORDER.index(ends[0]), _ORDER.index(ends[-1])
            days += list(_ORDER[a : b + 1]) if a <= b else [*_ORDER[a:], *_ORDER[: b + 1]]
        times = []
        for span in re.split(r"\s*,\s*", match["spans"]):
            (oh, om), (ch, cm) = (_clock(x.strip()) for x in span.split("-"))
            if oh > 23 or ch > 24 or om > 59 or cm > 59 or (ch, cm) <= (oh, om):
                return None
            times.append(f"{oh:02d}:{om:02d}-{ch:02d}:{cm:02d}")
        for day in days:
            spans.setdefault(day, []).extend(times)
    return days_to_osm({day: ",".join(v) for day, v in spans.items()})


def _services(functions: list) -> str:
    names = [t(f).lower() for f in functions]
    found = {service for key, service in _FUNCTIONS if any(n.endswith(key) for n in names)}
    return ";".join(sorted(found))


def _row(item: dict, assume: dict) -> tuple[dict, list[str]]:
    problems: list[str] = []
    types = [t(x).lower() for x in as_list(item.get("type"))]
    kind = "locker" if "parcel_locker" in types else "counter" if "pop" in types else ""
    if not kind and types:
        problems.append(f"type {types} is neither parcel_locker nor pop")
    status = t(item.get("status"))
    if status and status.lower() != "operating":
        problems.append(f"status {status!r}: not operating")
    raw = t(item.get("opening_hours"))
    always = flag(item.get("location_247"))
    if raw.replace(" ", "") == "24/7" or (not raw and always):
        hours = "24/7"
    elif not raw:
        hours = ""
    else:
        hours = inpost_hours(raw) or (raw if _hours.validate(raw, None) else "")
        if not hours:
            problems.append(f"opening_hours {raw!r} not understood")
    location = item.get("location") or {}
    details = item.get("address_details") or {}
    address = item.get("address") or {}
    street = t(address.get("line1")) if isinstance(address, dict) else t(address)
    street = street or join_text(details.get("street"), details.get("building_number"))
    functions = as_list(item.get("functions"))
    return {
        "point_id": t(item.get("name")),
        "name": t(item.get("name")),
        "network": assume["network"],
        "kind": kind,
        "opening_hours": hours,
        "hours_source": "carrier",
        "services": _services(functions) or assume.get("services", ""),
        "address": street,
        "postcode": t(details.get("post_code")),
        "city": t(details.get("city")),
        "country": t(item.get("country")),
        "lat": t(location.get("latitude")),
        "lon": t(location.get("longitude")),
        "carrier_type": ",".join(types),
    }, problems


def read(records: Records, assume: dict) -> CarrierTable:
    """Canonical rows of InPost points (see the module docstring)."""
    return build(records, lambda item: _row(item, assume))
