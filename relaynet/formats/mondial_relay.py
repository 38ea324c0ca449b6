"""Mondial Relay point search (``WSI4_PointRelais_Recherche``: SOAP/XML, its JSON
equivalents, or a table export with the same field names).

Read: ``Num`` (id), ``LgAdr1`` (name), ``LgAdr2`` (name, continued), ``LgAdr3``/``LgAdr4``
(street), ``CP``, ``Ville``, ``Pays``, ``Latitude``/``Longitude`` (decimal comma or point,
with sign, e.g. ``"50,6135746"``), ``TypeActivite``, ``Horaires_Lundi`` … ``Horaires_Dimanche``
(four ``HHMM`` values: two opening spans, ``"0000"`` = closed) and ``Informations_Dispo``
(``Periode`` ``Debut``/``Fin``: holiday closures, written as OSM date ranges ``off``).

Assumed: network ``mondial_relay``; services pickup, dropoff and returns; ``kind`` locker
when the name or activity says ``LOCKER``, else counter; 30 kg for counters (Mondial
Relay's published limit), no limit stated for lockers.
"""

from __future__ import annotations

import re

from ._base import (
    CarrierTable,
    Records,
    as_list,
    build,
    closures,
    hours_from_days,
    join_text,
    with_closures,
)
from ._base import text as t

NAME = "mondial_relay"
RECORD_KEYS = ("PointRelais_Details", "PointsRelais", "Num")
RECORD_ID_KEYS = ("Num",)
MARKERS = (("Num", "LgAdr1"), ())
CONTAINERS = ("PointsRelais", "WSI4_PointRelais_RechercheResponse")
ASSUMED = {"network": "mondial_relay", "services": "pickup;dropoff;returns"}
COUNTER_MAX_WEIGHT_KG = 30.0

_DAYS = {
    "Mo": "Horaires_Lundi",
    "Tu": "Horaires_Mardi",
    "We": "Horaires_Mercredi",
    "Th": "Horaires_Jeudi",
    "Fr": "Horaires_Vendredi",
    "Sa": "Horaires_Samedi",
    "Su": "Horaires_Dimanche",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}")


def _hours_cell(value):
    """``{"string": [...]}`` (SOAP arrays), a list, or text."""
    if isinstance(value, dict):
        return as_list(value.get("string"))
    return value


def _periods(value) -> list[tuple[object, object]]:
    if isinstance(value, str):  # a table cell: "2026-08-01 2026-08-15; …"
        dates = _DATE.findall(value)
        return list(zip(dates[::2], dates[1::2]))
    periods = []
    for entry in as_list(value):
        if isinstance(entry, dict) and "Periode" in entry:
            periods += [(p.get("Debut"), p.get("Fin")) for p in as_list(entry["Periode"])]
        elif isinstance(entry, dict):
            periods.append((entry.get("Debut"), entry.get("Fin")))
    return periods


def _row(item: dict, assume: dict) -> tuple[dict, list[str]]:
    days = {day: _hours_cell(item.get(column)) for day, column in _DAYS.items()}
    hours, problems = hours_from_days(days, lambda day: _DAYS[day])
    rules, bad = closures(_periods(item.get("Informations_Dispo")), "Informations_Dispo")
    name = join_text(item.get("LgAdr1"), item.get("LgAdr2"))
    activity = t(item.get("TypeActivite"))
    locker = "LOCKER" in name.upper() or "LOCKER" in activity.upper()
    weight = assume.get("max_weight_kg", None if locker else COUNTER_MAX_WEIGHT_KG)
    return {
        "point_id": t(item.get("Num")),
        "name": name,
        "network": assume["network"],
        "kind": "locker" if locker else "counter",
        "opening_hours": with_closures(hours, rules),
        "hours_source": "carrier",
        "services": assume["services"],
        "max_weight_kg": weight,
        "address": join_text(item.get("LgAdr3"), item.get("LgAdr4")),
        "postcode": t(item.get("CP")),
        "city": t(item.get("Ville")),
        "country": t(item.get("Pays")),
        "lat": t(item.get("Latitude")),
        "lon": t(item.get("Longitude")),
        "carrier_type": activity,
    }, problems + bad


def read(records: Records, assume: dict) -> CarrierTable:
    """Canonical rows of Mondial Relay records (see the module docstring)."""
    return build(records, lambda item: _row(item, assume))
