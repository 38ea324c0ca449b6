"""Row-level checks shared by the point and demand loaders.

Each check returns, per row, an error message or ``None``; the loader joins all the
messages of a row into its rejection reason, so one pass reports every problem.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..hours import validate as hours_validate

# Bounding boxes (lon_min, lat_min, lon_max, lat_max), WGS84 degrees, generous margins.
COUNTRY_BOXES: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "FR": (
        (-5.6, 41.2, 9.8, 51.2),  # metropolitan France and Corsica
        (-61.9, 15.8, -60.9, 16.6),  # Guadeloupe
        (-61.3, 14.3, -60.7, 15.0),  # Martinique
        (-54.7, 2.0, -51.5, 6.0),  # Guyane
        (55.1, -21.5, 55.9, -20.8),  # La Réunion
        (44.9, -13.1, 45.4, -12.5),  # Mayotte
        (-63.2, 17.8, -62.7, 18.2),  # Saint-Martin, Saint-Barthélemy
        (-56.6, 46.7, -56.0, 47.2),  # Saint-Pierre-et-Miquelon
        (163.5, -22.8, 168.2, -19.5),  # Nouvelle-Calédonie
        (-154.8, -27.7, -134.4, -7.8),  # Polynésie française
        (-178.3, -14.4, -176.1, -13.1),  # Wallis-et-Futuna
    ),
    "AD": ((1.40, 42.42, 1.79, 42.66),),
    "MC": ((7.40, 43.72, 7.44, 43.76),),
}


def in_country(lon: np.ndarray, lat: np.ndarray, country: str) -> np.ndarray:
    """True where (lon, lat) falls in one of the country's boxes."""
    try:
        boxes = COUNTRY_BOXES[country.upper()]
    except KeyError:
        raise ParameterError(
            f"no bounds known for country {country!r}; use one of {sorted(COUNTRY_BOXES)} "
            "or country=None to skip the swapped-coordinates check"
        ) from None
    inside = np.zeros(len(lon), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        inside |= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside


@lru_cache(maxsize=1)
def _whitespace() -> str:
    """Every character ``str.strip()`` removes (so that a vectorized strip gives the same text)."""
    return "".join(c for c in map(chr, range(0x110000)) if c.isspace())


def text_values(series: pd.Series) -> pd.Series:
    """Cells as stripped strings, missing as ``""``."""
    if isinstance(series.dtype, pd.StringDtype):  # e.g. pyarrow's CSV reader: vectorized
        return series.fillna("").str.strip(_whitespace()).astype("str")
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # only str: no check per cell
        return pd.Series([v.strip() for v in values], index=series.index, dtype="str")
    return series.map(lambda v: "" if v is None or v is pd.NA or _is_nan(v) else str(v).strip())


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)


def numeric(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, missing, not_a_number): float values (NaN when bad) and two masks.

    Accepts a decimal comma (``"4,83"``) as French exports use it.
    """
    text = text_values(series)
    missing = (text == "").to_numpy()
    cleaned = text.str.replace(",", ".", regex=False).str.replace(" ", "", regex=False)
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, copy=True)
    bad = ~missing & ~np.isfinite(values)
    values[bad] = np.nan
    return values, missing, bad


def check_coordinates(
    lon_text: pd.Series, lat_text: pd.Series, country: str | None
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Validate WGS84 coordinates given as raw cells; returns lon, lat and messages."""
    lon, lon_missing, lon_bad = numeric(lon_text)
    lat, lat_missing, lat_bad = numeric(lat_text)
    messages: list[str | None] = [None] * len(lon)
    outside = None
    swapped_inside = flipped_lon = flipped_lat = None
    if country:
        outside = ~in_country(lon, lat, country)
        swapped_inside = in_country(lat, lon, country)
        flipped_lon = in_country(-lon, lat, country)
        flipped_lat = in_country(lon, -lat, country)
    problem = lon_missing | lat_missing | lon_bad | lat_bad | ((lat == 0) & (lon == 0))
    problem |= ~((lat >= -90) & (lat <= 90)) | ~((lon >= -180) & (lon <= 180))
    if outside is not None:
        problem |= outside & (swapped_inside | flipped_lon | flipped_lat)
    for i in np.flatnonzero(problem).tolist():  # every other row passes each test below
        if lon_missing[i] or lat_missing[i]:
            messages[i] = "missing coordinates"
        elif lon_bad[i] or lat_bad[i]:
            raw = str(lat_text.iloc[i] if lat_bad[i] else lon_text.iloc[i]).strip()
            which, limit = ("latitude", 90) if lat_bad[i] else ("longitude", 180)
            if np.isinf(pd.to_numeric(raw.replace(",", "."), errors="coerce")):  # 1e999
                messages[i] = f"{which} {raw!r} outside [-{limit}, {limit}]"
            else:
                messages[i] = f"non-numeric {which} {raw!r}"
        elif lat[i] == 0 and lon[i] == 0:
            messages[i] = "coordinates (0, 0): a geocoding failure, not a place"
        elif not -90 <= lat[i] <= 90:
            messages[i] = f"latitude {lat[i]:g} outside [-90, 90]"
        elif not -180 <= lon[i] <= 180:
            messages[i] = f"longitude {lon[i]:g} outside [-180, 180]"
        elif outside is not None and outside[i] and swapped_inside[i]:
            messages[i] = (
                f"latitude/longitude look swapped: ({lat[i]:g}, {lon[i]:g}) is outside "
                f"{country} but inside it when swapped"
            )
        elif outside is not None and outside[i] and (flipped_lon[i] or flipped_lat[i]):
            which = "longitude" if flipped_lon[i] else "latitude"
            messages[i] = (
                f"{which} sign looks wrong: ({lat[i]:g}, {lon[i]:g}) is outside {country} "
                f"but inside it with the {which}'s sign flipped"
            )
    return lon, lat, messages


