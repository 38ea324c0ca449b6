"""Demand read lazily, in partitions: GeoParquet/Parquet, CSV with lat/lon, or a frame."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, ParameterError
from ..io.schema import CRS
from ._cluster import require_dask

LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")

DEFAULT_ROWS_PER_PARTITION = 1_000_000
"""Rows per partition when an in-memory frame is split (≈ 100–200 MiB of work per task)."""


def _is_csv(path: str) -> bool:
    return path.lower().endswith((".csv", ".csv.gz", ".txt"))


def _pick(columns, names: tuple[str, ...], what: str, source: str) -> str:
    lowered = {str(c).lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    raise InputError(f"{source}: no {what} column (expected one of {list(names)})")


def read_demand(
    source: Any,
    *,
    columns: list[str] | None = None,
    npartitions: int | None = None,
    blocksize: str | int = "64MB",
):
    """Demand as a lazy dask-geopandas GeoDataFrame, one partition per task.

    Parameters
    ----------
    source
        A (Geo)Parquet file or directory / glob of part files (read with
        ``dask_geopandas.read_parquet``; one partition per file or row group); a CSV file or
        glob with latitude/longitude columns in degrees (``lat``/``latitude``,
        ``lon``/``lng``/``longitude``; read with ``dask.dataframe.read_csv`` in ``blocksize``
        chunks, with the delimiter, encoding and decimal comma the local loaders accept, a
        ``demand_id`` column is required); an in-memory GeoDataFrame; or a dask
        (geo)dataframe.
    columns
        Columns to read besides the geometry (the others are never loaded).
    npartitions
        Repartition to this many partitions (default: keep the source's partitioning; an
        in-memory frame gets one partition per :data:`DEFAULT_ROWS_PER_PARTITION` rows,
        at least two).
    blocksize
        CSV chunk size in bytes (or ``"64MB"``).

    Returns
    -------
    dask_geopandas.GeoDataFrame in EPSG:4326 (or the source CRS, converted per partition).
    """
    dask, _, dask_geopandas = require_dask()
    import dask.dataframe as dd

    if isinstance(source, gpd.GeoDataFrame):
        frame = source if columns is None else source[_keep(source.columns, columns)]
        n = npartitions or max(2, -(-len(frame) // DEFAULT_ROWS_PER_PARTITION))
        return dask_geopandas.from_geopandas(frame, npartitions=min(n, max(1, len(frame))))
    if isinstance(source, pd.DataFrame):
        raise ParameterError(
            "demand: a plain DataFrame has no geometry; pass a GeoDataFrame or a file"
        )
    if isinstance(source, dd.DataFrame):
        ddf = source
        if not isinstance(ddf, dask_geopandas.GeoDataFrame):
            ddf = _with_points(ddf, "demand frame")
    elif isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        matches = sorted(glob.glob(path)) if any(ch in path for ch in "*?[") else [path]
        if not matches or not all(Path(m).exists() for m in matches):
            raise InputError(f"{path}: no such demand file or directory")
        if _is_csv(matches[0]):
            ddf = _read_csv(path, matches, columns, blocksize)
        else:
            try:
                ddf = dask_geopandas.read_parquet(path, columns=_parquet_columns(columns))
            except (OSError, ValueError) as exc:
                raise InputError(f"{path}: cannot read as (Geo)Parquet ({exc})") from None
    else:
        raise ParameterError(
            f"demand: expected a path, a GeoDataFrame or a dask dataframe, got "
            f"{type(source).__name__}"
        )
    if npartitions is not None:
        if int(npartitions) < 1:
            raise ParameterError(f"npartitions={npartitions!r}: expected an integer ≥ 1")
        ddf = ddf.repartition(npartitions=int(npartitions))
    if ddf.crs is None:
        raise InputError("demand: the geometry has no CRS (expected EPSG:4326)")
    return ddf


def _read_csv(path: str, matches: list[str], columns: list[str] | None, blocksize):
    """A CSV (or glob of CSVs) in partitions, split as the local loaders split it: the
    delimiter (``;``, ``,``, tab, ``|``) and encoding of the first file found by
    :func:`relaynet.io.read.sniff_delimited`; coordinates read as text and parsed per
    partition like :func:`relaynet.io.load_demand` does (decimal comma accepted). A
    ``.gz`` file is one partition, and is first checked against
    :data:`relaynet.io.read.MAX_DECOMPRESSED_BYTES` (a gzip bomb stops here, not in a
    worker)."""
    import dask.dataframe as dd

    from ..io.read import decompressed_chunks, sniff_delimited

    delimiter, encoding = sniff_delimited(matches[0])
    if any(m.lower().endswith(".gz") for m in matches):
        for match in matches:
            for _ in decompressed_chunks(match):
                pass
        blocksize = None  # gzip cannot be split
    options = dict(sep=delimiter, encoding=encoding)
    head = pd.read_csv(matches[0], nrows=0, **options)
    lat = _pick(head.columns, LAT_NAMES, "latitude", path)
    lon = _pick(head.columns, LON_NAMES, "longitude", path)
    if "demand_id" not in head.columns:
        raise InputError(f"{path}: a CSV read in partitions needs a 'demand_id' column")
    wanted = None if columns is None else _keep(head.columns, [*columns, lat, lon])
    text = {"demand_id": str, "area_id": str, "area_name": str}
    if delimiter != ",":  # "45,2" is a number here: read as text, parse in the partition
        text.update({lat: str, lon: str})
    ddf = dd.read_csv(path, blocksize=blocksize, usecols=wanted, dtype=text, **options)
    return _with_points(ddf, path, lat, lon)


def _keep(available, wanted) -> list[str]:
    have = set(available)
    out = [c for c in dict.fromkeys(wanted) if c in have]
    geometry = [c for c in available if c == "geometry"]
    return out + [g for g in geometry if g not in out]


def _parquet_columns(columns: list[str] | None) -> list[str] | None:
    if columns is None:
        return None
    return [*dict.fromkeys([*columns, "geometry"])]


def _degrees(column: pd.Series) -> np.ndarray:
    """Coordinates as floats; text cells as the loaders read them (decimal comma)."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(float)
    from ..io.validate import numeric

    return numeric(column)[0]


def _points_partition(part: pd.DataFrame, lat: str, lon: str) -> gpd.GeoDataFrame:
    y = _degrees(part[lat])
    x = _degrees(part[lon])
    frame = part.drop(columns=[lat, lon])
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=CRS)


def _with_points(ddf, source: str, lat: str | None = None, lon: str | None = None):
    """Plain dask DataFrame with lat/lon columns → dask-geopandas frame of Points."""
    _, _, dask_geopandas = require_dask()
    lat = lat or _pick(ddf.columns, LAT_NAMES, "latitude", source)
    lon = lon or _pick(ddf.columns, LON_NAMES, "longitude", source)
    meta = _points_partition(ddf._meta, lat, lon)
    out = ddf.map_partitions(_points_partition, lat, lon, meta=meta)
    return dask_geopandas.from_dask_dataframe(out, geometry="geometry").set_crs(CRS)


__all__ = ["DEFAULT_ROWS_PER_PARTITION", "read_demand"]
