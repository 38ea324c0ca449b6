"""DPD Pickup / GeoPost PUDO list (``PUDO_ITEMS/PUDO_ITEM``, XML or JSON).

Read: ``PUDO_ID``, ``NAME``, ``ADDRESS1``–``ADDRESS3``, ``ZIPCODE``, ``CITY``, ``COUNTRY``,
``LATITUDE``/``LONGITUDE`` (decimal comma), ``OPENING_HOURS_ITEMS`` (``DAY_ID`` 1 = Monday …
7, ``START_TM``/``END_TM`` ``"HH:MM"``, several per day), ``HOLIDAY_ITEMS`` (``START_TM``/
``END_TM`` dates: closures as OSM date ranges off), ``HANDICAPES`` (→ step_free) and
``PARKING``.

Assumed: network ``dpd_pickup``; service pickup; kind counter (a ``NAME`` with
``PICKUP STATION`` or ``LOCKER`` → locker). No parcel limits are assumed.
"""

from __future__ import annotations

from ._base import (
    DAY_NUMBERS,
    CarrierTable,
    Records,
    as_list,
    build,
    closures,
    hours_from_days,
    join_text,
    with_closures,
    yes_no,
)
from ._base import text as t

NAME = "dpd"
RECORD_KEYS = ("PUDO_ITEM", "PUDO_ITEMS", "PUDO_ID")
RECORD_ID_KEYS = ("PUDO_ID",)
MARKERS = (("PUDO_ID",), ())
CONTAINERS = ("PUDO_ITEMS",)
ASSUMED = {"network": "dpd_pickup", "services": "pickup"}


def _items(value, key: str) -> list:
    if isinstance(value, dict):
        value = value.get(key, [])
    return [v for v in as_list(value) if isinstance(v, dict)]


def _row(item: dict, assume: dict) -> tuple[dict, list[str]]:
    days: dict[str, list[str]] = {}
    problems: list[str] = []
    for entry in _items(item.get("OPENING_HOURS_ITEMS"), "OPENING_HOURS_ITEM"):
        day = DAY_NUMBERS.get(t(entry.get("DAY_ID")))
        if day is None:
            problems.append(f"OPENING_HOURS_ITEM with DAY_ID {t(entry.get('DAY_ID'))!r}")
            continue
        days.setdefault(day, []).append(f"{t(entry.get('START_TM'))}-{t(entry.get('END_TM'))}")
    hours, bad_hours = hours_from_days(days, lambda day: f"OPENING_HOURS_ITEM {day}")
    periods = [
        (h.get("START_TM"), h.get("END_TM"))
        for h in _items(item.get("HOLIDAY_ITEMS"), "HOLIDAY_ITEM")
    ]
    rules, bad = closures(periods, "HOLIDAY_ITEM")
    name = t(item.get("NAME"))
    locker = any(word in name.upper() for word in ("PICKUP STATION", "LOCKER"))
    return {
        "point_id": t(item.get("PUDO_ID")),
        "name": name,
        "network": assume["network"],
        "kind": "locker" if locker else "counter",
        "opening_hours": with_closures(hours, rules),
        "hours_source": "carrier",
        "services": assume["services"],
        "max_weight_kg": assume.get("max_weight_kg"),
        "step_free": yes_no(item.get("HANDICAPES")),
        "parking": yes_no(item.get("PARKING")),
        "address": join_text(item.get("ADDRESS1"), item.get("ADDRESS2"), item.get("ADDRESS3")),
        "postcode": t(item.get("ZIPCODE")),
        "city": t(item.get("CITY")),
        "country": t(item.get("COUNTRY")),
        "lat": t(item.get("LATITUDE")),
        "lon": t(item.get("LONGITUDE")),
    }, problems + bad_hours + bad


def read(records: Records, assume: dict) -> CarrierTable:
    """Canonical rows of DPD Pickup points (see the module docstring)."""
    return build(records, lambda item: _row(item, assume))