def check_geometry(geoms, country: str | None) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Validate geometries already in EPSG:4326; polygons/lines → a point on their surface."""
    import shapely

    n = len(geoms)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    messages: list[str | None] = [None] * n
    arr = np.asarray(geoms.values, dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    points = arr.copy()
    not_point = ~missing & (shapely.get_type_id(arr) != 0)
    if not_point.any():
        points[not_point] = shapely.point_on_surface(arr[not_point])
    ok = ~missing
    lon[ok] = shapely.get_x(points[ok])
    lat[ok] = shapely.get_y(points[ok])
    lon_text = pd.Series(np.where(ok, lon, np.nan)).astype(object)
    lat_text = pd.Series(np.where(ok, lat, np.nan)).astype(object)
    lon_text[~ok] = ""
    lat_text[~ok] = ""
    lon2, lat2, messages = check_coordinates(lon_text, lat_text, country)
    for i in np.flatnonzero(missing):
        messages[i] = "missing or empty geometry"
    return lon2, lat2, messages


def looks_projected(lon: np.ndarray, lat: np.ndarray) -> bool:
    """True when most finite coordinates are far outside degree ranges (metres, e.g. L93)."""
    finite = np.isfinite(lon) & np.isfinite(lat)
    if finite.sum() == 0:
        return False
    big = (np.abs(lon[finite]) > 360) | (np.abs(lat[finite]) > 180)
    return big.mean() > 0.5


@lru_cache(maxsize=65536)
def hours_error(text: str) -> str | None:
    """Parser message when ``text`` is not OSM ``opening_hours`` relaynet can read, else None.

    Readable means :func:`relaynet.hours.validate` accepts it — which includes strings whose
    only fault is past dated ``off`` rules (``"Mo-Fr 09:00-12:00; PH off; 2022 Mar 11,25
    off"``; kept unchanged, they cannot change any answer from today on) — or the grammar
    does: a comment-only string (``'"on appointment"'``) is valid syntax, accepted, and read
    as unknown hours by :mod:`relaynet.hours`.
    """
    import opening_hours

    if hours_validate(text):
        return None
    try:
        opening_hours.OpeningHours(text)
    except (SyntaxError, ValueError, opening_hours.ParserError) as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = " ".join(lines[-1:]).lstrip("= ").strip() or "syntax error"
        return f"unparseable opening_hours {text!r}: {detail}"
    return None


def positive(series: pd.Series, column: str) -> tuple[np.ndarray, list[str | None]]:
    """Optional positive numbers: missing stays NaN, others must be finite and > 0."""
    values, missing, bad = numeric(series)
    messages: list[str | None] = [None] * len(values)
    text = text_values(series)
    for i in np.flatnonzero(~missing):
        if bad[i] or not values[i] > 0:
            messages[i] = f"{column} must be a positive number, got {text.iloc[i]!r}"
            values[i] = np.nan
    return values, messages


_TRUE = {"1", "true", "yes", "oui", "y", "o", "vrai", "t"}
_FALSE = {"0", "false", "no", "non", "n", "faux", "f"}


def booleans(series: pd.Series, column: str) -> tuple[pd.Series, list[str | None]]:
    """Optional booleans from yes/no/true/false/1/0 (and French oui/non)."""
    text = text_values(series).str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    messages: list[str | None] = [None] * len(text)
    for i, value in enumerate(text):
        if value == "" or value == "nan":
            continue
        if value in _TRUE or value == "limited" and column == "step_free":
            out.iloc[i] = True
        elif value in _FALSE:
            out.iloc[i] = False
        else:
            messages[i] = f"{column} must be yes/no, got {value!r}"
    return out, messages
