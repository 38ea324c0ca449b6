"""Input coercion for the road-network queries (the sphere and coordinates: :mod:`relaynet.geo`)."""

from __future__ import annotations

from typing import Any, Protocol

import geopandas as gpd
import numpy as np

from ..errors import InputError, ParameterError
from ..geo import EARTH_RADIUS_M, check_latlon, chord_to_metres, earth_xyz, latlon
from ..geo import haversine_m as haversine_m

POINT_INFO = ("name", "network", "kind")
"""Point columns copied into the access table."""


class Where(Protocol):
    def mask(self, points: Any) -> np.ndarray: ...


xyz = earth_xyz
latlon_of = latlon


def chord_to_arc(chord_m: np.ndarray) -> np.ndarray:
    """Chord in metres (between :func:`xyz` coordinates) → great-circle metres."""
    return chord_to_metres(np.asarray(chord_m, dtype=float) / EARTH_RADIUS_M)


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
        check_latlon(lat, lon, "places")
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
