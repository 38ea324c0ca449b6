"""Colissimo / La Poste pick-up point search (``findRDVPointRetraitAcheminement``:
``listePointRetraitAcheminement[]``, SOAP/XML or JSON, or a table with the same fields).

Read: ``identifiant``, ``nom``, ``adresse1``–``adresse3``, ``codePostal``, ``localite``,
``codePays``, ``coordGeolocalisationLatitude``/``Longitude``, ``horairesOuvertureLundi`` …
``Dimanche`` (``"HH:MM-HH:MM HH:MM-HH:MM"``, ``00:00-00:00`` = closed), ``poidsMaxi``
(grams → kg), ``typeDePoint`` (``A2P``/``CMT`` → counter, ``BPR``/``BDP`` → post office,
``PCS`` → locker), ``accesPersonneMobiliteReduite`` (→ step_free), ``parking`` and
``listeConges`` (``calendarDeDebut``/``calendarDeFin``: closures as OSM date ranges off).

Assumed: network ``colissimo``; services pickup and returns, plus dropoff at post offices.
"""

from __future__ import annotations

from ._base import (
    CarrierTable,
    Records,
    as_list,
    build,
    closures,
    grams_to_kg,
    hours_from_days,
    join_text,
    with_closures,
    yes_no,
)
from ._base import text as t

NAME = "colissimo"
RECORD_KEYS = ("listePointRetraitAcheminement", "pointRetraitAcheminement", "identifiant")
RECORD_ID_KEYS = ("identifiant",)
MARKERS = (
    ("coordGeolocalisationLatitude",),
    ("horairesOuvertureLundi", "listePointRetraitAcheminement", "pointRetraitAcheminement"),
)
CONTAINERS = ("listePointRetraitAcheminement",)
ASSUMED = {"network": "colissimo"}

POINT_TYPES = {
    "A2P": "counter",  # relais Pickup (shop)
    "CMT": "counter",  # relais commerçant
    "BPR": "post_office",  # bureau de poste
    "BDP": "post_office",  # bureau de poste (Belgique)
    "PCS": "locker",  # consigne Pickup Station
}
"""``typeDePoint`` codes → kind (shared with Chronopost, same group's point network)."""

_DAYS = {
    "Mo": "horairesOuvertureLundi",
    "Tu": "horairesOuvertureMardi",
    "We": "horairesOuvertureMercredi",
    "Th": "horairesOuvertureJeudi",
    "Fr": "horairesOuvertureVendredi",
    "Sa": "horairesOuvertureSamedi",
    "Su": "horairesOuvertureDimanche",
}


def point_kind(code: str) -> tuple[str, str | None]:
    """``typeDePoint`` → kind, and a problem when the code is unknown."""
    if not code:
        return "", None
    kind = POINT_TYPES.get(code.upper())
    return kind or "", None if kind else f"unknown typeDePoint {code!r}"


def default_services(kind: str) -> str:
    return "dropoff;pickup;returns" if kind == "post_office" else "pickup;returns"


def _row(item: dict, assume: dict) -> tuple[dict, list[str]]:
    hours, problems = hours_from_days(
        {day: item.get(column) for day, column in _DAYS.items()}, lambda day: _DAYS[day]
    )
    periods = [
        (c.get("calendarDeDebut"), c.get("calendarDeFin"))
        for c in as_list(item.get("listeConges"))
        if isinstance(c, dict)
    ]
    rules, bad = closures(periods, "listeConges")
    weight, weight_problem = grams_to_kg(item.get("poidsMaxi"))
    code = t(item.get("typeDePoint"))
    kind, kind_problem = point_kind(code)
    problems += [p for p in (*bad, weight_problem, kind_problem) if p]
    return {
        "point_id": t(item.get("identifiant")),
        "name": t(item.get("nom")),
        "network": assume["network"],
        "kind": kind,
        "opening_hours": with_closures(hours, rules),
        "hours_source": "carrier",
        "services": assume.get("services", default_services(kind)),
        "max_weight_kg": weight if weight is not None else assume.get("max_weight_kg"),
        "step_free": yes_no(item.get("accesPersonneMobiliteReduite")),
        "parking": yes_no(item.get("parking")),
        **place_fields(item),
        "carrier_type": code,
    }, problems


def place_fields(item: dict) -> dict:
    """Address and coordinates as La Poste group searches (Colissimo, Chronopost) name them:
    ``adresse1``–``3``, ``codePostal``, ``localite``, ``codePays``,
    ``coordGeolocalisationLatitude``/``Longitude`` (decimal degrees, text)."""
    return {
        "address": join_text(item.get("adresse1"), item.get("adresse2"), item.get("adresse3")),
        "postcode": t(item.get("codePostal")),
        "city": t(item.get("localite")),
        "country": t(item.get("codePays")),
        "lat": t(item.get("coordGeolocalisationLatitude")),
        "lon": t(item.get("coordGeolocalisationLongitude")),
    }


def read(records: Records, assume: dict) -> CarrierTable:
    """Canonical rows of Colissimo points (see the module docstring)."""
    return build(records, lambda item: _row(item, assume))
