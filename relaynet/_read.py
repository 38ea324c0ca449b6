"""Read a tabular or geographic file into raw values, with source row numbers.

Private helper of :mod:`relaynet.io`: no validation of values happens here, only of
the file itself (exists, readable, not empty, known format, CRS stated).
"""

from __future__ import annotations

import csv
import io as _stdio
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from .errors import InputError

CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf")
_DELIMITERS = (";", ",", "\t", "|")


@dataclass
class RawTable:
    """Values as read, before validation.

    ``frame`` holds the input columns; ``row_numbers`` the source line (CSV: 1-based line
    in the file, the header being line 1) or record number (other formats, 1-based);
    ``geometry`` the geometries when the file has them (already in EPSG:4326), else None.
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    geometry: gpd.GeoSeries | None
    source: str
    row_label: str = "line"


def suffix_of(path: Path) -> str:
    """Lower-case suffix, double for compressed files (``.csv.gz``, ``.osm.pbf``)."""
    name = path.name.lower()
    for suffix in CSV_SUFFIXES + OSM_SUFFIXES + PARQUET_SUFFIXES + GEO_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def read_raw(path: str | os.PathLike, *, layer: str | None = None, crs=None) -> RawTable:
    """Read ``path`` (CSV/TXT/TSV, GeoJSON, GeoPackage, Shapefile, GeoParquet/Parquet)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty, expected a header and data rows")
    suffix = suffix_of(path)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, crs)
    if suffix in GEO_SUFFIXES:
        return _read_geo(path, layer, crs)
    raise InputError(
        f"{path}: unknown file type {suffix!r}; expected CSV (.csv/.txt/.tsv), GeoJSON, "
        "GeoPackage (.gpkg), GeoParquet (.parquet) or OSM (.osm/.osm.pbf)"
    )


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        import gzip

        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise InputError(f"{path}: not a valid gzip file ({exc})") from None
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: looks like a binary file, expected delimited text (CSV)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_csv(path: Path) -> RawTable:
    text = _decode(path)
    if not text.strip():
        raise InputError(f"{path}: file is empty, expected a header and data rows")
    header = text.lstrip("\r\n").splitlines()[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        raise InputError(
            f"{path}: header {header[:80]!r} has no ';', ',', tab or '|' delimiter; expected "
            "a delimited file with a header row"
        )
    try:
        reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot parse as delimited text ({exc})") from None
    # Row numbers: physical line where each record starts (quoted newlines counted).
    line_numbers = []
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for _ in reader:
        line_numbers.append(start)
        start = reader.line_num + 1
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
        line_numbers.pop(0)
    header_row, body = rows[0], rows[1:]
    numbers = line_numbers[1:]
    # Empty lines at the end are not rows; any other line (even ";;;") is a row and is
    # accepted or rejected like the others.
    while body and not body[-1]:
        body.pop()
        numbers.pop()
    if not body:
        raise InputError(f"{path}: has a header but no data rows")
    names = [h.strip() for h in header_row]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{path}: duplicate column names {dupes}")
    width = len(names)
    fixed = [(r + [""] * width)[:width] if len(r) != width else r for r in body]
    frame = pd.DataFrame(fixed, columns=names, dtype=object)
    frame["__ncells__"] = [len(r) for r in body]
    return RawTable(frame, np.asarray(numbers, dtype=np.int64), None, str(path), "line")


def _to_wgs84(geoms: gpd.GeoSeries, path: Path, crs) -> gpd.GeoSeries:
    if geoms.crs is None:
        if crs is None:
            raise InputError(
                f"{path}: geometry has no CRS; pass crs= (e.g. 'EPSG:4326' or 'EPSG:2154')"
            )
        geoms = geoms.set_crs(crs)
    try:
        return geoms.to_crs(4326)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(
            f"{path}: cannot reproject from {geoms.crs} to EPSG:4326 ({exc})"
        ) from None


def _from_geodataframe(gdf: gpd.GeoDataFrame, path: Path, crs) -> RawTable:
    if len(gdf) == 0:
        raise InputError(f"{path}: has no features")
    geoms = _to_wgs84(gdf.geometry, path, crs)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    frame = frame.astype(object)
    numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, numbers, geoms.reset_index(drop=True), str(path), "record")


def _read_geo(path: Path, layer: str | None, crs) -> RawTable:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as a geographic file ({first})") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise InputError(f"{path}: has no geometry column")
    if gdf.crs is None and suffix_of(path) in (".geojson", ".json"):
        gdf = gdf.set_crs(4326)  # RFC 7946: GeoJSON is WGS84
    return _from_geodataframe(gdf, path, crs)


def _read_parquet(path: Path, crs) -> RawTable:
    try:
        gdf = gpd.read_parquet(path)
    except ValueError:
        # Plain Parquet without geo metadata: columns only (lat/lon or x/y expected).
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise InputError(f"{path}: cannot read as Parquet ({exc})") from None
        if len(frame) == 0:
            raise InputError(f"{path}: has no rows") from None
        numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
        return RawTable(frame.astype(object), numbers, None, str(path), "record")
    except Exception as exc:
        raise InputError(f"{path}: cannot read as GeoParquet ({exc})") from None
    return _from_geodataframe(gdf, path, crs)
