"""The one spatial kernel: the sphere, coordinates and weights of a GeoDataFrame.

Every great-circle distance in relaynet (nearest points, radius queries, road-network
snapping, the optimizer's coverage, gap clustering) uses this module's sphere of radius
:data:`EARTH_RADIUS_M`, and every table of places or points is read here:

- :func:`latlon` — degrees of a GeoDataFrame's **Point** geometries, converted to
  EPSG:4326 from any CRS that is set. Policy for other geometries: they are **rejected**
  with an :class:`~relaynet.errors.InputError` naming the rows and geometry types, never
  silently reduced to a point (a commune polygon's "centre" is a modelling choice: call
  :func:`representative_points` — or load the file with :func:`relaynet.load_demand`,
  which does it and keeps the area — and say so). A missing CRS, empty geometries and
  coordinates out of range are rejected the same way.
- :func:`weights` — the ``weight`` column (1 each when absent): finite and ≥ 0, else an
  :class:`~relaynet.errors.InputError`.

Points become 3-D unit vectors (:func:`unit_vectors`), so that Euclidean chord order is
great-circle order and a Euclidean k-d tree answers radius and nearest queries exactly;
:func:`chord_to_metres` / :func:`metres_to_chord` convert.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError
from .io.schema import CRS

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius in metres (IUGG), used for every great-circle distance."""


def unit_vectors(lat, lon) -> np.ndarray:
    """Latitudes/longitudes in degrees → unit vectors on the sphere, shape (n, 3)."""
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)])


def earth_xyz(lat, lon) -> np.ndarray:
    """Earth-centred coordinates in metres on the sphere of radius :data:`EARTH_RADIUS_M`."""
    return EARTH_RADIUS_M * unit_vectors(lat, lon)


def chord_to_metres(chord) -> np.ndarray:
    """Chord length on the *unit* sphere → great-circle distance in metres."""
    chord = np.asarray(chord, dtype=float)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def metres_to_chord(distance_m) -> np.ndarray | float:
    """Great-circle distance in metres → chord length on the unit sphere (scalar or array)."""
    angle = np.minimum(np.asarray(distance_m, dtype=float) / EARTH_RADIUS_M, np.pi)
    chord = 2.0 * np.sin(angle / 2.0)
    return float(chord) if np.ndim(chord) == 0 else chord


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres between points given in degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def check_latlon(lat: np.ndarray, lon: np.ndarray, what: str) -> None:
    """Raise :class:`InputError` naming the rows where a coordinate is missing or out of range."""
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            f"{what}: latitude/longitude missing or out of range on rows {rows}"
            " (expected degrees, lat in [-90, 90], lon in [-180, 180])"
        )


def _geometry_4326(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> gpd.GeoSeries:
    if not isinstance(frame, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise InputError(
            f"{what}: GeoDataFrame has no CRS (expected EPSG:4326, or a projected CRS to "
            "convert from; set it with .set_crs())"
        )
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if not geometry.crs.equals(CRS):
        geometry = geometry.to_crs(CRS)
    missing = (geometry.isna() | geometry.is_empty).to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise InputError(f"{what}: empty or missing geometry on rows {rows}")
    return geometry


def latlon(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees, EPSG:4326) of every Point geometry of ``frame``.

    Parameters
    ----------
    frame
        GeoDataFrame or GeoSeries with a CRS (converted to EPSG:4326 when it differs).
    what
        Name used in error messages (``"demand"``, ``"points"`` …).

    Raises
    ------
    InputError
        No CRS, an empty or missing geometry, a geometry that is not a Point (polygons are
        *not* reduced silently: see :func:`representative_points`), or a coordinate out of
        range — naming up to five rows.
    """
    geometry = _geometry_4326(frame, what)
    types = geometry.geom_type.to_numpy(object)
    not_point = types != "Point"
    if not_point.any():
        rows = np.flatnonzero(not_point)[:5].tolist()
        kinds = sorted(set(types[not_point]))
        raise InputError(
            f"{what}: expected Point geometries, found {kinds} on rows {rows}; reduce them "
            "explicitly, e.g. relaynet.geo.representative_points(frame)"
        )
    lat, lon = geometry.y.to_numpy(float), geometry.x.to_numpy(float)
    check_latlon(lat, lon, what)
    return lat, lon


def representative_points(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str = "geometry"):
    """``frame`` with every non-Point geometry replaced by a point on its surface.

    Points are kept as they are; polygons and lines get shapely's
    ``representative_point`` (always inside the shape, unlike the centroid of a crescent).
    Returns the same type as given, in its own CRS. Use it to state the choice explicitly
    before :func:`latlon` (which rejects non-points).
    """
    if not isinstance(frame, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if not len(geometry) or (geometry.geom_type == "Point").all():
        return frame
    points = geometry.where(geometry.geom_type == "Point", geometry.representative_point())
    if isinstance(frame, gpd.GeoSeries):
        return points
    return frame.set_geometry(points.to_numpy(), crs=frame.crs)


def weights(frame: pd.DataFrame, what: str = "demand") -> np.ndarray:
    """The ``weight`` column as float (people, households or orders); 1 each when absent.

    Raises
    ------
    InputError
        A weight missing, negative or not a number, naming up to five ``demand_id`` values
        (row positions when there is no ``demand_id`` column).
    """
    if "weight" not in frame.columns:
        return np.ones(len(frame))
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(weight) & (weight >= 0))
    if bad.any():
        if "demand_id" in frame.columns:
            where = f"demand_id {frame['demand_id'].astype(str).to_numpy()[bad][:5].tolist()}"
        else:
            where = f"rows {np.flatnonzero(bad)[:5].tolist()}"
        raise InputError(
            f"{what}: weight missing, negative or not a number for {where} "
            "(expected people/orders ≥ 0)"
        )
    return weight


__all__ = [
    "EARTH_RADIUS_M",
    "check_latlon",
    "chord_to_metres",
    "earth_xyz",
    "haversine_m",
    "latlon",
    "metres_to_chord",
    "representative_points",
    "unit_vectors",
    "weights",
]
