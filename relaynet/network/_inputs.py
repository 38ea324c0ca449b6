"""Input coercion and spherical geometry shared by the road-network queries."""

from __future__ import annotations

from typing import Any, Protocol

import geopandas as gpd
import numpy as np

from ..errors import InputError, ParameterError
from ..schema import CRS, EARTH_RADIUS_M

POINT_INFO = ("name", "network", "kind")
"""Point columns copied into the access table."""


class Where(Protocol):
    def mask(self, points: Any) -> np.ndarray: ...


def xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Earth-centred coordinates in metres on the sphere of radius EARTH_RADIUS_M."""
    la, lo = np.radians(lat), np.radians(lon)
    c = np.cos(la)
    return EARTH_RADIUS_M * np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


def chord_to_arc(chord_m: np.ndarray) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord_m / (2.0 * EARTH_RADIUS_M), 0.0, 1.0))


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def latlon_of(frame: gpd.GeoDataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
    if frame.crs is None:
        raise InputError(f"{what}: GeoDataFrame has no CRS; expected {CRS} (set it explicitly)")
    geom = frame.geometry
    if not geom.crs.equals(CRS):
        geom = geom.to_crs(CRS)
    if len(geom) and not (geom.geom_type == "Point").all():
        bad = np.flatnonzero((geom.geom_type != "Point").to_numpy())[:5]
        raise InputError(f"{what}: geometry must be points; not a point on rows {bad.tolist()}")
    lat, lon = geom.y.to_numpy(dtype=float), geom.x.to_numpy(dtype=float)
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        bad = np.flatnonzero(~(np.isfinite(lat) & np.isfinite(lon)))[:5]
        raise InputError(f"{what}: empty or non-finite coordinates on rows {bad.tolist()}")
    return lat, lon


def places_latlon(places: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(demand_id as str, lat, lon) of a demand GeoDataFrame or a (lat, lon) pair of arrays."""
    if isinstance(places, gpd.GeoDataFrame):
        lat, lon = latlon_of(places, "places")
        ids = places["demand_id"] if "demand_id" in places.columns else places.index.to_series()
        return ids.astype(str).to_numpy(dtype=object), lat, lon
    if isinstance(places, tuple) and len(places) == 2:
        lat = np.atleast_1d(np.asarray(places[0], dtype=float))
        lon = np.atleast_1d(np.asarray(places[1], dtype=float))
        if lat.shape != lon.shape or lat.ndim != 1:
            raise InputError(
                f"places: lat and lon must have one shape, got {lat.shape}, {lon.shape}"
            )
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
        if bad.any():
            raise InputError(f"places: invalid coordinates at {np.flatnonzero(bad)[:5].tolist()}")
        return np.arange(len(lat)).astype(str).astype(object), lat, lon
    raise InputError(
        f"places must be a GeoDataFrame or a (lat, lon) tuple, got {type(places).__name__}"
    )


def points_latlon(points: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError(f"points must be a GeoDataFrame, got {type(points).__name__}")
    if "point_id" not in points.columns:
        raise InputError("points: missing column 'point_id'")
    lat, lon = latlon_of(points, "points")
    return points["point_id"].astype(str).to_numpy(dtype=object), lat, lon


def eligible(points: gpd.GeoDataFrame, where: Where | None) -> np.ndarray:
    if where is None:
        return np.ones(len(points), dtype=bool)
    mask = np.array(where.mask(points), dtype=bool)
    if mask.shape != (len(points),):
        raise ParameterError(
            f"where.mask(points) gave shape {mask.shape}, expected ({len(points)},)"
        )
    return mask


def check_time(max_time_s: float | None, name: str = "max_time_s") -> float:
    if max_time_s is None:
        return np.inf
    value = float(max_time_s)
    if not value > 0:
        raise ParameterError(f"{name} must be > 0 seconds, got {max_time_s!r}")
    return value
