"""Chronopost / Pickup relay search (``recherchePointChronopost``: ``listePointRelais[]``,
SOAP/XML or JSON).

Read: ``identifiant``, ``nom``, ``adresse1``–``adresse3``, ``codePostal``, ``localite``,
``codePays``, ``coordGeolocalisationLatitude``/``Longitude``, ``actif`` (inactive points are
rejected), ``listeHoraireOuverture[]`` (``jour`` 1 = Monday … 7, ``horairesAsString``
``"09:00-12:00 14:00-19:00"`` or ``listeHoraireOuverture[]`` of ``debut``/``fin``),
``listePeriodeFermeture[]`` (``calendarDeDebut``/``calendarDeFin`` → OSM date ranges off),
``poidsMaxi`` (grams → kg), ``typeDePoint`` (codes shared with Colissimo; others → counter)
and ``accesPersonneMobiliteReduite``.

Assumed: network ``chronopost``; service pickup only (the search does not say more).
"""

from __future__ import annotations

from ._base import (
    DAY_NUMBERS,
    CarrierTable,
    Records,
    as_list,
    build,
    closures,
    flag,
    grams_to_kg,
    hours_from_days,
    with_closures,
    yes_no,
)
from ._base import text as t
from .colissimo import POINT_TYPES, place_fields

NAME = "chronopost"
RECORD_KEYS = ("listePointRelais", "identifiant")
RECORD_ID_KEYS = ("identifiant",)
MARKERS = (
    ("coordGeolocalisationLatitude",),
    ("listePointRelais", "listeHoraireOuverture", "listePeriodeFermeture", "horairesAsString"),
)
CONTAINERS = ("listePointRelais",)
ASSUMED = {"network": "chronopost", "services": "pickup"}


def _day_cell(entry: dict):
    spans = [
        f"{t(s.get('debut'))}-{t(s.get('fin'))}"
        for s in as_list(entry.get("listeHoraireOuverture"))
        if isinstance(s, dict)
    ]
    return " ".join(spans) if spans else t(entry.get("horairesAsString"))


def _row(item: dict, assume: dict) -> tuple[dict, list[str]]:
    days: dict[str, object] = {}
    problems: list[str] = []
    for entry in as_list(item.get("listeHoraireOuverture")):
        day = DAY_NUMBERS.get(t(entry.get("jour"))) if isinstance(entry, dict) else None
        if day is None:
            problems.append(f"listeHoraireOuverture: entry without a jour 1-7 ({entry!r:.60})")
            continue
        days[day] = _day_cell(entry)
    hours, bad_hours = hours_from_days(days, lambda day: f"listeHoraireOuverture jour {day}")
    periods = [
        (c.get("calendarDeDebut"), c.get("calendarDeFin"))
        for c in as_list(item.get("listePeriodeFermeture"))
        if isinstance(c, dict)
    ]
    rules, bad = closures(periods, "listePeriodeFermeture")
    weight, weight_problem = grams_to_kg(item.get("poidsMaxi"))
    code = t(item.get("typeDePoint"))
    if flag(item.get("actif")) is False:
        problems.append("actif=false: point not active")
    problems += [*bad_hours, *bad, *([weight_problem] if weight_problem else [])]
    return {
        "point_id": t(item.get("identifiant")),
        "name": t(item.get("nom")),
        "network": assume["network"],
        "kind": POINT_TYPES.get(code.upper(), "counter"),
        "opening_hours": with_closures(hours, rules),
        "hours_source": "carrier",
        "services": assume["services"],
        "max_weight_kg": weight if weight is not None else assume.get("max_weight_kg"),
        "step_free": yes_no(item.get("accesPersonneMobiliteReduite")),
        **place_fields(item),
        "carrier_type": code,
    }, problems


def read(records: Records, assume: dict) -> CarrierTable:
    """Canonical rows of Chronopost relay points (see the module docstring)."""
    return build(records, lambda item: _row(item, assume))
