"""Resolve a French commune name, postcode or INSEE code to a point, offline.

Uses the bundled communes table (``data/communes_demand.parquet``: INSEE code, name,
département, ``postcodes`` and town-hall point) plus the 45 municipal arrondissements of
Paris, Lyon and Marseille, so that ``"Lyon 3e"`` or ``"75015"`` resolve like they do on a
carrier's locator. Unknown or ambiguous queries raise :class:`~relaynet.errors.ParameterError`
listing close matches.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd

from . import datasets
from .errors import ParameterError
from .io.schema import CRS

# Municipal arrondissements (INSEE code, postcodes, lat, lon): one GPS point per district
# from La Poste's official postcode base (2020). Source : La Poste — base officielle des
# codes postaux, data.gouv.fr.
_ARRONDISSEMENTS = (
    ("13201", "13001", 43.2999, 5.38228),
    ("13202", "13002", 43.3127, 5.36365),
    ("13203", "13003", 43.31212, 5.38011),
    ("13204", "13004", 43.30673, 5.40087),
    ("13205", "13005", 43.29281, 5.39758),
    ("13206", "13006", 43.2871, 5.38105),
    ("13207", "13007", 43.28252, 5.36323),
    ("13208", "13008", 43.24173, 5.37464),
    ("13209", "13009", 43.23408, 5.4525),
    ("13210", "13010", 43.27552, 5.42681),
    ("13211", "13011", 43.28845, 5.48381),
    ("13212", "13012", 43.30777, 5.43992),
    ("13213", "13013", 43.34928, 5.43372),
    ("13214", "13014", 43.3455, 5.39409),
    ("13215", "13015", 43.35879, 5.36341),
    ("13216", "13016", 43.36491, 5.31338),
    ("69381", "69001", 45.76993, 4.82922),
    ("69382", "69002", 45.74926, 4.82617),
    ("69383", "69003", 45.75336, 4.86919),
    ("69384", "69004", 45.77869, 4.82396),
    ("69385", "69005", 45.75583, 4.80225),
    ("69386", "69006", 45.77285, 4.85208),
    ("69387", "69007", 45.73341, 4.83758),
    ("69388", "69008", 45.7342, 4.86936),
    ("69389", "69009", 45.78178, 4.80818),
    ("75101", "75001", 48.86263, 2.33629),
    ("75102", "75002", 48.8679, 2.34411),
    ("75103", "75003", 48.86305, 2.35936),
    ("75104", "75004", 48.85423, 2.35736),
    ("75105", "75005", 48.84451, 2.34986),
    ("75106", "75006", 48.84897, 2.33267),
    ("75107", "75007", 48.85608, 2.31244),
    ("75108", "75008", 48.87253, 2.31258),
    ("75109", "75009", 48.8769, 2.33746),
    ("75110", "75010", 48.87603, 2.36111),
    ("75111", "75011", 48.85942, 2.37874),
    ("75112", "75012", 48.83516, 2.41981),
    ("75113", "75013", 48.82872, 2.36247),
    ("75114", "75014", 48.82899, 2.3271),
    ("75115", "75015", 48.84016, 2.29356),
    ("75116", "75016;75116", 48.8604, 2.2621),
    ("75117", "75017", 48.88734, 2.30749),
    ("75118", "75018", 48.89274, 2.34871),
    ("75119", "75019", 48.88687, 2.38469),
    ("75120", "75020", 48.86319, 2.40082),
)
_CITY = {
    "751": ("Paris", "75", "Paris"),
    "693": ("Lyon", "69", "Rhône"),
    "132": ("Marseille", "13", "Bouches-du-Rhône"),
}
_ARR_QUERY = re.compile(
    r"^(paris|lyon|marseille) (\d{1,2}) ?(?:e|er|eme|ieme|em)?(?: arrondissement)?$"
)
_DEPT = re.compile(r"^(?P<name>.*?)[\s,]*\(?\s*(?P<dept>\d{2}|2[ab]|97\d)\s*\)?$")
_POSTCODE = re.compile(r"\b(\d{5})\b")


def normalize_name(text: str) -> str:
    """Lower-case ASCII, punctuation to spaces, ``st``/``ste`` spelled out:
    ``"St-Étienne"`` → ``"saint etienne"``."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", text))
    return text


def _arrondissement_rows() -> pd.DataFrame:
    rows = []
    for code, postcodes, lat, lon in _ARRONDISSEMENTS:
        city, dept, dept_name = _CITY[code[:3]]
        number = int(code[3:]) % 80  # Lyon districts are 69381…69389
        suffix = "er" if number == 1 else "e"
        rows.append(
            {
                "demand_id": code,
                "name": f"{city} {number}{suffix} Arrondissement",
                "area_id": dept,
                "area_name": dept_name,
                "postcodes": postcodes,
                "lat": lat,
                "lon": lon,
            }
        )
    return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def communes() -> pd.DataFrame:
    """The place table: ``demand_id`` (INSEE code), ``name``, ``area_id``, ``area_name``,
    ``postcodes`` (``";"``-joined), ``lat``, ``lon`` and ``key`` (normalized name).

    Built once from the bundled communes and kept in the on-disk cache
    (:mod:`relaynet.cache`), keyed by the bundled file's content and relaynet's version.
    """
    from . import cache

    source = datasets.path("communes_demand.parquet")
    key = cache.content_key([source], "places.communes")
    frame = cache.read_frame(key, geo=False)
    if frame is not None and list(frame.columns) == list(_TABLE_COLUMNS):
        return frame
    frame = _build_communes(source)
    cache.write_frame(key, frame)
    return frame


