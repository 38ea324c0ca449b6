"""Write tables atomically: CSV (formula cells and headers neutralised), GeoJSON (EPSG:4326,
byte-identical for identical data) and strict JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .schema import CRS


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells starting with ``= + - @`` (or tab/CR) with ``'`` so spreadsheets show
    them as text instead of running them (CSV injection). Negative plain numbers such as
    ``"-3.5"`` are left alone; numeric columns are never touched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_neutralise_cell)
    # headers too: input column names are data (``=HYPERLINK(...)`` as a column name)
    out.columns = [_neutralise_cell(str(c)) for c in out.columns]
    return out


def _neutralise_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if value[0] != "-" or not _PLAIN_NUMBER.match(value):
            return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` as UTF-8 CSV atomically, geometry as WKT, formulas neutralised."""
    frame = pd.DataFrame(frame)
    if "geometry" in frame:
        frame["geometry"] = gpd.GeoSeries(frame["geometry"]).to_wkt()
    with atomic_path(path) as tmp:
        neutralise_formulas(frame).to_csv(tmp, index=False)
    return Path(path)


def write_geojson(frame: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write a GeoDataFrame as GeoJSON (EPSG:4326) atomically; the collection's ``name`` is
    the target's stem (never the temporary file's), so identical data give identical bytes."""
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.to_crs(CRS).to_file(tmp, driver="GeoJSON", layer=path.stem)
    return path


def json_ready(value):
    """``value`` with numpy scalars as Python numbers, NaN/±inf as ``None`` (strict JSON has
    no such numbers; ``None`` reads as "not available"), dates as ISO text, sets sorted."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(json_ready(v) for v in value)
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def write_json(data, path: str | os.PathLike) -> Path:
    """Write ``data`` as strict UTF-8 JSON (see :func:`json_ready`), indented, atomically."""
    text = json.dumps(json_ready(data), indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)
