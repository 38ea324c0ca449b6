"""Column-name mapping: input spellings → canonical names of :mod:`relaynet.io.schema`."""

from __future__ import annotations

from .schema import normalize_token

POINT_ALIASES: dict[str, tuple[str, ...]] = {
    "point_id": (
        "point_id",
        "id",
        "identifiant",
        "identifiant_du_site",
        "site_id",
        "code",
        "num",
        "numero",
        "ref",
        "osm_id",
    ),
    "name": ("name", "nom", "libelle", "libelle_du_site", "label", "enseigne", "lib"),
    "network": (
        "network",
        "reseau",
        "carrier",
        "transporteur",
        "operator",
        "operateur",
        "brand",
        "marque",
    ),
    "kind": (
        "kind",
        "type",
        "caracteristique_du_site",
        "category",
        "categorie",
        "point_type",
        "type_point",
    ),
    "opening_hours": ("opening_hours", "horaires", "hours", "horaires_osm"),
    "hours_source": ("hours_source", "source_horaires"),
    "services": ("services", "service", "prestations"),
    "max_weight_kg": (
        "max_weight_kg",
        "poids_max",
        "poids_max_kg",
        "max_weight",
        "weight_limit_kg",
    ),
    "max_length_cm": (
        "max_length_cm",
        "longueur_max",
        "longueur_max_cm",
        "max_length",
        "size_limit_cm",
    ),
    "capacity": ("capacity", "capacite"),
    "rating": ("rating", "note", "stars"),
    "parking": ("parking",),
    "step_free": ("step_free", "wheelchair", "accessible", "accessibilite_pmr", "pmr"),
    "address": ("address", "adresse", "adresse_1", "street", "rue"),
    "postcode": ("postcode", "code_postal", "cp", "zip", "zipcode", "postal_code"),
    "city": ("city", "localite", "ville", "commune", "nom_commune", "town"),
    "country": ("country", "pays"),
}

DEMAND_ALIASES: dict[str, tuple[str, ...]] = {
    "demand_id": (
        "demand_id",
        "id",
        "code_insee",
        "insee",
        "codgeo",
        "code_commune_insee",
        "code_commune",
        "insee_code",
        "code",
    ),
    "name": ("name", "nom", "libgeo", "nom_commune", "libelle", "label"),
    "weight": (
        "weight",
        "population",
        "population_municipale",
        "pop",
        "pmun",
        "pmun21",
        "habitants",
        "households",
        "menages",
        "orders",
        "commandes",
    ),
    "area_id": (
        "area_id",
        "dep_code",
        "code_departement",
        "departement",
        "dep",
        "code_dep",
        "area",
    ),
    "area_name": ("area_name", "dep_nom", "nom_departement", "departement_nom"),
    "density_class": ("density_class", "densite", "dens", "classe_densite"),
}

COST_ALIASES: dict[str, tuple[str, ...]] = {
    "demand_id": ("demand_id",),
    "point_id": ("point_id",),
    "cost": ("cost",),
}
"""Columns of a travel-cost table (:func:`relaynet.costs.read_costs`): the names only,
whatever their case or separators (``"Demand ID"``); ids such as ``id`` or ``code`` would
be ambiguous between the two."""

LAT_ALIASES = ("lat", "latitude", "y_wgs84", "lat_wgs84")
LON_ALIASES = ("lon", "lng", "long", "longitude", "x_wgs84", "lon_wgs84")
X_ALIASES = ("x", "coord_x", "coordonnee_x", "easting", "x_l93")
Y_ALIASES = ("y", "coord_y", "coordonnee_y", "northing", "y_l93")
LATLON_ALIASES = ("latlong", "latlon", "coordonnees_gps", "coordinates", "gps")


def map_columns(
    columns: list[str], aliases: dict[str, tuple[str, ...]], explicit: dict[str, str] | None
) -> dict[str, str]:
    """Return ``{input column: canonical or normalized name}`` for every input column.

    ``explicit`` maps input names (exact) to canonical names and wins over aliases. Each
    canonical name is taken by the first matching input column in alias order; other
    columns keep their normalized spelling (``"Précision du géocodage"`` →
    ``"precision_du_geocodage"``), numbered when two normalize alike (``"Note!"`` and
    ``"note?"`` → ``"note"``, ``"note_2"``). Time is linear in the number of columns.
    """
    explicit = dict(explicit or {})
    result: dict[str, str] = {}
    taken = set(explicit.values())
    for column in columns:
        if column in explicit:
            result[column] = explicit[column]
    by_name: dict[str, list[str]] = {}
    for column in columns:
        if column not in result:
            by_name.setdefault(normalize_token(column), []).append(column)
    for canonical, names in aliases.items():
        if canonical in taken:
            continue
        match = next((by_name[n][0] for n in names if by_name.get(n)), None)
        if match is not None:
            result[match] = canonical
            taken.add(canonical)
            by_name[normalize_token(match)].pop(0)
    used = set(result.values())
    suffixes: dict[str, int] = {}
    for column in columns:
        if column in result:
            continue
        base = normalize_token(column) or "column"
        name, k = base, suffixes.get(base, 1)
        while name in used:
            k += 1
            name = f"{base}_{k}"
        suffixes[base] = k
        result[column] = name
        used.add(name)
    return result


def find_column(mapped: dict[str, str], names: tuple[str, ...]) -> str | None:
    """The mapped (normalized) column name equal to the first of ``names`` present."""
    values = set(mapped.values())
    return next((n for n in names if n in values), None)