_TABLE_COLUMNS = ("demand_id", "name", "area_id", "area_name", "postcodes", "lat", "lon", "key")


def _build_communes(source) -> pd.DataFrame:
    table = gpd.read_parquet(source)
    frame = pd.DataFrame(
        {
            "demand_id": table["demand_id"].astype(str).to_numpy(),
            "name": table["name"].astype(str).to_numpy(),
            "area_id": table["area_id"].astype(str).to_numpy(),
            "area_name": table["area_name"].astype(str).to_numpy(),
            "postcodes": (
                table["postcodes"]
                .astype(object)
                .where(table["postcodes"].notna(), "")
                .astype(str)
                .to_numpy()
                if "postcodes" in table.columns
                else ""
            ),
            "lat": table.geometry.y.to_numpy(),
            "lon": table.geometry.x.to_numpy(),
        }
    )
    frame = pd.concat([frame, _arrondissement_rows()], ignore_index=True)
    frame["key"] = [normalize_name(n) for n in frame["name"]]
    return frame


def _label(row) -> str:
    postcode = str(row.postcodes).split(";")[0] if row.postcodes else ""
    return f"{row.name} ({row.area_id}{', ' + postcode if postcode else ''}; INSEE {row.demand_id})"


def _one(found: pd.DataFrame, query: str, hint: str) -> gpd.GeoDataFrame:
    if len(found) == 1:
        row = found.iloc[[0]]
        return gpd.GeoDataFrame(
            row[["demand_id", "name", "area_id", "area_name"]].reset_index(drop=True),
            geometry=gpd.points_from_xy(row["lon"], row["lat"]),
            crs=CRS,
        )
    labels = [_label(r) for r in found.head(12).itertuples()]
    more = f" and {len(found) - 12} more" if len(found) > 12 else ""
    raise ParameterError(
        f"place {query!r} is ambiguous: {len(found)} communes match "
        f"({'; '.join(labels)}{more}); {hint}"
    )


def resolve_place(query: str) -> gpd.GeoDataFrame:
    """One place from a commune name, postcode or INSEE code (French communes, offline).

    Accepted: ``"Lyon 3e"``, ``"Saint-Denis 93"`` / ``"Saint-Denis (93)"`` (département
    code), ``"93200 Saint-Denis"`` (postcode + name), ``"69003"`` (postcode), ``"69383"``
    (INSEE code). Accents, case, hyphens and ``St``/``Ste`` do not matter.

    Returns
    -------
    GeoDataFrame
        One row: ``demand_id`` (INSEE code), ``name``, ``area_id``, ``area_name`` and the
        town-hall (or district) point, EPSG:4326.

    Raises
    ------
    ParameterError
        Unknown place (with close matches) or ambiguous place (listing the candidates).
    """
    if not isinstance(query, str) or not query.strip():
        raise ParameterError(f"place {query!r}: expected a commune name or postcode")
    table = communes()
    text = query.strip()
    key = normalize_name(text)
    code = text.upper()
    if re.fullmatch(r"\d{5}|2[AB]\d{3}", code):
        by_postcode = table[(";" + table["postcodes"] + ";").str.contains(f";{code};", regex=False)]
        if len(by_postcode):
            return _one(
                by_postcode,
                query,
                f"give the commune name too, e.g. '{code} {by_postcode['name'].iloc[0]}'",
            )
        by_code = table[table["demand_id"] == code]
        if len(by_code):
            return _one(by_code, query, "")
        raise ParameterError(f"place {query!r}: no commune has this postcode or INSEE code")
    arr = _ARR_QUERY.match(key)
    if arr:
        number = int(arr[2])
        prefix = {"paris": 75100, "lyon": 69380, "marseille": 13200}[arr[1]]
        found = table[table["demand_id"] == str(prefix + number)] if 0 < number < 21 else []
        if len(found):
            return _one(found, query, "")
    candidates = table
    postcode = _POSTCODE.search(text)
    if postcode:
        candidates = candidates[
            (";" + candidates["postcodes"] + ";").str.contains(f";{postcode[1]};", regex=False)
        ]
        key = normalize_name(_POSTCODE.sub(" ", text))
    else:
        dept = _DEPT.match(key)
        if dept and dept["name"] and normalize_name(dept["name"]) in set(table["key"]):
            candidates = candidates[candidates["area_id"].str.lower() == dept["dept"]]
            key = normalize_name(dept["name"])
    found = candidates[candidates["key"] == key]
    if len(found) == 0 and key in ("paris", "lyon", "marseille"):
        found = table[table["key"] == key]
    if len(found) == 0 and len(candidates) < len(table) and len(candidates):
        found = candidates if key == "" else candidates[candidates["key"].str.startswith(key)]
    if len(found):
        return _one(
            found,
            query,
            "add the département code (e.g. "
            f"'{found['name'].iloc[0]} {found['area_id'].iloc[-1]}') or a postcode",
        )
    keys = table["key"].to_numpy()
    close = difflib.get_close_matches(key, list(dict.fromkeys(keys)), n=6, cutoff=0.75)
    if not close:
        close = list(dict.fromkeys(k for k in keys if k.startswith(key)))[:6] if key else []
    names = [_label(r) for r in table[np.isin(keys, close)].head(8).itertuples()]
    suggestion = f"; close matches: {'; '.join(names)}" if names else ""
    raise ParameterError(f"place {query!r}: unknown French commune{suggestion}")


__all__ = ["communes", "normalize_name", "resolve_place"]
